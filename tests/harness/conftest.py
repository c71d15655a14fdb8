"""Shared helpers for the harness tests: case and stack files written to a
temporary directory, the CLI run in-process, fake peer and shim programs."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import cli  # noqa: E402
from harness.spec.case import load_case  # noqa: E402
from harness.spec.stack import load_stack  # noqa: E402

FAKES = Path(__file__).resolve().parent / "fakes"

VALID_CASE = """\
id = "example-case"
title = "An example case"
cites = ["S1", "S10"]
refs = ["SSL_shutdown(3) First to close the connection"]
why = "SSL_shutdown sends close_notify and returns 0 when it is first to close."

[peer]
personality = "well-behaved"

[[steps]]
op = "handshake"

[[steps]]
op = "shutdown"
label = "close"

[[steps]]
op = "read"
until = "close"
label = "drain"

[expect.rfc.outcomes]
close = "sent"
drain = "closed"

[[expect.rfc.must]]
ev = "record"
dir = "recv"
type = "alert"
alert = "close_notify"

[expect.api.steps]
close = {ret = 0, sent = true, received = false}
drain = {error = "SSL_ERROR_ZERO_RETURN", received = true}
"""

STACK = """\
name = "{name}"
title = "A fake stack"
api = "{api}"
command = ["{command}", "{shim}"]
env = {env}
tls = ["1.2", "1.3"]
roles = ["client", "server"]
io = ["blocking", "nonblocking", "memory"]
packages = ["libfake-dev"]
{extra}
"""


def write_case(directory: Path, text: str, name: str = "example-case") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def write_stack(directory: Path, name: str = "fake", api: str = "openssl",
                env: str = "{}", extra: str = "", shim: Path | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(STACK.format(name=name, api=api, command=sys.executable,
                                 shim=shim or FAKES / "fake_shim.py", env=env, extra=extra))
    return path


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
    def run(*argv: str) -> tuple[int, str, str]:
        rc = cli.main([str(a) for a in argv])
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
