"""next_connection: the library's context survives, so the second
handshake resumes the first connection's session (TLS 1.3 tickets the SUT
sent are handed back to the library for that)."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES, TLS_VERSIONS
from support.peers import cell


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_second_connection_resumes(progs, tls, role):
    peer = {"actions": [
        {"do": "send_data", "bytes": 10}, {"do": "expect_data", "bytes": 10},
        {"do": "expect_close_notify"}, {"do": "send_alert", "alert": "close_notify"},
        {"do": "next_connection"},
        {"do": "send_data", "bytes": 20}, {"do": "expect_close_notify"},
        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
    ]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "write", "bytes": 10},
           {"op": "shutdown"}, {"op": "read", "until": "close"}, {"op": "resume"},
           {"op": "read", "bytes": 20}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell(progs, peer, sut, tls=tls, role=role, connections=2)
    c.assert_clean()
    hs = c.ev("handshake")
    assert [(h["conn"], h["resumed"]) for h in hs] == [(1, False), (2, True)], c
    assert c.step(6)["outcome"] == "reused", c
    assert c.step(7)["pattern_ok"] and c.step(9)["outcome"] == "closed", c
    assert [e["conn"] for e in c.ev("tcp", what="close")] == [1, 2]
