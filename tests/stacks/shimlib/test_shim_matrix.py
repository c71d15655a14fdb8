"""Every role x TLS version x IO mode: handshake, data both ways and a
bidirectional shutdown against the mock peer's well-behaved personality.

The ids carry the IO mode as "io_<mode>" so that ctest can run one mode per
entry (pytest -k io_memory).
"""
from __future__ import annotations

import pytest

from support.cells import matrix

CELLS = matrix()

# The peer sends PEER_BYTES, then reads until the SUT's close_notify and
# answers with its own.
PEER_BYTES = 3000
SUT_BYTES = 40000  # several records, more than the memory-mode BIO holds


def script() -> list[dict]:
    return [
        {"op": "handshake"},
        {"op": "read", "bytes": PEER_BYTES},
        {"op": "write", "bytes": SUT_BYTES},
        {"op": "shutdown"},
        {"op": "get_shutdown"},
        {"op": "read", "until": "close"},
        {"op": "shutdown"},
        {"op": "get_shutdown"},
    ]


@pytest.mark.parametrize("role,tls,io", CELLS)
def test_well_behaved_exchange(runner, role, tls, io):
    cell = runner.cell(role, tls, io, script(),
                       {"personality": "well-behaved", "bytes": PEER_BYTES})
    cell.expect_exit(0)
    assert cell.end == {"end": "ok"}
    hello = cell.hello
    assert (hello["shim"], hello["api"], hello["role"], hello["tls"], hello["io"]) == \
        ("openssl", "openssl", role, tls, io), hello
    assert hello["library"].startswith("OpenSSL 3."), hello
    cell.expect_step(1, outcome="ok", ret=1, flags=(False, False))
    cell.expect_step(2, outcome=f"data:{PEER_BYTES}", bytes=PEER_BYTES)
    cell.expect_step(3, outcome=f"ok:{SUT_BYTES}", bytes=SUT_BYTES)
    cell.expect_step(4, outcome="sent", ret=0, flags=(True, False))
    cell.expect_step(5, outcome="sent")
    cell.expect_step(6, outcome="closed", error="SSL_ERROR_ZERO_RETURN", flags=(True, True))
    cell.expect_step(7, outcome="complete", ret=1, flags=(True, True))
    cell.expect_step(8, outcome="sent+received")
    assert cell.bytes_received() == SUT_BYTES, cell.describe()
    assert cell.alerts_received() == ["close_notify"], cell.describe()
    assert cell.peer.returncode == 0, cell.describe()


@pytest.mark.parametrize("role,tls,io", matrix(ios=("blocking", "memory")))
def test_wants_where_the_mode_has_them(runner, role, tls, io):
    """Blocking: OpenSSL's default SSL_MODE_AUTO_RETRY hides records without
    data, so no want reaches the application. Memory: the library starts with
    empty buffers, so its first handshake call always wants to read. (In
    nonblocking mode whether a want shows depends on timing;
    tests/stacks/openssl/test_shim_wants.py makes them happen on purpose.)"""
    cell = runner.cell(role, tls, io, script(),
                       {"personality": "well-behaved", "bytes": PEER_BYTES})
    cell.expect_exit(0)
    if io == "blocking":
        wants = [w for line in cell.steps for w in line["wants"]]
        assert wants == [], cell.describe()
    else:
        cell.expect_step(1, outcome="ok", wants_include="want_read")
