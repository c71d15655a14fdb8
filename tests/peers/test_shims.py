"""Cross-checks of the peer against the project's shims (OpenSSL through
its C API, and GnuTLS): every suite in both roles, KeyUpdate requested by
the SUT, resumption. Skipped for a shim that is not built."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES, TLS_VERSIONS
from support.peers import SUITES, cell, shim_path, wire

SHIMS = ["openssl", "gnutls"]


@pytest.fixture(params=SHIMS)
def shim(request, progs):
    if not shim_path(progs, request.param).exists():
        pytest.skip(f"tlsclose-shim-{request.param} is not built")
    return request.param


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"{s[0]}-{s[1]}")
def test_data_and_close_notify(progs, shim, suite, role):
    tls, cipher = suite
    peer = {"actions": [{"do": "send_data", "bytes": 17000}, {"do": "expect_data", "bytes": 300},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 17000}, {"op": "write", "bytes": 300},
           {"op": "read", "until": "close"}, {"op": "shutdown"}]
    c = cell(progs, peer, sut, role=role, tls=tls, cipher=cipher, shim=shim)
    c.assert_clean()
    assert c.ev("handshake")[0]["cipher"] and c.expects("data")[0]["ok"], c
    assert c.step(2)["outcome"] == "data:17000", c
    assert c.step(4)["outcome"] == "closed", c
    assert c.expects("close_notify")[0]["ok"], c


@pytest.mark.parametrize("answer", [True, False])
@pytest.mark.parametrize("role", ROLES)
def test_sut_requests_key_update(progs, shim, role, answer):
    peer = {"answer_keyupdate": answer, "actions": [
        {"do": "expect_data", "bytes": 10}, {"do": "send_data", "bytes": 20},
        {"do": "expect_close_notify"}, {"do": "send_alert", "alert": "close_notify"},
        {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "keyupdate", "request_peer": True}, {"op": "write", "bytes": 10},
           {"op": "read", "bytes": 20}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell(progs, peer, sut, role=role, tls="1.3", shim=shim)
    c.assert_clean()
    ku = c.records(dir="recv", handshake="key_update")
    assert len(ku) == 1 and ku[0]["request_update"] is True and ku[0]["epoch"] == 0
    data = c.records(dir="recv", type="application_data")[0]
    assert (data["epoch"], data["seq"]) == (1, 0)
    sent = c.records(dir="sent", by="peer")
    if answer:
        assert sent[0]["handshake"] == "key_update" and sent[0]["request_update"] is False
        assert [r["epoch"] for r in sent[1:]] == [1, 1]
    else:
        assert [r["type"] for r in sent] == ["application_data", "alert"]
        assert [r["epoch"] for r in sent] == [0, 0]
    # The SUT read our data under whichever key we used: the answer is the
    # peer's to give or withhold.
    assert c.step(4)["outcome"] == "data:20", c
    assert c.step(6)["outcome"] == "closed", c


@pytest.mark.parametrize("role", ROLES)
def test_peer_key_update_then_close_notify(progs, shim, role):
    """R11: close_notify under a fresh key."""
    peer = {"actions": [{"do": "send_keyupdate"}, {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"}]
    c = cell(progs, peer, sut, role=role, tls="1.3", shim=shim)
    c.assert_clean()
    assert c.step(2)["outcome"] == "closed", c
    assert wire(c, "sent")[:2] == [("handshake", "key_update"), ("alert", 1, "close_notify")]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_resumption(progs, shim, tls, role):
    peer = {"actions": [
        {"do": "send_data", "bytes": 10}, {"do": "expect_data", "bytes": 10},
        {"do": "expect_close_notify"}, {"do": "send_alert", "alert": "close_notify"},
        {"do": "next_connection"}, {"do": "send_data", "bytes": 20},
        {"do": "expect_close_notify"}, {"do": "send_alert", "alert": "close_notify"},
        {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "write", "bytes": 10},
           {"op": "shutdown"}, {"op": "read", "until": "close"}, {"op": "resume"},
           {"op": "read", "bytes": 20}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell(progs, peer, sut, role=role, tls=tls, shim=shim, connections=2)
    c.assert_clean()
    assert [(h["conn"], h["resumed"]) for h in c.ev("handshake")] == [(1, False), (2, True)], c
    assert c.step(6)["outcome"] == "reused", c
    assert c.step(7)["outcome"] == "data:20" and c.step(9)["outcome"] == "closed", c
