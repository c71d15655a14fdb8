"""The suite must catch what it claims to: stacks that lie about closing.

Each deliberately broken stack (liar_shim.py) wraps the real OpenSSL shim.
Against it, cells that pass on OpenSSL itself must FAIL, and for the reason
that names the lie: the return value and outcome for ret-one, the missing
close_notify on the wire for no-notify.
"""
from pathlib import Path

import pytest

from support.build import BIN
from support.front_door import results, tlsclose

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(not (BIN / "tlsclose-shim-openssl").exists(),
                                reason="the OpenSSL shim is not built")


def run(tmp_path, stack_file: str, case: str) -> list[dict]:
    out = tmp_path / "out"
    done = tlsclose("run", "--stack-file", HERE / stack_file, "--case", case, "--out", out,
                    timeout=300)
    assert done.returncode == 1, f"expected exit 1 (some FAIL):\n{done.stdout}{done.stderr}"
    return results(out)["cells"]


def failed(cell: dict) -> list[dict]:
    return [c for c in cell["checks"] if not c["ok"]]


def test_reporting_one_for_a_half_shutdown_fails(tmp_path):
    cells = run(tmp_path, "liar-ret-one.toml", "sut-closes-first-shutdown-returns-zero")
    assert cells
    for cell in cells:
        assert cell["verdict"] == "FAIL", cell["id"]
        whats = {(c["level"], c["what"]) for c in failed(cell)}
        # Returning before the peer answered is the SSL_shutdown(3) model (S10),
        # not an RFC rule: the liar, like OpenSSL, declares that model.
        assert ("model", "shutdown 'first_close' outcome") in whats, cell["id"]
        assert ("api", "shutdown 'first_close' ret") in whats, cell["id"]
        assert not [c for c in failed(cell) if c["level"] == "rfc"], cell["id"]


def test_claiming_an_unsent_close_notify_fails_on_the_wire(tmp_path):
    cells = run(tmp_path, "liar-no-notify.toml", "unidirectional-close-then-transport-close")
    assert cells
    for cell in cells:
        assert cell["verdict"] == "FAIL", cell["id"]
        # The outcomes look right (the lie is consistent); the wire gives it away.
        assert not [c for c in failed(cell) if c["what"].endswith("outcome")], cell["id"]
        assert any(c["level"] == "rfc" and c["rule"] == "close-notify-before-closing-write"
                   for c in failed(cell)), cell["id"]
