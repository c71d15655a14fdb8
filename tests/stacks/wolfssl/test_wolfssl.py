"""The wolfSSL shim (stacks/wolfssl) against the mock peer: the driver works in
every role x version x IO mode, and wolfSSL 5.5 does what stacks/wolfssl/wolfssl.toml
records (each fact test names the [[known]] case it backs)."""
from __future__ import annotations

import os
import pathlib

import pytest

from harness.base.vocabulary import IO_MODES, ROLES, TLS_VERSIONS
from support.cells import EVENT_IO_MODES, SOCKET_IO_MODES, matrix
from support.openssl_api import check_exchange_then_close_first

CLOSE_ANSWERED = {"actions": [{"do": "expect_close_notify"},
                              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


def test_version_line(wolfssl):
    wolfssl.expect_version("wolfssl", "openssl", "wolfSSL 5.", serve=True)


# ---- the driver in every cell ------------------------------------------------

@pytest.mark.parametrize("role,tls,io", matrix())
def test_exchange_then_close_first(wolfssl, role, tls, io):
    check_exchange_then_close_first(wolfssl, tls, io, role)


@pytest.mark.parametrize("role,tls,io", matrix())
def test_peer_closes_first_then_shutdown_completes(wolfssl, role, tls, io):
    """The peer's close_notify seen by wolfSSL_read (0, ZERO_RETURN,
    RECEIVED); wolfSSL_shutdown then answers and returns 1."""
    peer = {"actions": [{"do": "send_data", "bytes": 300},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"}]
    c = wolfssl.cell(role, tls, io, steps, peer)
    c.assert_ran(["ok", "closed", "complete"])
    assert c.step(2)["bytes"] == 300 and c.flags(2) == (False, True), c.describe()
    assert c.native(3)["ret"] == 1, c.describe()
    assert len(c.from_sut(type="alert", alert="close_notify")) == 1, c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_quiet_shutdown_sends_nothing(wolfssl, tls):
    """wolfSSL_set_quiet_shutdown: 1 at once, no alert on the wire."""
    peer = {"personality": "quiet", "silence_ms": 500}
    steps = [{"op": "handshake"}, {"op": "shutdown_quiet"}, {"op": "close_transport"}]
    c = wolfssl.cell("client", tls, "blocking", steps, peer)
    c.assert_ran(["ok", "complete", "ok"])
    assert c.native(2)["ret"] == 1, c.describe()
    assert not c.from_sut(type="alert"), c.describe()


def test_shutdown_full_is_a_skip(wolfssl):
    c = wolfssl.cell("client", "1.3", "blocking",
                     [{"op": "handshake"}, {"op": "shutdown_full"}], CLOSE_ANSWERED)
    assert c.run.sut.returncode == 77 and c.end.get("end") == "skip", c.describe()


# ---- ciphers and sessions ------------------------------------------------------

@pytest.mark.parametrize("tls,name,iana", [
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
])
def test_cipher_is_honoured(wolfssl, tls, name, iana):
    c = wolfssl.cell("client", tls, "blocking", [{"op": "handshake"}, {"op": "shutdown"},
                                                 {"op": "shutdown"}],
                     CLOSE_ANSWERED, sut_args=("--cipher", name))
    c.assert_ran()
    assert c.wire(ev="handshake", cipher=iana), c.describe()


def test_unknown_cipher_is_a_skip(wolfssl):
    c = wolfssl.cell("client", "1.2", "blocking", [{"op": "handshake"}], CLOSE_ANSWERED,
                     sut_args=("--cipher", "NO-SUCH-SUITE"))
    assert c.run.sut.returncode == 77 and c.end.get("step") == 0, c.describe()


RESUME_PEER = {"actions": [{"do": "expect_close_notify"},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
                           {"do": "next_connection"}, {"do": "expect_close_notify"},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


@pytest.mark.parametrize("tls,role", [("1.2", "server"), ("1.3", "client")])
def test_resume_offers_the_saved_session(wolfssl, tls, role):
    """session_save / resume: the second connection resumes (a TLS 1.2
    server from its session cache, a TLS 1.3 client with the ticket the
    waiting shutdown read). A TLS 1.2 wolfSSL client resumes by session ID
    only (no ticket extension by default), which the mock peer's server
    cannot resume, so that pair is not tested here."""
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"},
             {"op": "session_resumable"}, {"op": "resume"}, {"op": "shutdown"},
             {"op": "shutdown"}]
    c = wolfssl.cell(role, tls, "blocking", steps, RESUME_PEER, connections=2)
    c.assert_ran()
    assert c.step(4)["resumable"] is True and c.step(5)["reused"] is True, c.describe()
    assert c.wire(ev="handshake", conn=2, resumed=True), c.describe()


def test_session_file_round_trip(wolfssl, tmp_path):
    """--session-out writes wolfSSL_i2d_SSL_SESSION's bytes, --session-in
    loads them (a fresh peer process cannot resume them; loading is what is
    checked); a file that does not load is exit 4."""
    out = tmp_path / "session.der"
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}]
    c = wolfssl.cell("client", "1.2", "blocking", steps, CLOSE_ANSWERED,
                     sut_args=("--session-out", str(out)))
    c.assert_ran(["ok", "sent", "complete"])
    assert out.stat().st_size > 48, out
    c = wolfssl.cell("client", "1.2", "blocking", steps, CLOSE_ANSWERED,
                     sut_args=("--session-in", str(out)))
    c.assert_ran(["ok", "sent", "complete"])
    bad = tmp_path / "bad.der"
    bad.write_bytes(b"\x00not a session")
    c = wolfssl.cell("client", "1.2", "blocking", steps, CLOSE_ANSWERED,
                     sut_args=("--session-in", str(bad)))
    assert c.run.sut.returncode == 4, c.describe()


# ---- key update ---------------------------------------------------------------------

@pytest.mark.parametrize("io", IO_MODES)
@pytest.mark.parametrize("role", ROLES)
def test_keyupdate_then_close_under_new_key(wolfssl, io, role):
    """wolfSSL_update_keys sends the KeyUpdate at once, the close_notify
    follows under epoch 1. wolfSSL_update_keys has no request flag: the
    KeyUpdate asks for the peer's update even with request_peer false."""
    steps = [{"op": "handshake"}, {"op": "keyupdate", "request_peer": False},
             {"op": "write", "bytes": 10}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = wolfssl.cell(role, "1.3", io, steps, {"personality": "well-behaved"})
    c.assert_ran(["ok", "ok", "ok:10", "sent", "closed"])
    updates = c.from_sut(type="handshake", handshake="key_update")
    assert len(updates) == 1 and updates[0]["request_update"] is True, c.describe()
    assert c.from_sut(type="alert", alert="close_notify", epoch=1), c.describe()


def test_keyupdate_refused_in_tls12(wolfssl):
    c = wolfssl.cell("client", "1.2", "blocking",
                     [{"op": "handshake"}, {"op": "keyupdate"}, {"op": "shutdown"},
                      {"op": "shutdown"}], CLOSE_ANSWERED)
    c.assert_ran(["ok", "error:other", "sent", "complete"])
    assert c.native(2)["error"] == "BAD_FUNC_ARG", c.describe()


# ---- facts behind stacks/wolfssl/wolfssl.toml --------------------------------------------------

@pytest.mark.parametrize("role,tls,io", matrix(ios=EVENT_IO_MODES))
def test_second_shutdown_never_wants_read(wolfssl, role, tls, io):
    """[known] second-shutdown-waits-for-peer-close-notify and others: the
    waiting wolfSSL_shutdown returns 0 with no want while the peer has not
    answered, and wolfSSL_get_error then says SSL_ERROR_NONE."""
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "wait_marker", "marker": "go"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown", "nowait": True},
             {"op": "get_error_after"}, {"op": "signal_peer", "marker": "go"},
             {"op": "read", "until": "close"}]
    c = wolfssl.cell(role, tls, io, steps, peer)
    c.assert_ran(["ok", "sent", "sent", "none", "ok", "closed"])
    assert c.native(3)["ret"] == 0 and c.step(3)["wants"] == [], c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", IO_MODES)
def test_write_after_shutdown_goes_out(wolfssl, tls, io):
    """[known] write-after-shutdown-fails-read-continues: wolfSSL_write after
    wolfSSL_shutdown succeeds and its record follows the close_notify."""
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "wait_marker", "marker": "written"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "write", "bytes": 10},
             {"op": "signal_peer", "marker": "written"}, {"op": "read", "until": "close"}]
    c = wolfssl.cell("server", tls, io, steps, peer)
    c.assert_ran(["ok", "sent", "ok:10", "ok", "closed"])
    records = c.from_sut()
    kinds = [r.get("alert") or r.get("type") for r in records]
    assert kinds.index("close_notify") < len(kinds) - 1 - kinds[::-1].index("application_data"), \
        c.describe()


def _asan_build() -> bool:
    shim = pathlib.Path(os.environ.get("TLSCLOSE_BIN", "")) / "tlsclose-shim-wolfssl"
    return shim.is_file() and b"__asan_init" in shim.read_bytes()


# Under AddressSanitizer this scenario stops inside libwolfssl 5.5.4 itself: a
# heap-buffer-overflow read of its 16421-byte output buffer when
# wolfSSL_shutdown sends behind a pending write (wolfIO_Send / EmbedSend).
# That is a library finding (docs/reliability.md), not something the shim
# can avoid; the ordinary build still records the corrupted stream.
@pytest.mark.skipif(_asan_build(), reason="libwolfssl 5.5.4 overreads its output buffer here "
                    "(heap-buffer-overflow under AddressSanitizer)")
@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", EVENT_IO_MODES)
def test_pending_write_then_shutdown_corrupts_the_stream(wolfssl, tls, io):
    """[known] shutdown-wants-write-when-peer-stops-reading: shutting down
    while a write is pending puts bytes on the wire that do not authenticate,
    and no close_notify."""
    peer = {"actions": [{"do": "stop_reading"},
                        {"do": "wait_marker", "marker": "start-reading", "timeout_ms": 4000},
                        {"do": "expect_close_notify", "timeout_ms": 1500}, {"do": "close"}]}
    steps = [{"op": "handshake"},
             {"op": "write", "bytes": 16384, "until_blocked": True, "timeout_ms": 4000},
             {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "start-reading"},
             {"op": "shutdown"}]
    c = wolfssl.cell("client", tls, io, steps, peer)
    c.assert_ran(["ok", "want_write", "want_write", "ok", "sent"])
    assert c.wire(ev="bad_record"), c.describe()
    assert not c.from_sut(type="alert", alert="close_notify"), c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", EVENT_IO_MODES)
def test_repeating_the_pending_write_first_closes_cleanly(wolfssl, tls, io):
    """The control for the test above: repeating the pending wolfSSL_write
    (same buffer and length) before shutting down gets every record and the
    close_notify out intact."""
    peer = {"actions": [{"do": "stop_reading"},
                        {"do": "wait_marker", "marker": "start-reading", "timeout_ms": 4000},
                        {"do": "expect_close_notify", "timeout_ms": 4000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"},
             {"op": "write", "bytes": 16384, "until_blocked": True, "timeout_ms": 4000},
             {"op": "signal_peer", "marker": "start-reading"}, {"op": "write", "bytes": 16384},
             {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = wolfssl.cell("client", tls, io, steps, peer)
    c.assert_ran(["ok", "want_write", "ok", "ok:16384", "sent", "closed"])
    assert not c.wire(ev="bad_record"), c.describe()
    assert c.from_sut(type="alert", alert="close_notify"), c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", IO_MODES)
def test_eof_without_close_notify_is_truncation(wolfssl, tls, io):
    """[known] peer-fin-without-close-notify-is-truncation: 0 and
    SOCKET_PEER_CLOSED_E, told apart from SSL_ERROR_ZERO_RETURN."""
    steps = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = wolfssl.cell("client", tls, io, steps, {"personality": "no-close-notify", "bytes": 100})
    c.assert_ran(["ok", "truncated"])
    assert c.step(2)["bytes"] == 100, c.describe()
    assert c.native(2)["ret"] == 0 and c.native(2)["error"] == "SOCKET_PEER_CLOSED_E", \
        c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", SOCKET_IO_MODES)
def test_reset_counts_as_received_shutdown(wolfssl, tls, io):
    """[known] truncation-by-reset-is-not-a-clean-close: the reset is
    reported (errno ECONNRESET) and sets RECEIVED."""
    peer = {"actions": [{"do": "send_data", "bytes": 100},
                        {"do": "wait_marker", "marker": "data-read"}, {"do": "rst"}]}
    steps = [{"op": "handshake"}, {"op": "read", "bytes": 100},
             {"op": "signal_peer", "marker": "data-read"}, {"op": "read"}]
    c = wolfssl.cell("client", tls, io, steps, peer)
    c.assert_ran(["ok", "data:100", "ok", "error:reset"])
    assert c.native(4)["errno"] == 104 and c.flags(4) == (False, True), c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", IO_MODES)
def test_shutdown_after_both_closures_fails(wolfssl, tls, io):
    """[known] peer-data-after-receiving-close-notify-is-read: with both
    close_notify exchanged, wolfSSL_shutdown returns -1 (ZERO_RETURN)."""
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"},
             {"op": "shutdown"}]
    c = wolfssl.cell("client", tls, io, steps,
                     {"personality": "data-after-close", "variant": "legal", "bytes": 300})
    c.assert_ran(["ok", "sent", "closed", "closed"])
    assert c.step(3)["bytes"] == 300, c.describe()
    assert c.native(4)["ret"] == -1 and c.native(4)["error"] == "SSL_ERROR_ZERO_RETURN", \
        c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_fatal_alert_is_reported_with_its_name(wolfssl, tls):
    """[known] shutdown-after-fatal-alert-sends-no-close-notify: FATAL_ERROR,
    the alert in the queue and the outcome; no close_notify follows."""
    peer = {"actions": [{"do": "send_alert", "alert": "handshake_failure", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "close_transport"}]
    c = wolfssl.cell("client", tls, "blocking", steps, peer)
    c.assert_ran(["ok", "error:alert:handshake_failure", "error:alert:handshake_failure", "ok"])
    assert c.native(2)["error"] == "FATAL_ERROR", c.describe()
    assert any("alert received: handshake_failure" in q for q in c.native(2)["queue"]), \
        c.describe()
    assert not c.from_sut(type="alert", alert="close_notify"), c.describe()
