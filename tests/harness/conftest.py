"""Fixtures for the harness tests (tests/harness/*): case and stack files in
a temporary directory (support/harness_files.py writes them), the CLI run
in-process, and a build tree whose peer is the fake one."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from harness import cli
from harness.spec.case import load_case
from harness.spec.stack import load_stack
from support.harness_files import FAKES, VALID_CASE, write_case, write_stack


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    return tmp_path / "cases"


@pytest.fixture
def make_case(case_dir: Path):
    def make(text: str = VALID_CASE, name: str = "example-case"):
        return load_case(write_case(case_dir, text, name))
    return make


@pytest.fixture
def make_stack(tmp_path: Path):
    def make(**kw):
        return load_stack(write_stack(tmp_path / "stacks", **kw))
    return make


@pytest.fixture
def run_cli(capsys):
    """`./tlsclose COMMAND ARGS...` in this process. Always --no-build: a
    harness test never installs packages (the fake stacks name packages that
    do not exist) nor builds; the build is the test's (TLSCLOSE_BUILD_DIR or
    a fake one)."""
    def run(command: str, *argv: str) -> tuple[int, str, str]:
        rc = cli.main([str(command), "--no-build", *(str(a) for a in argv)])
        out, err = capsys.readouterr()
        return rc, out, err
    return run


@pytest.fixture
def fake_build(tmp_path: Path) -> Path:
    """A build tree with a fake peer and credentials, as the runner expects."""
    build = tmp_path / "build"
    (build / "bin").mkdir(parents=True)
    (build / "credentials").mkdir()
    for name in ("cert.pem", "key.pem"):
        (build / "credentials" / name).write_text("not a real key\n")
    peer = build / "bin" / "tlsclose-peer"
    peer.write_text(f"#!{sys.executable}\nimport runpy, sys\n"
                    f"sys.argv[0] = {str(FAKES / 'fake_peer.py')!r}\n"
                    f"runpy.run_path(sys.argv[0], run_name='__main__')\n")
    peer.chmod(peer.stat().st_mode | stat.S_IXUSR)
    return build
