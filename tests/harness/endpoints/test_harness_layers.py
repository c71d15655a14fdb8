"""The harness's layers import only downward: base < spec < run < output <
commands (harness/cli.py is the top). A module that reaches up would make the
layers one tangle; this test names the import."""
from __future__ import annotations

import ast

from conftest import ROOT

ORDER = ("base", "spec", "run", "output", "commands")


def upward_imports() -> list[str]:
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        rel = path.relative_to(ROOT / "harness").parts
        if len(rel) < 2 or rel[0] not in ORDER:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                parts = name.split(".")
                if parts[0] == "harness" and len(parts) > 1 and parts[1] in ORDER \
                        and ORDER.index(parts[1]) > ORDER.index(rel[0]):
                    found.append(f"harness/{'/'.join(rel)}:{node.lineno}: imports {name}")
    return found


def test_layers_import_only_downward():
    assert upward_imports() == []
