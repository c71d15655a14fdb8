"""Stalls (docs/peer.md "Stalls"): when the peer waits for the SUT inside an
action while the SUT waits for the peer, the harness tells the peer at once
and the peer goes on as after its timeout, its expectation saying
"stalled". A SUT that sleeps on short timers is never cut short."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.cells import run_shim_cell, stack_command

SLEEPER = Path(__file__).resolve().parent / "sut_sleeper.py"
PEER_TIMEOUT_MS = 4000
CLOSE_NOTIFY_THEN_CLOSE = {"actions": [
    {"do": "expect_close_notify", "timeout_ms": PEER_TIMEOUT_MS},
    {"do": "send_alert", "alert": "close_notify"},
    {"do": "close"},
]}


def run(progs, steps, peer=CLOSE_NOTIFY_THEN_CLOSE, transport="fd", shim=None, role="client"):
    """A TLS 1.3 SUT (client by default) against the peer: the sleeper
    double (Python's ssl, over sockets it is given), or the shim a stack
    file runs (its own blocking mode)."""
    cmd = stack_command(shim) if shim else [sys.executable, str(SLEEPER)]
    return run_shim_cell(progs, role, "1.3", "blocking" if shim else None, steps, peer,
                         deadline_ms=9000, transport=transport, shim_cmd=cmd)


def waited_ms(c, what: str) -> float:
    """How long the peer's action waited for `what`."""
    expect = c.expects(what)[0]
    action = [e for e in c.events if e["ev"] == "action" and e["ms"] <= expect["ms"]][-1]
    return expect["ms"] - action["ms"]


@pytest.mark.parametrize("shim,transport", [(None, "fd"),
                                            ("stacks/python-ssl/python-ssl.toml", "connect")])
def test_mutual_wait_ends_at_the_stall(progs, shim, transport):
    """The peer expects close_notify; the SUT reads until the close, waiting
    for the peer's. The expectation ends "stalled", well before its timeout,
    and the peer's close_notify then ends the SUT's read as it would have
    after the timeout. With transport "connect" the watch finds the
    connection the SUT made by the listening port."""
    c = run(progs, [{"op": "handshake"}, {"op": "read", "until": "close", "timeout_ms": 8000}],
            transport=transport, shim=shim)
    c.assert_clean()
    e = c.expects("close_notify")[0]
    assert e["ok"] is False and e["detail"] == "stalled", c.describe()
    assert waited_ms(c, "close_notify") < PEER_TIMEOUT_MS, c.describe()
    assert [s["outcome"] for s in c.steps] == ["ok", "closed"], c.describe()
    assert "--stall-fd" in c.peer.argv


def test_a_marker_wait_ends_at_the_stall(progs):
    """wait_marker while the SUT waits for data: the marker expectation is
    unmet and says why."""
    peer = {"actions": [{"do": "wait_marker", "marker": "never", "timeout_ms": PEER_TIMEOUT_MS},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run(progs, [{"op": "handshake"}, {"op": "read", "until": "close", "timeout_ms": 8000},
                    {"op": "signal_peer", "marker": "never"}], peer=peer)
    e = c.expects("marker")[0]
    assert e["ok"] is False and e["detail"] == "stalled waiting for marker 'never'", \
        c.describe()


@pytest.mark.parametrize("times", [1, 6])
def test_a_sut_sleeping_on_short_timers_is_not_cut_short(progs, times):
    """The SUT sleeps 100 ms (once, or six times in a row: longer than the
    stall window, each wake-up a sign of life), then sends close_notify:
    the peer's expectation is met. The SUT is the server, so that no
    session ticket waits unread in its socket: the processes alone must
    tell that it is not stuck."""
    steps = [{"op": "handshake"}, {"op": "sleep", "ms": 100, "times": times},
             {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = run(progs, steps, role="server")
    c.assert_clean()
    e = c.expects("close_notify")[0]
    assert e["ok"] is True, c.describe()
    assert [s["outcome"] for s in c.steps] == ["ok", "ok", "sent", "closed"], c.describe()


def test_a_sut_step_deadline_before_the_peer_timeout_is_left_to_fire(progs):
    """The SUT's own step deadline ends the mutual wait first: the stall is
    what the cell is about, so the peer is not told and the SUT's step times
    out as it would without stall detection."""
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}
    c = run(progs, [{"op": "handshake"}, {"op": "read", "until": "close", "timeout_ms": 600}],
            peer=peer)
    assert c.end.get("end") == "timeout" and c.end.get("step") == 2, c.describe()
    e = c.expects("close_notify")[0]
    assert e["ok"] is False and e["detail"] == "eof", c.describe()
