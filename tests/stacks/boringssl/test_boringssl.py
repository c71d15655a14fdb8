"""The BoringSSL shim (the OpenSSL driver built against Debian's BoringSSL,
stacks/boringssl) against the mock peer: it never loads OpenSSL 3, the driver
works in every role x version x IO mode, the BoringSSL glue (sessions from the
new-session callback, KeyUpdate flush) works, and BoringSSL does what
stacks/boringssl/boringssl.toml records (each fact test names the [[known]] case)."""
from __future__ import annotations

import subprocess

import pytest

from harness.base.vocabulary import IO_MODES, TLS_VERSIONS
from support.cells import EVENT_IO_MODES, matrix
from support.openssl_api import check_exchange_then_close_first

CLOSE_ANSWERED = {"actions": [{"do": "expect_close_notify"},
                              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


def test_version_line(boringssl):
    assert boringssl.version() == {"shim": "boringssl", "library": "BoringSSL",
                                   "api": "openssl", "serve": True}


def test_loads_boringssl_and_never_openssl3(boringssl):
    """The process maps BoringSSL's libraries and no OpenSSL 3 library."""
    done = subprocess.run(["ldd", str(boringssl.progs.shim)], capture_output=True, text=True,
                          timeout=10)
    assert done.returncode == 0, done.stderr
    libs = done.stdout
    assert "/android/libssl.so" in libs and "/android/libcrypto.so" in libs, libs
    assert "libssl.so.3" not in libs and "libcrypto.so.3" not in libs, libs


# ---- the driver in every cell ------------------------------------------------

@pytest.mark.parametrize("role,tls,io", matrix())
def test_exchange_then_close_first(boringssl, role, tls, io):
    check_exchange_then_close_first(boringssl, tls, io, role)


@pytest.mark.parametrize("role,tls,io", matrix())
def test_peer_closes_first_then_shutdown_completes(boringssl, role, tls, io):
    peer = {"actions": [{"do": "send_data", "bytes": 300},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"}]
    c = boringssl.cell(role, tls, io, steps, peer)
    c.assert_ran(["ok", "closed", "complete"])
    assert c.step(2)["bytes"] == 300 and c.flags(2) == (False, True), c.describe()
    assert len(c.from_sut(type="alert", alert="close_notify")) == 1, c.describe()


@pytest.mark.parametrize("role,tls,io", matrix(ios=EVENT_IO_MODES))
def test_second_shutdown_wants_read_then_completes(boringssl, role, tls, io):
    """As in OpenSSL: -1 with SSL_ERROR_WANT_READ until the answer is there,
    then 1."""
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "wait_marker", "marker": "go"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown", "nowait": True},
             {"op": "signal_peer", "marker": "go"}, {"op": "shutdown"}]
    c = boringssl.cell(role, tls, io, steps, peer)
    c.assert_ran(["ok", "sent", "want_read", "ok", "complete"])
    assert c.native(3)["error"] == "SSL_ERROR_WANT_READ", c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", IO_MODES)
def test_eof_without_close_notify_is_truncation(boringssl, tls, io):
    """BoringSSL reports EOF as OpenSSL 1.1.1 did: 0, SSL_ERROR_SYSCALL,
    errno 0, nothing queued."""
    steps = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = boringssl.cell("client", tls, io, steps, {"personality": "no-close-notify", "bytes": 100})
    c.assert_ran(["ok", "truncated"])
    n = c.native(2)
    assert (n["ret"], n["error"], n["errno"], n["queue"]) == (0, "SSL_ERROR_SYSCALL", 0, []), \
        c.describe()


def test_shutdown_full_is_a_skip(boringssl):
    c = boringssl.cell("client", "1.3", "blocking",
                       [{"op": "handshake"}, {"op": "shutdown_full"}], CLOSE_ANSWERED)
    assert c.run.sut.returncode == 77 and c.end.get("end") == "skip", c.describe()


# ---- the BoringSSL glue ------------------------------------------------------------

@pytest.mark.parametrize("io", IO_MODES)
@pytest.mark.parametrize("request_peer", (False, True))
def test_keyupdate_is_flushed_at_once(boringssl, io, request_peer):
    """SSL_key_update queues the KeyUpdate, the zero-length SSL_write sends it
    with the requested flag; the close_notify follows under epoch 1. (Client
    role: a BoringSSL server packs its deferred NewSessionTicket and the
    KeyUpdate into one record, which the mock peer does not split.)"""
    steps = [{"op": "handshake"}, {"op": "keyupdate", "request_peer": request_peer},
             {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = boringssl.cell("client", "1.3", io, steps, {"personality": "well-behaved"})
    c.assert_ran(["ok", "ok", "sent", "closed"])
    updates = c.from_sut(type="handshake", handshake="key_update")
    assert [u["request_update"] for u in updates] == [request_peer], c.describe()
    assert c.from_sut(type="alert", alert="close_notify", epoch=1), c.describe()


def test_keyupdate_refused_in_tls12(boringssl):
    c = boringssl.cell("client", "1.2", "blocking",
                       [{"op": "handshake"}, {"op": "keyupdate"}, {"op": "shutdown"},
                        {"op": "shutdown"}], CLOSE_ANSWERED)
    c.assert_ran(["ok", "error:protocol", "sent", "complete"])
    assert any("WRONG_SSL_VERSION" in q for q in c.native(2)["queue"]), c.describe()


RESUME_PEER = {"actions": [{"do": "send_data", "bytes": 100}, {"do": "expect_close_notify"},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
                           {"do": "next_connection"}, {"do": "expect_close_notify"},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("io", IO_MODES)
def test_client_resumes_with_the_callback_session(boringssl, tls, io):
    """The session BoringSSL hands to the new-session callback (TLS 1.2 at the
    end of the handshake, TLS 1.3 with a ticket read before the shutdown) is
    resumable and the next connection resumes with it."""
    steps = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "session_resumable"},
             {"op": "shutdown"}, {"op": "shutdown"}, {"op": "resume"}, {"op": "shutdown"},
             {"op": "shutdown"}]
    c = boringssl.cell("client", tls, io, steps, RESUME_PEER, connections=2)
    c.assert_ran(["ok", "data:100", "resumable", "sent", "complete", "reused", "sent",
                  "complete"])
    assert c.wire(ev="handshake", conn=2, resumed=True), c.describe()


def test_tls12_server_resumes_from_its_cache(boringssl):
    peer = {"actions": [{"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "close"}, {"do": "next_connection"},
                        {"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}, {"op": "resume"},
             {"op": "shutdown"}, {"op": "shutdown"}]
    c = boringssl.cell("server", "1.2", "blocking", steps, peer, connections=2)
    c.assert_ran(["ok", "sent", "complete", "reused", "sent", "complete"])


@pytest.mark.parametrize("tls,name,iana", [
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
])
def test_tls12_cipher_is_honoured(boringssl, tls, name, iana):
    c = boringssl.cell("client", tls, "blocking",
                       [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}],
                       CLOSE_ANSWERED, sut_args=("--cipher", name))
    c.assert_ran()
    assert c.wire(ev="handshake", cipher=iana), c.describe()


def test_tls13_cipher_is_a_skip(boringssl):
    """BoringSSL cannot restrict its TLS 1.3 suites: --cipher is a skip."""
    c = boringssl.cell("client", "1.3", "blocking", [{"op": "handshake"}], CLOSE_ANSWERED,
                       sut_args=("--cipher", "TLS_AES_128_GCM_SHA256"))
    assert c.run.sut.returncode == 77 and c.end.get("step") == 0, c.describe()
    assert "BoringSSL cannot restrict" in c.end.get("message", ""), c.describe()


def test_session_file_round_trip(boringssl, tmp_path):
    out = tmp_path / "session.pem"
    steps = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "shutdown"},
             {"op": "shutdown"}]
    peer = {"actions": RESUME_PEER["actions"][:4]}
    c = boringssl.cell("client", "1.3", "blocking", steps, peer,
                       sut_args=("--session-out", str(out)))
    c.assert_ran(["ok", "data:100", "sent", "complete"])
    assert out.read_text().startswith("-----BEGIN SSL SESSION PARAMETERS-----"), out
    c = boringssl.cell("client", "1.3", "blocking", steps, peer,
                       sut_args=("--session-in", str(out)))
    c.assert_ran(["ok", "data:100", "sent", "complete"])


# ---- facts behind stacks/boringssl/boringssl.toml --------------------------------------------

@pytest.mark.parametrize("io", IO_MODES)
def test_tickets_after_own_close_notify_are_ignored(boringssl, io):
    """[known] tls13-ticket-kept-after-bidirectional-shutdown: the tickets the
    bidirectional shutdown reads never reach the new-session callback."""
    steps = [{"op": "handshake"}, {"op": "write", "bytes": 100}, {"op": "shutdown"},
             {"op": "shutdown"}, {"op": "session_resumable"}]
    peer = {"actions": [{"do": "expect_data", "bytes": 100}, *CLOSE_ANSWERED["actions"]]}
    c = boringssl.cell("client", "1.3", io, steps, peer)
    c.assert_ran(["ok", "ok:100", "sent", "complete", "not_resumable"])


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_shutdown_after_fatal_alert_sends_close_notify(boringssl, tls):
    """[known] shutdown-after-fatal-alert-sends-no-close-notify."""
    peer = {"actions": [{"do": "send_alert", "alert": "handshake_failure", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "close_transport"}]
    c = boringssl.cell("client", tls, "blocking", steps, peer)
    c.assert_ran(["ok", "error:alert:handshake_failure", "sent", "ok"])
    assert c.from_sut(type="alert", alert="close_notify"), c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_write_after_shutdown_is_refused(boringssl, tls):
    """[known] write-after-shutdown-fails-read-continues: refused as in
    OpenSSL, with the reason text PROTOCOL_IS_SHUTDOWN."""
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "write", "bytes": 10},
             {"op": "read", "until": "close"}]
    c = boringssl.cell("server", tls, "nonblocking", steps, peer)
    c.assert_ran(["ok", "sent", "error:shut_down", "closed"])
    assert c.native(3)["queue"] == ["SSL routines: PROTOCOL_IS_SHUTDOWN"], c.describe()
