"""TLS 1.3 KeyUpdate in both directions against OpenSSL (Python's ssl).
Python cannot ask OpenSSL to send a KeyUpdate on its own, but OpenSSL
answers one the peer requests: that exercises the peer's read side."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES
from support.peers import cell


@pytest.mark.parametrize("role", ROLES)
def test_peer_write_key_update(progs, role):
    peer = {"actions": [{"do": "send_keyupdate"}, {"do": "send_data", "bytes": 50},
                        {"do": "send_keyupdate"}, {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 50}, {"op": "read", "until": "close"},
           {"op": "shutdown"}]
    c = cell(progs, peer, sut, role=role)
    c.assert_clean()
    assert c.step(2)["pattern_ok"] and c.step(3)["outcome"] == "closed", c
    sent = [(r["type"], r.get("request_update"), r["epoch"], r["seq"])
            for r in c.records(dir="sent", by="peer")]
    first = 2 if role == "server" else 0  # after the server library's two tickets
    assert sent == [("handshake", False, 0, first), ("application_data", None, 1, 0),
                    ("handshake", False, 1, 1), ("alert", None, 2, 0)]
    # R11: close_notify under the newest key is still read as a clean close.
    assert c.expects("close_notify")[0]["ok"]


@pytest.mark.parametrize("role", ROLES)
def test_sut_answers_requested_update(progs, role):
    """The peer requests an update; OpenSSL sends its KeyUpdate before its
    next record, and the peer reads on under the SUT's new key."""
    peer = {"actions": [{"do": "send_keyupdate", "request": True}, {"do": "send_data", "bytes": 5},
                        {"do": "expect_data", "bytes": 7}, {"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 5}, {"op": "write", "bytes": 7},
           {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell(progs, peer, sut, role=role)
    c.assert_clean()
    recv = [(r["type"], r.get("handshake"), r["epoch"]) for r in c.records(dir="recv")
            if r.get("handshake") != "new_session_ticket"]
    assert recv == [("handshake", "key_update", 0), ("application_data", None, 1),
                    ("alert", None, 1)], c
    ku = c.records(dir="recv", handshake="key_update")[0]
    assert ku["request_update"] is False
    assert c.expects("data")[0]["ok"] and c.expects("close_notify")[0]["ok"]
    assert c.step(5)["outcome"] == "closed"
