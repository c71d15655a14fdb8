"""Helpers for the your-stack tests: the code blocks of docs/your-stack.md,
building the example shim from them, `tlsclose run` in a subprocess.

There is deliberately no conftest.py here (see tests/reports/reports_testlib.py):
test modules import what they use from this module.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build").resolve()
DOC = ROOT / "docs" / "your-stack.md"
PYTHON = "/usr/bin/python3"
RUN_S = 600

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def doc_blocks() -> dict[str, str]:
    """Every fenced block the page marks with `<!-- file: PATH -->`."""
    text = DOC.read_text()
    found = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)^```$", text, re.S | re.M)
    return dict(found)


def require_build() -> None:
    missing = [p for p in (BUILD / "bin" / "tlsclose-peer", BUILD / "credentials" / "cert.pem")
               if not p.exists()]
    if missing:
        pytest.fail("not built: " + ", ".join(map(str, missing)))


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


def stack_file(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def run(out: Path, *args: str) -> tuple[int, dict | None, str]:
    argv = [PYTHON, str(ROOT / "tlsclose"), "run", "--no-build", "--build-dir", str(BUILD),
            "--out", str(out), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_S)
    path = out / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else None
    return done.returncode, doc, done.stdout + done.stderr
