"""The GnuTLS shim's error table (docs/shim-protocol.md, GnuTLS section)
against what the mock peer does: one row per documented mapping."""
from __future__ import annotations

import pytest

from support.cells import SOCKET_IO_MODES

ERRNO_ECONNRESET = 104


def _then_close(*actions):
    return {"actions": [*actions, {"do": "read_all"}, {"do": "close"}]}


# id: (tls, peer script, read outcome, native error)
READ_ROWS = {
    "fatal-alert": ("1.2", _then_close({"do": "send_alert", "alert": "internal_error"}),
                    "error:alert:internal_error", "GNUTLS_E_FATAL_ALERT_RECEIVED"),
    "tls12-warning-user-canceled": (
        "1.2", _then_close({"do": "send_alert", "alert": "user_canceled"}),
        "error:warning_alert:user_canceled", "GNUTLS_E_WARNING_ALERT_RECEIVED"),
    # lib/record.c line 905: under TLS 1.3 every non-closure alert is fatal.
    "tls13-user-canceled-is-fatal": (
        "1.3", _then_close({"do": "send_alert", "alert": "user_canceled"}),
        "error:alert:user_canceled", "GNUTLS_E_FATAL_ALERT_RECEIVED"),
    "unknown-alert": ("1.2", _then_close({"do": "send_alert", "alert": 200, "level": "warning"}),
                      "error:warning_alert:unknown_200", "GNUTLS_E_WARNING_ALERT_RECEIVED"),
    # lib/record.c line 892 tests the level byte before the description.
    "tls13-fatal-level-close-notify": (
        "1.3", _then_close({"do": "send_alert", "alert": "close_notify", "level": "fatal"}),
        "error:alert:close_notify", "GNUTLS_E_FATAL_ALERT_RECEIVED"),
    "bad-record": ("1.2", _then_close(
        {"do": "send_raw", "hex": "1703030010000102030405060708090a0b0c0d0e0f"}),
        "error:decode", "GNUTLS_E_DECRYPTION_FAILED"),
    "fin-mid-record": ("1.3", {"personality": "truncating", "variant": "mid-record", "bytes": 100},
                       "error:decode", "GNUTLS_E_UNEXPECTED_PACKET_LENGTH"),
    "fragmented-alert": ("1.3", _then_close(
        {"do": "send_alert", "alert": "close_notify", "fragment": 1}),
        "error:protocol", "GNUTLS_E_UNEXPECTED_PACKET"),
    # lib/record.c line 867 rejects only alert records shorter than 2 bytes.
    "alert-with-trailing-byte": ("1.3", _then_close(
        {"do": "send_alert", "alert": "close_notify", "trailing": "00"}),
        "closed", ""),
    "data-after-own-close-notify": (
        "1.2", {"personality": "data-after-close", "variant": "illegal", "bytes": 100},
        "closed", ""),
}


@pytest.mark.parametrize("row", list(READ_ROWS))
def test_read_outcome(cell, row):
    tls, peer, outcome, error = READ_ROWS[row]
    # A non-fatal warning ends a single read; "until close" reads past it.
    read = {"op": "read"} if outcome.startswith("error:warning_alert:") \
        else {"op": "read", "until": "close"}
    c = cell("client", tls, "blocking", [{"op": "handshake"}, read], peer)
    c.assert_ran(["ok", outcome])
    assert c.steps[1]["native"]["error"] == error, c.describe()


def test_read_until_close_reads_past_a_warning(cell):
    peer = _then_close({"do": "send_alert", "alert": "user_canceled"},
                       {"do": "send_alert", "alert": "close_notify"})
    c = cell("client", "1.2", "blocking", [{"op": "handshake"}, {"op": "read", "until": "close"}],
             peer)
    c.assert_ran(["ok", "closed"])
    assert c.steps[1]["read_past"] == ["error:warning_alert:user_canceled"], c.describe()


@pytest.mark.parametrize("io", SOCKET_IO_MODES)
def test_rst_is_reset(cell, io):
    peer = {"personality": "truncating", "variant": "rst", "bytes": 100}
    c = cell("client", "1.3", io, [{"op": "handshake"}, {"op": "read", "until": "close"}], peer)
    c.assert_ran(["ok", "error:reset"])
    native = c.steps[1]["native"]
    assert native["error"] == "GNUTLS_E_PULL_ERROR", c.describe()
    assert native["errno"] == ERRNO_ECONNRESET, c.describe()


def test_after_fatal_alert(cell):
    """The session is invalid (writes: GNUTLS_E_INVALID_SESSION, not a
    shutdown refusal), yet gnutls_bye returns 0 and sends close_notify:
    the alert path of _gnutls_send_int skips the validity check."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "write", "bytes": 5},
           {"op": "shutdown"}]
    c = cell("client", "1.3", "blocking", sut,
             _then_close({"do": "send_alert", "alert": "internal_error"}))
    c.assert_ran(["ok", "error:alert:internal_error", "error:other", "sent"])
    assert c.steps[2]["native"]["error"] == "GNUTLS_E_INVALID_SESSION", c.describe()
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()


def test_data_while_bye_rdwr_waits_is_dropped(cell):
    """lib/record.c gnutls_bye: GNUTLS_E_GOT_APPLICATION_DATA is looped
    over; afterwards reads return 0 (read_eof is checked first)."""
    peer = {"actions": [
        {"do": "expect_close_notify"},
        {"do": "send_data", "bytes": 100},
        {"do": "send_alert", "alert": "close_notify"},
        {"do": "close"},
    ]}
    sut = [{"op": "handshake"}, {"op": "shutdown_full"}, {"op": "read", "until": "close"}]
    c = cell("client", "1.2", "nonblocking", sut, peer)
    c.assert_ran(["ok", "complete", "closed"])
    assert c.steps[2]["bytes"] == 0, c.describe()


def test_peer_data_after_our_close_notify_is_read(cell):
    """Half-close: after gnutls_bye(GNUTLS_SHUT_WR) reads go on."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"},
           {"op": "shutdown"}]
    c = cell("client", "1.3", "memory", sut,
             {"personality": "data-after-close", "variant": "legal", "bytes": 100})
    c.assert_ran(["ok", "sent", "closed", "complete"])
    assert c.steps[2]["bytes"] == 100, c.describe()



def test_reset_invalidates_the_session(cell):
    """A fatal receive error invalidates the session (lib/record.c,
    recv_error): the next write is refused before it reaches the socket."""
    peer = {"personality": "truncating", "variant": "rst", "bytes": 10}
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "write", "bytes": 10}]
    c = cell("server", "1.2", "blocking", sut, peer)
    c.assert_ran(["ok", "error:reset", "error:other"])
    assert c.steps[2]["native"]["error"] == "GNUTLS_E_INVALID_SESSION", c.describe()
