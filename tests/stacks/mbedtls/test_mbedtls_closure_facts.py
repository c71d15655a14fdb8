"""What mbedTLS 2.28 reports at closure, pinned against the mock peer.

Each test restates one row of stacks/mbedtls/README.md ("What mbedTLS 2.28
does") and names the source in library/ssl_msg.c (tag v2.28.3) it follows
from. The findings among them are the [[known]] entries of
stacks/mbedtls/mbedtls.toml.
"""
from __future__ import annotations

import pytest

from support.cells import EVENT_IO_MODES, matrix

CLOSE = [{"do": "expect_close_notify"}, {"do": "close"}]


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_eof_without_close_notify_reads_as_zero(cell, role, io):
    """mbedtls_ssl_read turns MBEDTLS_ERR_SSL_CONN_EOF into 0 (line 5238):
    0 means the transport ended without close_notify."""
    c = cell(role, io, [{"op": "handshake"}, {"op": "read", "until": "close"}],
             {"personality": "no-close-notify", "bytes": 100})
    c.assert_ran(["ok", "truncated"])
    assert c.steps[1]["bytes"] == 100, c.describe()
    assert c.native(2) == {"ret": 0, "error": "", "queue": [], "errno": 0}, c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_fin_mid_record_is_the_same_zero(cell, role, io):
    """An EOF inside a record is CONN_EOF from mbedtls_ssl_fetch_input too
    (line 2001): mbedTLS does not tell it from an EOF between records."""
    c = cell(role, io, [{"op": "handshake"}, {"op": "read", "until": "close"}],
             {"personality": "truncating", "variant": "mid-record", "bytes": 100})
    c.assert_ran(["ok", "truncated"])
    assert c.native(2)["ret"] == 0, c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_reset_is_net_conn_reset(cell, role, io):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100},
           {"op": "signal_peer", "marker": "reset"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100}, {"do": "wait_marker", "marker": "reset"},
                        {"do": "rst"}]}
    c = cell(role, io, sut, peer)
    if io == "memory":  # the runner meets the reset and gives mbedTLS EOF
        c.assert_ran(["ok", "data:100", "ok", "truncated"])
        assert c.step(4)["transport"] == "reset", c.describe()
        return
    c.assert_ran(["ok", "data:100", "ok", "error:reset"])
    assert c.native(4)["error"] == "MBEDTLS_ERR_NET_CONN_RESET", c.describe()
    assert c.native(4)["errno"] == 104, c.describe()


def test_empty_records_read_as_zero(cell):
    """mbedtls_ssl_read skips ONE empty application-data record (line 5249,
    "OpenSSL sends empty messages to randomize the IV"); a second one in a
    row is returned as a read of 0 bytes, the value that means an EOF
    without close_notify (Mbed-TLS/mbedtls issues 6625, 9518). The shim
    reports what the application is told: `truncated`."""
    peer = {"actions": [{"do": "send_data", "bytes": 0, "records": [0, 0]},
                        {"do": "send_data", "bytes": 5},
                        {"do": "send_alert", "alert": "close_notify"}, *CLOSE]}
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "read"}, {"op": "read"},
           {"op": "shutdown"}]
    c = cell("client", "blocking", sut, peer)
    c.assert_ran(["ok", "truncated", "data:5", "closed", "complete"])


@pytest.mark.parametrize("alert,level,outcome", [
    ("handshake_failure", "fatal", "error:alert:handshake_failure"),
    (200, "fatal", "error:alert:unknown_200"),
    # TLS 1.2 reads the level byte: a fatal close_notify is a fatal alert
    # (mbedtls_ssl_handle_message_type, line 4703, before the close check).
    ("close_notify", "fatal", "error:alert:close_notify"),
])
def test_fatal_alerts(cell, alert, level, outcome):
    peer = {"actions": [{"do": "send_alert", "alert": alert, "level": level},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell("server", "nonblocking", [{"op": "handshake"}, {"op": "read"}], peer)
    c.assert_ran(["ok", outcome])
    assert c.native(2)["error"] == "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", c.describe()
    assert c.native(2)["queue"] == ["SSL - A fatal alert message was received from our peer"]


@pytest.mark.parametrize("alert", ["user_canceled", "unrecognized_name"])
def test_warning_alerts_are_skipped(cell, alert):
    """Non-closure warnings are dropped (MBEDTLS_ERR_SSL_NON_FATAL, line 4737)
    and reading goes on."""
    peer = {"actions": [{"do": "send_alert", "alert": alert, "level": "warning"},
                        {"do": "send_data", "bytes": 5},
                        {"do": "send_alert", "alert": "close_notify"}, *CLOSE]}
    c = cell("client", "memory", [{"op": "handshake"}, {"op": "read", "until": "close"},
                                  {"op": "shutdown"}], peer)
    c.assert_ran(["ok", "closed", "complete"])
    assert c.steps[1]["bytes"] == 5, c.describe()


@pytest.mark.parametrize("malformed", [{"fragment": 1}, {"trailing": "00"},
                                       {"coalesce": ["close_notify"]}])
def test_alert_records_must_be_two_bytes(cell, malformed):
    """in_msglen != 2 -> MBEDTLS_ERR_SSL_INVALID_RECORD (line 4689); no alert
    goes back."""
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify", **malformed},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell("client", "blocking", [{"op": "handshake"}, {"op": "read"},
                                    {"op": "close_transport"}], peer)
    c.assert_ran(["ok", "error:decode", "ok"])
    assert c.native(2)["error"] == "MBEDTLS_ERR_SSL_INVALID_RECORD", c.describe()
    assert c.sut_records(type="alert") == [], c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_every_close_notify_call_sends_an_alert(cell, role, io):
    """mbedtls_ssl_close_notify (line 5604) keeps no state: each call sends
    one more close_notify and returns 0."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "read_all", "timeout_ms": 3000}, {"do": "close"}]}
    c = cell(role, io, sut + [{"op": "close_transport"}], peer)
    c.assert_ran(["ok", "sent", "sent", "sent", "ok"])
    assert len(c.sut_alerts("close_notify")) == 3, c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_reading_goes_on_after_close_notify(cell, role, io):
    """Nothing records a received close_notify: the next read consumes the
    alert and returns what follows (ssl_consume_current_message, line 4210),
    then the EOF as 0."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "read"}, {"op": "read"}]
    c = cell(role, io, sut, {"personality": "data-after-close", "variant": "illegal",
                             "bytes": 100})
    c.assert_ran(["ok", "closed", "data:100", "truncated"])


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_writing_goes_on_after_close_notify(cell, role, io):
    """mbedtls_ssl_write checks no closure state (ssl_write_real, line 5468)."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "write", "bytes": 10},
           {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "expect_data", "bytes": 10},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell(role, io, sut, peer)
    c.assert_ran(["ok", "sent", "ok:10", "closed"])
    records = c.sut_records()
    kinds = [r["type"] for r in records if not r.get("takeover")]
    assert kinds == ["alert", "application_data"], c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_close_notify_after_a_fatal_alert_is_sent(cell, role, io):
    """A received fatal alert leaves ssl->state at HANDSHAKE_OVER, which is all
    mbedtls_ssl_close_notify checks."""
    peer = {"actions": [{"do": "send_alert", "alert": "internal_error", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 3000}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "close_transport"}]
    c = cell(role, io, sut, peer)
    c.assert_ran(["ok", "error:alert:internal_error", "sent", "ok"])
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()


def _stalled_peer(after_marker):
    return {"actions": [{"do": "stop_reading"}, {"do": "wait_marker", "marker": "read-now"},
                        *after_marker]}


@pytest.mark.parametrize("role,io", matrix(versions=None, ios=EVENT_IO_MODES))
def test_close_notify_behind_a_pending_write_is_dropped(cell, role, io):
    """mbedtls_ssl_send_alert_message (line 4782) only flushes when output is
    pending and returns the flush's result: WANT_WRITE, then 0, and the
    close_notify is never written (Mbed-TLS/mbedtls issue 8859)."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 16384, "until_blocked": True},
           {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "read-now"},
           {"op": "shutdown"}, {"op": "close_transport"}]
    # The peer reads everything up to the SUT's FIN.
    peer = _stalled_peer([{"do": "read_all"}, {"do": "close"}])
    c = cell(role, io, sut, peer)
    c.assert_ran(["ok", "want_write", "want_write", "ok", "sent", "ok"])
    assert c.native(3)["error"] == "MBEDTLS_ERR_SSL_WANT_WRITE", c.describe()
    assert c.native(5)["ret"] == 0, c.describe()
    assert c.sut_alerts("close_notify") == [], c.describe()
    # What the flush did send: the record the blocked write left pending.
    sent = sum(r["len"] for r in c.sut_records(type="application_data"))
    assert sent == c.steps[1]["bytes"] + 16384, c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None, ios=EVENT_IO_MODES))
def test_repeating_the_pending_write_first_lets_close_notify_out(cell, role, io):
    """What mbedtls_ssl_write's documentation asks for (repeat a write that
    returned WANT_WRITE with the same arguments) avoids the drop."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 16384, "until_blocked": True},
           {"op": "signal_peer", "marker": "read-now"}, {"op": "write", "bytes": 16384},
           {"op": "shutdown"}, {"op": "read", "until": "close"}]
    peer = _stalled_peer([{"do": "expect_close_notify"},
                          {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}])
    c = cell(role, io, sut, peer)
    c.assert_ran(["ok", "want_write", "ok", "ok:16384", "sent", "closed"])
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()


# A record that does not authenticate (application data, then handshake, 20
# bytes of noise), an unknown content type, an empty AEAD record.
FORGED = ["170303001400112233445566778899aabbccddeeff0011223344", "16030300050100000100"]
UNFRAMED = ["ff0303000100", "1703030000"]


@pytest.mark.parametrize("io", ["blocking", "memory"])
@pytest.mark.parametrize("hexs", FORGED + UNFRAMED)
def test_malformed_records_are_outcomes(cell, io, hexs):
    """INVALID_MAC gets a fatal bad_record_mac back (MBEDTLS_SSL_ALL_ALERT_MESSAGES,
    ssl_get_next_record); INVALID_RECORD gets no alert. Either way a later
    mbedtls_ssl_close_notify still sends a close_notify, after mbedTLS's own
    fatal alert too (RFC 5246 §7.2.2 wants the connection closed at once)."""
    peer = {"actions": [{"do": "send_raw", "hex": hexs}, {"do": "read_all"}, {"do": "close"}]}
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "close_transport"}]
    c = cell("client", io, sut, peer)
    c.assert_ran(["ok", "error:decode", "sent", "ok"])
    alerts = [(r["level"], r["alert"]) for r in c.sut_records(type="alert")]
    if hexs in FORGED:
        assert c.native(2)["error"] == "MBEDTLS_ERR_SSL_INVALID_MAC", c.describe()
        assert alerts == [("fatal", "bad_record_mac"), ("warning", "close_notify")]
    else:
        assert c.native(2)["error"] == "MBEDTLS_ERR_SSL_INVALID_RECORD", c.describe()
        assert alerts == [("warning", "close_notify")], c.describe()
