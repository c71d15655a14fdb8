"""Fixtures of the endpoint tests: endpoint and scenario files written to a
temporary directory, and the build tree the end-to-end tests run against."""
from __future__ import annotations

from pathlib import Path

import pytest

from support.build import BUILD, require_built


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
    """The build tree the end-to-end tests run against: a missing peer is a
    failure (a broken build must never look green)."""
    require_built()
    return BUILD
