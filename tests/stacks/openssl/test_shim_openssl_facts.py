"""What OpenSSL 3.0 does at the end of a connection, as the shim shows it:
return values, SSL_get_error, the error queue and the shutdown flags, for
TLS 1.2 and 1.3 in every IO mode. Each test names the SSL_shutdown(3)
statement (S*) or RFC rule (R*) of the catalogue (harness/spec/catalogue.py) it pins down."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES
from support.cells import matrix

MODES = matrix(roles=None)
ANSWERING_PEER = {"actions": [{"do": "expect_close_notify"},
                              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


@pytest.mark.parametrize("tls,io", MODES)
def test_first_to_close_0_then_1(runner, tls, io):
    """S10, S17: the first SSL_shutdown returns 0 with SENT; the second waits
    for the peer's close_notify and returns 1 with SENT|RECEIVED."""
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}, {"op": "get_shutdown"}]
    cell = runner.cell("client", tls, io, steps, ANSWERING_PEER)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="sent", ret=0, error="", flags=(True, False))
    cell.expect_step(3, outcome="complete", ret=1, flags=(True, True))
    cell.expect_step(4, outcome="sent+received")
    assert cell.alerts_received() == ["close_notify"], cell.describe()


@pytest.mark.parametrize("tls,io", MODES)
def test_get_error_after_0_says_syscall(runner, tls, io):
    """S20: SSL_get_error(ssl, 0) after the 0 of a successful first
    SSL_shutdown reports SSL_ERROR_SYSCALL."""
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "get_error_after"},
             {"op": "shutdown"}]
    cell = runner.cell("server", tls, io, steps, ANSWERING_PEER)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="sent", ret=0)
    cell.expect_step(3, outcome="syscall", error="SSL_ERROR_SYSCALL")


@pytest.mark.parametrize("tls,io", MODES)
def test_peer_closes_first(runner, tls, io):
    """S11, S13: the peer's close_notify seen inside SSL_read: 0,
    SSL_ERROR_ZERO_RETURN, RECEIVED; then SSL_shutdown sends ours and
    returns 1."""
    peer = {"actions": [{"do": "send_data", "bytes": 500},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"}]
    cell = runner.cell("client", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="closed", ret=0, error="SSL_ERROR_ZERO_RETURN", bytes=500,
                     flags=(False, True))
    cell.expect_step(3, outcome="complete", ret=1, flags=(True, True))
    assert cell.alerts_received() == ["close_notify"], cell.describe()


@pytest.mark.parametrize("tls,io", MODES)
def test_write_after_shutdown_refused(runner, tls, io):
    """S9: SSL_write after SSL_shutdown: -1, SSL_ERROR_SSL, "protocol is
    shutdown"; reading still works until the peer closes."""
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "write", "bytes": 10},
             {"op": "read", "until": "close"}]
    cell = runner.cell("server", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(3, outcome="error:shut_down", ret=-1, error="SSL_ERROR_SSL",
                     queue="protocol is shutdown", bytes=0)
    cell.expect_step(4, outcome="closed", bytes=100, flags=(True, True))


@pytest.mark.parametrize("tls,io", MODES)
def test_data_while_second_shutdown_waits(runner, tls, io):
    """S21: application data arriving while the second SSL_shutdown waits for
    close_notify: -1, SSL_ERROR_SSL, "application data after close notify"."""
    peer = {"personality": "data-after-close", "variant": "legal", "bytes": 100}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}]
    cell = runner.cell("client", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(3, outcome="error:data_after_close", ret=-1, error="SSL_ERROR_SSL",
                     queue="application data after close notify")


@pytest.mark.parametrize("tls,io", MODES)
def test_data_after_close_can_be_read(runner, tls, io):
    """S12: after our close_notify the peer may still send data; SSL_read
    returns it all, then 0 with SSL_ERROR_ZERO_RETURN."""
    peer = {"personality": "data-after-close", "variant": "legal", "bytes": 3000}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"},
             {"op": "shutdown"}]
    cell = runner.cell("server", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(3, outcome="closed", error="SSL_ERROR_ZERO_RETURN", bytes=3000)
    cell.expect_step(4, outcome="complete", ret=1)


@pytest.mark.parametrize("tls,io", MODES)
def test_fin_without_close_notify_is_truncation(runner, tls, io):
    """S6, R7: a FIN without close_notify during SSL_read: 0, SSL_ERROR_SSL,
    "unexpected eof while reading" (OpenSSL 3), never a clean end."""
    peer = {"personality": "no-close-notify", "bytes": 200}
    steps = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "get_shutdown"}]
    cell = runner.cell("client", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="truncated", ret=0, error="SSL_ERROR_SSL",
                     queue="unexpected eof while reading", bytes=200)
    cell.expect_step(3, outcome="none")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tls,io", MODES)
def test_reset_is_reported(runner, tls, io, role):
    """A reset while reading is error:reset (errno ECONNRESET) in the socket
    modes. In memory mode the runner meets the reset and gives the library
    EOF, as an application would: OpenSSL then reports an EOF without
    close_notify (truncated) and the line says "transport": "reset". The
    peer resets only after the SUT's handshake step: a TLS 1.3 server that
    writes its tickets into the reset connection gets the ECONNRESET there,
    and OpenSSL ignores that failure (tickets to a client that already
    left), so its next read sees a plain EOF."""
    peer = {"actions": [{"do": "wait_marker", "marker": "go"}, {"do": "send_data", "bytes": 100},
                        {"do": "rst"}]}
    steps = [{"op": "handshake"}, {"op": "signal_peer", "marker": "go"},
             {"op": "read", "until": "close"}]
    cell = runner.cell(role, tls, io, steps, peer)
    cell.expect_exit(0)
    if io == "memory":
        line = cell.expect_step(3, outcome="truncated", bytes=100)
        assert line["transport"] == "reset", cell.describe()
        return
    line = cell.expect_step(3, outcome="error:reset", bytes=100)
    assert "transport" not in line, cell.describe()
    assert line["native"]["error"] == "SSL_ERROR_SYSCALL", cell.describe()
    assert line["native"]["errno"] == 104, cell.describe()  # ECONNRESET


@pytest.mark.parametrize("tls,io", MODES)
def test_quiet_shutdown_sends_nothing(runner, tls, io):
    """S18: quiet shutdown returns 1 and sends no alert; the peer sees EOF."""
    peer = {"actions": [{"do": "expect_eof"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown_quiet"}, {"op": "close_transport"}]
    cell = runner.cell("client", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="complete", ret=1, flags=(True, True))
    assert cell.alerts_received() == [], cell.describe()


@pytest.mark.parametrize("io", matrix(roles=None, versions=None))
def test_tls13_write_only_client_misses_ticket(runner, io):
    """S7: a TLS 1.3 client that writes and shuts down once never read the
    server's tickets: its session is not resumable. After a bidirectional
    shutdown it is (the second SSL_shutdown read the tickets)."""
    steps = [{"op": "handshake"}, {"op": "write", "bytes": 100}, {"op": "shutdown"},
             {"op": "session_resumable"}, {"op": "shutdown"}, {"op": "session_resumable"}]
    cell = runner.cell("client", "1.3", io, steps, ANSWERING_PEER)
    cell.expect_exit(0)
    cell.expect_step(4, outcome="not_resumable")
    cell.expect_step(5, outcome="complete")
    cell.expect_step(6, outcome="resumable")


@pytest.mark.parametrize("tls,io", MODES)
def test_keyupdate_goes_out_before_close_notify(runner, tls, io):
    """R11: keyupdate sends the KeyUpdate at once (SSL_key_update, then
    SSL_do_handshake), so the close_notify that follows is protected under
    the new key. TLS 1.2 has no key update: OpenSSL refuses it."""
    steps = [{"op": "handshake"}, {"op": "keyupdate"}, {"op": "shutdown"},
             {"op": "read", "until": "close"}]
    cell = runner.cell("client", tls, io, steps, ANSWERING_PEER)
    cell.expect_exit(0)
    if tls == "1.2":
        cell.expect_step(2, outcome="error:protocol", queue="wrong ssl version")
        return
    cell.expect_step(2, outcome="ok", ret=1)
    received = [r for r in cell.sut_records() if r.get("type") in ("handshake", "alert")]
    kinds = [(r.get("handshake") or r.get("alert"), r["epoch"]) for r in received]
    assert kinds[-2:] == [("key_update", 0), ("close_notify", 1)], cell.describe()


@pytest.mark.parametrize("tls,io", MODES)
def test_plaintext_after_complete_shutdown(runner, tls, io):
    """S8: after a complete shutdown the transport carries plaintext both
    ways; no TLS byte is left over on either side. In memory mode the runner
    gives the library one record at a time, so the plaintext that arrived
    together with the close_notify stays with the runner."""
    peer = {"actions": [{"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "send_plaintext", "text": "HELLO"},
                        {"do": "expect_plaintext", "text": "BYE"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"},
             {"op": "plaintext_read", "text": "HELLO"}, {"op": "plaintext_write", "text": "BYE"}]
    cell = runner.cell("server", tls, io, steps, peer)
    cell.expect_exit(0)
    cell.expect_step(3, outcome="complete")
    line = cell.expect_step(4, outcome="match")
    assert line["got"] == "HELLO", cell.describe()
    cell.expect_step(5, outcome="ok:3")
    expects = cell.expects()
    assert expects and all(e["ok"] for e in expects), cell.describe()
