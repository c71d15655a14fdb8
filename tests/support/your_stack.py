"""docs/your-stack.md as the tests read it: the code blocks the page marks
with `<!-- file: PATH -->`, the example shim built from its C block as the
page says, and stack files of one's own written to a directory.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .build import ROOT

DOC = ROOT / "docs" / "your-stack.md"


def doc_blocks() -> dict[str, str]:
    """Every fenced block the page marks with `<!-- file: PATH -->`."""
    text = DOC.read_text()
    found = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)^```$", text, re.S | re.M)
    return dict(found)


def build_example(tmp: Path) -> Path:
    """Compiles the doc's C block exactly as the page says."""
    src = tmp / "shim_example.c"
    src.write_text(doc_blocks()["stacks/example/shim_example.c"])
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "openssl", "json-c"],
                           capture_output=True, text=True, check=True).stdout.split()
    binary = tmp / "tlsclose-shim-example"
    done = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
                           str(src), *flags, "-o", str(binary)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return binary


def stack_file(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path
