"""Fixtures of the reliability tests (docs/reliability.md): the front door is
run as a real subprocess (signals, process trees and exit codes are what is
under test) against this build; support/front_door.py runs it, support/procfs.py
inspects what is left, support/harness_files.py writes the short case."""
from __future__ import annotations

from pathlib import Path

import pytest

from support.build import BUILD, CERT, PEER, require_built


@pytest.fixture(scope="session")
def build() -> Path:
    """This build, with the peer and the credentials in it."""
    require_built(PEER, CERT)
    return BUILD
