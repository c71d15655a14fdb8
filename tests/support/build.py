"""Where the tests find the repository, the build tree and its programs.

BUILD is $TLSCLOSE_BUILD_DIR (every ctest entry sets it to its own build
tree), else build/ of the repository. BIN, CERT and KEY follow it unless
$TLSCLOSE_BIN, $TLSCLOSE_CERT or $TLSCLOSE_KEY point elsewhere.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"       # the interpreter the project runs with
BUILD = Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build").resolve()
BIN = Path(os.environ.get("TLSCLOSE_BIN") or BUILD / "bin")
CERT = Path(os.environ.get("TLSCLOSE_CERT") or BIN.parent / "credentials" / "cert.pem")
KEY = Path(os.environ.get("TLSCLOSE_KEY") or BIN.parent / "credentials" / "key.pem")
PEER = BIN / "tlsclose-peer"


def require_built(*paths: Path) -> None:
    """Fails the test when a program or credential is not built: a broken
    build must never look green. Without arguments: the peer and the
    credentials, which every cell needs."""
    gone = [str(p) for p in paths or (PEER, CERT, KEY) if not p.exists()]
    if gone:
        pytest.fail("not built: " + ", ".join(gone))
