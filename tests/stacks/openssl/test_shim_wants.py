"""Wants made to happen on purpose, in the nonblocking and memory modes.

Markers make the orderings deterministic: the peer does nothing until the
SUT signals it, so a want the SUT reports before the signal cannot be an
accident of timing.
"""
from __future__ import annotations

import pytest

from support.cells import EVENT_IO_MODES, matrix

CELLS = matrix(ios=EVENT_IO_MODES)

RECORD = 16384


@pytest.mark.parametrize("role,tls,io", CELLS)
def test_peer_answers_late_want_read(runner, role, tls, io):
    """The second shutdown with nowait finds no close_notify: WANT_READ.
    Once the peer answers, shutdown completes (1)."""
    steps = [
        {"op": "handshake"},
        {"op": "shutdown"},
        {"op": "shutdown", "nowait": True},
        {"op": "signal_peer", "marker": "answer"},
        {"op": "shutdown"},
    ]
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "wait_marker", "marker": "answer"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    cell = runner.cell(role, tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="sent", ret=0, flags=(True, False))
    line = cell.expect_step(3, outcome="want_read", ret=-1, error="SSL_ERROR_WANT_READ",
                            flags=(True, False))
    assert line["calls"] == 1 and line["wants"][-1] == "want_read", cell.describe()
    cell.expect_step(5, outcome="complete", ret=1, flags=(True, True))
    assert cell.alerts_received() == ["close_notify"], cell.describe()


def blocked_writer_steps(then: list[dict]) -> list[dict]:
    return [{"op": "handshake"}, {"op": "write", "bytes": RECORD, "until_blocked": True}, *then]


def stalled_peer(then: list[dict]) -> dict:
    return {"actions": [{"do": "stop_reading"}, {"do": "wait_marker", "marker": "drain"}, *then]}


def expect_blocked_write(cell) -> int:
    line = cell.expect_step(2, outcome="want_write", error="SSL_ERROR_WANT_WRITE",
                            flags=(False, False))
    assert line["bytes"] >= RECORD and line["bytes"] % RECORD == 0, cell.describe()
    # The runner writes on after a want_write until the stall is for good
    # (shim_io_send_stalled), so there may be several, all want_write.
    assert line["wants"] and set(line["wants"]) == {"want_write"}, cell.describe()
    return line["bytes"]


@pytest.mark.parametrize("role,tls,io", CELLS)
def test_stalled_peer_want_write_then_complete(runner, role, tls, io):
    """The SUT writes until the peer's stalled window blocks it (WANT_WRITE);
    after the peer drains, repeating the same write completes it, and the
    bidirectional shutdown follows."""
    steps = blocked_writer_steps([
        {"op": "signal_peer", "marker": "drain"},
        {"op": "write", "bytes": RECORD},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
        {"op": "shutdown"},
    ])
    peer = stalled_peer([{"do": "expect_close_notify"},
                         {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}])
    cell = runner.cell(role, tls, io, steps, peer)
    cell.expect_exit(0)
    written = expect_blocked_write(cell)
    cell.expect_step(4, outcome=f"ok:{RECORD}")
    cell.expect_step(5, outcome="sent", flags=(True, False))
    cell.expect_step(6, outcome="closed", flags=(True, True))
    cell.expect_step(7, outcome="complete", ret=1)
    assert cell.bytes_received() == written + RECORD, cell.describe()
    assert cell.alerts_received() == ["close_notify"], cell.describe()


@pytest.mark.parametrize("role,tls,io", CELLS)
def test_stalled_peer_shutdown_want_write(runner, role, tls, io):
    """shutdown (nowait) while the blocked write is pending: WANT_WRITE, with
    SSL_SENT_SHUTDOWN already set. OpenSSL 3.0 cannot finish from there: the
    repeated SSL_shutdown fails with "bad write retry" (the pending record is
    application data, the retry writes an alert: ssl3_write_pending), and
    SSL_write is refused after shutdown, so the peer never gets the rest of
    the record nor a close_notify. The shim still ends on its own, without
    spinning on the stale want a later read reports."""
    steps = blocked_writer_steps([
        {"op": "shutdown", "nowait": True},
        {"op": "signal_peer", "marker": "drain"},
        {"op": "shutdown"},
        {"op": "read", "timeout_ms": 3000},
        {"op": "write", "bytes": RECORD},
    ])
    peer = stalled_peer([{"do": "read_all"}, {"do": "close"}])
    cell = runner.cell(role, tls, io, steps, peer)
    cell.expect_exit(0)
    assert cell.end == {"end": "ok"}
    expect_blocked_write(cell)
    line = cell.expect_step(3, outcome="want_write", ret=-1, error="SSL_ERROR_WANT_WRITE",
                            flags=(True, False))
    assert line["calls"] == 1, cell.describe()
    cell.expect_step(5, outcome="error:protocol", error="SSL_ERROR_SSL", queue="bad write retry")
    # After the fatal error SSL_get_error answers from a stale state (the
    # last IO was a write): the runner reports that want at once instead of
    # polling a ready socket until the deadline.
    line = cell.expect_step(6, outcome="want_write", ret=-1, error="SSL_ERROR_WANT_WRITE")
    assert line["ms"] < 1000, cell.describe()
    cell.expect_step(7, outcome="error:shut_down", queue="protocol is shutdown")
    assert cell.alerts_received() == [], cell.describe()
