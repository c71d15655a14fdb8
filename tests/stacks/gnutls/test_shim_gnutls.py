"""The GnuTLS shim against the mock peer: every role x TLS version x IO mode,
the two want scenarios, truncation, and the steps GnuTLS cannot do.

Expected values restate docs/shim-protocol.md (GnuTLS section); where they
pin a GnuTLS behaviour, the test says which source line it comes from.
"""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES
from support.cells import EVENT_IO_MODES, matrix


def test_version(runner):
    runner.expect_version("gnutls", "native", "GnuTLS 3.", serve=True)


@pytest.mark.parametrize("role,tls,io", matrix())
def test_exchange_and_bidirectional_shutdown(cell, role, tls, io):
    sut = [
        {"op": "handshake"},
        {"op": "write", "bytes": 1000},
        {"op": "read", "bytes": 300},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
        {"op": "shutdown"},
    ]
    c = cell(role, tls, io, sut, {"personality": "well-behaved", "bytes": 300})
    c.assert_ran(["ok", "ok:1000", "data:300", "sent", "closed", "complete"])
    assert c.hello["library"].startswith("GnuTLS"), c.describe()
    assert all(s["flags"] is None for s in c.steps), c.describe()
    if io == "blocking":
        # GnuTLS 3.7 lib/record.c check_session_status: after handling a
        # post-handshake message (RECV_STATE_ASYNC_HANDSHAKE) the call
        # returns GNUTLS_E_AGAIN, on a blocking socket too: one want_read
        # per TLS 1.3 NewSessionTicket a client receives, and no other want.
        tickets = c.wire(ev="record", dir="sent", type="handshake",
                         handshake="new_session_ticket")
        wants = [w for s in c.steps for w in s["wants"]]
        expected = len(tickets) if (role, tls) == ("client", "1.3") else 0
        assert wants == ["want_read"] * expected, c.describe()
    got = sum(e["len"] for e in c.wire(ev="record", dir="recv", by="sut",
                                       type="application_data"))
    assert got == 1000, c.describe()
    assert c.sut_alerts("close_notify"), c.describe()
    assert c.wire(ev="record", dir="sent", by="peer", type="alert",
                  alert="close_notify"), c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_second_shutdown_sends_close_notify_again(cell, role, tls, io):
    """GnuTLS 3.7 lib/record.c gnutls_bye: a completed bye resets BYE_STATE
    to STATE0, so the next call starts over and gnutls_alert_send puts a
    second close_notify on the wire (alerts bypass may_not_write)."""
    sut = [
        {"op": "handshake"},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
        {"op": "shutdown"},
    ]
    c = cell(role, tls, io, sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "sent", "closed", "complete"])
    assert c.steps[3]["native"]["ret"] == 0, c.describe()
    assert len(c.sut_alerts("close_notify")) == 2, c.describe()


@pytest.mark.parametrize("role,tls,io", matrix(ios=EVENT_IO_MODES))
def test_peer_stops_reading_gives_want_write(cell, role, tls, io):
    peer = {"actions": [
        {"do": "stop_reading"},
        {"do": "wait_marker", "marker": "blocked"},
        {"do": "expect_close_notify"},
        {"do": "send_alert", "alert": "close_notify"},
        {"do": "close"},
    ]}
    # On loopback the first EAGAIN can be transient: ACKs processed late
    # (and send-buffer autotuning) free space right after it. Each further
    # until_blocked step only retries the record GnuTLS holds and stops at
    # the first want, so by the third the socket is full for good in
    # practice (0 of 960 cells at pytest -n 6, against ~6% with one step).
    blocked = {"op": "write", "bytes": 16384, "until_blocked": True}
    sut = [
        {"op": "handshake"},
        blocked, blocked, blocked,
        {"op": "shutdown", "nowait": True},
        {"op": "signal_peer", "marker": "blocked"},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
    ]
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "want_write", "want_write", "want_write", "want_write", "ok", "sent",
                   "closed"])
    bye = c.steps[4]
    assert bye["native"]["error"] == "GNUTLS_E_AGAIN", c.describe()
    assert bye["wants"] == ["want_write"] and bye["calls"] == 1, c.describe()
    assert c.sut_alerts("close_notify"), c.describe()


@pytest.mark.parametrize("role,tls,io", matrix(ios=EVENT_IO_MODES))
def test_peer_answers_late_gives_want_read_then_complete(cell, role, tls, io):
    peer = {"actions": [
        {"do": "expect_close_notify"},
        {"do": "wait_marker", "marker": "answer"},
        {"do": "send_alert", "alert": "close_notify"},
        {"do": "close"},
    ]}
    sut = [
        {"op": "handshake"},
        {"op": "shutdown"},
        {"op": "shutdown", "nowait": True},
        {"op": "signal_peer", "marker": "answer"},
        {"op": "shutdown"},
    ]
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "sent", "want_read", "ok", "complete"])
    wait = c.steps[2]
    assert wait["native"]["error"] == "GNUTLS_E_AGAIN", c.describe()
    assert wait["wants"] == ["want_read"], c.describe()
    assert c.steps[4]["native"]["ret"] == 0, c.describe()
    # The repeated SHUT_RDWR call resumes its state machine: two alerts in
    # all (the first bye's and the second bye's), not three.
    assert len(c.sut_alerts("close_notify")) == 2, c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_fin_without_close_notify_is_truncation(cell, role, tls, io):
    sut = [
        {"op": "handshake"},
        {"op": "read", "until": "close"},
    ]
    c = cell(role, tls, io, sut, {"personality": "no-close-notify", "bytes": 200})
    c.assert_ran(["ok", "truncated"])
    read = c.steps[1]
    assert read["bytes"] == 200, c.describe()
    assert read["native"]["error"] == "GNUTLS_E_PREMATURE_TERMINATION", c.describe()
    assert read["native"]["ret"] < 0 and read["native"]["queue"], c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_bye_rdwr_reports_success_on_fin_without_close_notify(cell, role, tls, io):
    """GnuTLS 3.7 lib/record.c _gnutls_recv_in_buffers, label recv_error:
    while waiting for an alert ("we were expecting close notify") any fatal
    receive error, EOF included, returns 0, so gnutls_bye(GNUTLS_SHUT_RDWR)
    returns 0 although the peer never sent close_notify."""
    sut = [
        {"op": "handshake"},
        {"op": "read", "bytes": 200},
        {"op": "shutdown_full"},
    ]
    c = cell(role, tls, io, sut, {"personality": "no-close-notify", "bytes": 200})
    c.assert_ran(["ok", "data:200", "complete"])
    assert c.steps[2]["native"]["ret"] == 0, c.describe()
    assert not c.wire(ev="record", dir="sent", by="peer", type="alert",
                      alert="close_notify"), c.describe()


@pytest.mark.parametrize("op", ["shutdown_quiet", "get_error_after"])
def test_unsupported_step_skips(cell, op):
    """No quiet mode and no error query in GnuTLS."""
    sut = [{"op": "handshake"}, {"op": op}]
    c = cell("client", "1.3", "blocking", sut, {"personality": "well-behaved"})
    assert c.run.sut.returncode == 77, c.describe()
    assert c.end.get("end") == "skip" and c.end.get("step") == 2, c.describe()
    assert c.end.get("message"), c.describe()


def test_get_shutdown_reports_unknown_flags(cell):
    """GnuTLS has no shutdown flags: the step says so and the script goes on."""
    sut = [{"op": "handshake"}, {"op": "get_shutdown"}, {"op": "shutdown"}]
    c = cell("client", "1.3", "blocking", sut, {"personality": "well-behaved"})
    assert c.run.sut.returncode == 0, c.describe()
    assert c.steps[1]["outcome"] == "unknown" and c.steps[1]["flags"] is None, c.describe()


@pytest.mark.parametrize("role", ROLES)
def test_keyupdate_then_close_notify_under_new_key(cell, role):
    sut = [
        {"op": "handshake"},
        {"op": "keyupdate", "request_peer": False},
        {"op": "write", "bytes": 100},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
    ]
    c = cell(role, "1.3", "nonblocking", sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "ok", "ok:100", "sent", "closed"])
    updates = c.wire(ev="record", dir="recv", by="sut", type="handshake",
                     handshake="key_update")
    assert len(updates) == 1, c.describe()
    assert c.sut_alerts("close_notify")[0]["epoch"] > updates[0]["epoch"], c.describe()


def test_keyupdate_is_refused_in_tls12(cell):
    sut = [{"op": "handshake"}, {"op": "keyupdate", "request_peer": False},
           {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell("client", "1.2", "blocking", sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "error:other", "sent", "closed"])
    assert c.steps[1]["native"]["error"] == "GNUTLS_E_INVALID_REQUEST", c.describe()


@pytest.mark.parametrize("role,tls", matrix(ios=None))
def test_write_after_shutdown_is_refused(cell, role, tls):
    sut = [
        {"op": "handshake"},
        {"op": "shutdown"},
        {"op": "write", "bytes": 10},
        {"op": "read", "until": "close"},
    ]
    c = cell(role, tls, "blocking", sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "sent", "error:shut_down", "closed"])
    assert c.steps[2]["native"]["error"] == "GNUTLS_E_INVALID_SESSION", c.describe()


# --cipher spelling -> the IANA name the peer reports.
CIPHERS = [
    ("1.3", "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
    ("1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
    ("1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ("1.2", "TLS_ECDHE_ECDSA_CHACHA20_POLY1305",
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
]


@pytest.mark.parametrize("tls,name,iana", CIPHERS, ids=[c[1] for c in CIPHERS])
def test_cipher_restriction(cell, tls, name, iana):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell("server", tls, "blocking", sut, {"personality": "well-behaved"},
             sut_args=["--cipher", name])
    c.assert_ran(["ok", "sent", "closed"])
    assert c.wire(ev="handshake", cipher=iana), c.describe()


def test_unknown_cipher_skips(cell):
    c = cell("client", "1.3", "blocking", [{"op": "handshake"}], {"personality": "well-behaved"},
             sut_args=["--cipher", "TLS_NO_SUCH_SUITE"])
    assert c.run.sut.returncode == 77 and c.end.get("end") == "skip", c.describe()
    assert "TLS_NO_SUCH_SUITE" in c.end.get("message", ""), c.describe()
