"""Where the project's own files are: the one place that knows the layout.

Every module that needs the source tree asks here instead of counting
`parent` steps from its own file, so a module can move without breaking.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "cases"
STACKS_DIR = ROOT / "stacks"
ENDPOINTS_DIR = ROOT / "endpoints"
SCHEMAS_DIR = ROOT / "schemas"


def build_dir() -> Path:
    """The build tree: $TLSCLOSE_BUILD_DIR or build/ under the root."""
    return Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build")


def daemon_socket(build: Path) -> Path:
    """The socket of the harness daemon the ctest matrix entries talk to."""
    return build / "matrix" / "daemon.sock"


def daemon_stats(socket_path: Path) -> Path:
    """Where a daemon leaves what it cost when it ends: it is no child of
    whoever ran ctest, so its CPU time would otherwise go unseen."""
    return socket_path.with_name(socket_path.name + ".stats.json")
