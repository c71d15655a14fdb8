"""Helpers for the endpoint tests: the repository on sys.path, the build
tree, endpoint and scenario files written to a temporary directory, and
synthetic cell records for the judge."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BUILD = Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build")


@pytest.fixture
def write(tmp_path):
    """write(name, text) -> the path of tmp_path/name with text in it."""
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path
    return _write


@pytest.fixture
def build_ready():
    """The build tree the end-to-end tests run against (skip when absent)."""
    peer = BUILD / "bin" / "tlsclose-peer"
    if not os.access(peer, os.X_OK):
        pytest.skip(f"no mock peer in {BUILD}: build the project first")
    return BUILD
