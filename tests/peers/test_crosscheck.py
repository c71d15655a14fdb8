"""The peer's record layer against OpenSSL (Python's ssl) for every suite
the peer supports, in both roles: data both ways, the records the library
sent after the handshake, close_notify, and data after close_notify."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES, TLS_VERSIONS
from support.peers import SUITES, cell, pattern


def ids(p):
    return f"{p[0]}-{p[1]}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("suite", SUITES, ids=ids)
def test_data_both_ways_and_close_notify(progs, suite, role):
    tls, cipher = suite
    peer = {"actions": [
        {"do": "send_data", "bytes": 20000, "records": [1, 16384, 0, 3615]},
        {"do": "expect_data", "bytes": 300},
        {"do": "send_alert", "alert": "close_notify"},
        {"do": "expect_close_notify"},
        {"do": "close"},
    ]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 20000}, {"op": "write", "bytes": 300},
           {"op": "read", "until": "close"}, {"op": "shutdown"}]
    c = cell(progs, peer, sut, role=role, tls=tls, cipher=cipher)
    c.assert_clean()
    hs = c.ev("handshake")[0]
    assert hs["tls"] == tls and hs["resumed"] is False
    assert c.step(1)["cipher"] == cipher
    # What the peer sent arrived intact (OpenSSL checked every tag).
    assert c.step(2)["outcome"] == "data:20000" and c.step(2)["pattern_ok"], c
    sent = c.records(dir="sent", by="peer", type="application_data")
    assert [r["len"] for r in sent] == [1, 16384, 0, 3615]
    # What the SUT sent was decrypted.
    got = c.records(dir="recv", type="application_data")
    assert sum(r["len"] for r in got) == 300 and got[0]["hex"] == pattern(300)
    assert c.expects("data")[0]["ok"]
    # OpenSSL saw our close_notify as a clean close (SSL_ERROR_ZERO_RETURN).
    assert c.step(4)["outcome"] == "closed", c
    assert c.step(5)["outcome"] == "complete", c
    assert c.expects("close_notify")[0]["ok"], c
    assert [e["what"] for e in c.ev("tcp")] == ["fin", "eof", "close"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_sequence_numbers_continue_from_the_library(progs, tls, role):
    """TLS 1.3: tickets the server's library sent after its Finished are
    counted (the peer's first record is seq 2 and OpenSSL accepts it);
    TLS 1.2: Finished is seq 0 in both directions."""
    peer = {"actions": [{"do": "send_data", "bytes": 10}, {"do": "expect_data", "bytes": 10},
                        {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "write", "bytes": 10}]
    c = cell(progs, peer, sut, role=role, tls=tls)
    c.assert_clean()
    assert c.step(2)["pattern_ok"] and c.step(2)["outcome"] == "data:10", c
    sent = c.records(dir="sent")
    recv = c.records(dir="recv")
    if tls == "1.2":
        assert [(r["by"], r["handshake"], r["seq"]) for r in sent[:1]] == [("library", "finished", 0)]
        assert [(r["handshake"], r["seq"]) for r in recv[:1]] == [("finished", 0)]
        assert sent[1]["seq"] == 1 and recv[1]["seq"] == 1
    elif role == "server":
        lib = c.records(dir="sent", by="library")
        assert [(r["handshake"], r["seq"]) for r in lib] == [("new_session_ticket", 0),
                                                           ("new_session_ticket", 1)]
        assert c.records(dir="sent", by="peer")[0]["seq"] == 2
    else:
        tickets = c.records(dir="recv", handshake="new_session_ticket")
        assert [r["seq"] for r in tickets] == [0, 1]
        assert c.records(dir="recv", type="application_data")[0]["seq"] == 2
        assert c.records(dir="sent", by="peer")[0]["seq"] == 0


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_data_after_own_close_notify_is_not_delivered(progs, tls, role):
    """The peer sends close_notify, then application data under valid keys.
    OpenSSL reports the close and never hands out the data (RFC 8446 §6.1:
    data after a closure alert must be ignored)."""
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "send_data", "bytes": 100},
                        {"do": "signal_sut", "marker": "sent"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "wait_peer", "marker": "sent"},
           {"op": "read", "until": "close"}, {"op": "read", "until": "close"},
           {"op": "shutdown"}]
    c = cell(progs, peer, sut, role=role, tls=tls)
    c.assert_clean()
    assert c.step(3)["outcome"] == "closed" and c.step(3)["bytes"] == 0, c
    assert c.step(4)["outcome"] == "closed" and c.step(4)["bytes"] == 0, c
    assert c.records(dir="sent", by="peer", type="application_data")[0]["len"] == 100
    # The SUT's close_notify after that still arrives at the right sequence number.
    assert c.expects("close_notify")[0]["ok"], c
