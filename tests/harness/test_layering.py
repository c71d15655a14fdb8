"""The harness in layers (docs/architecture.md): every module imports only
from its own layer or the layers below, reports/ only from harness/base,
and no module imports another in a circle."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"base": 0, "spec": 1, "run": 2, "output": 3, "commands": 4}
TOP = {"harness.cli": 5, "harness.prepare": 5}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in ("harness", "reports"):
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(p for p in parts if p != "__init__")
            out[name] = path
    return out


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            subs = {f"{base}.{a.name}" for a in node.names}
            # `from pkg import module` depends on the module, not on pkg/__init__.
            found |= subs if subs & modules else {base}
    return {i for i in found if i.split(".")[0] in ("harness", "reports")}


def _layer(name: str) -> int | None:
    if name in TOP:
        return TOP[name]
    parts = name.split(".")
    return LAYERS.get(parts[1]) if parts[0] == "harness" and len(parts) > 1 else None


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: {i for i in _imports(path, name, set(mods)) if i in mods}
            for name, path in mods.items()}


def test_each_layer_imports_only_downward():
    wrong = []
    for name, deps in _graph().items():
        mine = _layer(name)
        for dep in deps:
            if name.startswith("reports"):
                if dep.startswith("harness") and not dep.startswith("harness.base"):
                    wrong.append(f"{name} imports {dep} (reports read results.json only)")
                continue
            theirs = _layer(dep)
            if dep.startswith("reports") and (mine is None or mine < LAYERS["output"]):
                wrong.append(f"{name} imports {dep} (only output and commands write reports)")
            elif mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{name} (layer {mine}) imports {dep} (layer {theirs})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                circles.append(" -> ".join(path[path.index(dep):] + [dep]) if dep in path
                               else f"{node} -> {dep}")
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, "\n".join(circles)


def test_the_cli_table_names_only_command_modules():
    import sys
    sys.path.insert(0, str(ROOT)) if str(ROOT) not in sys.path else None
    from harness import cli
    for name, (module, text) in cli.COMMANDS.items():
        assert module.startswith("harness.commands."), module
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module
        assert text and "\n" not in text
