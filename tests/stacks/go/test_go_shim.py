"""The Go crypto/tls shim (stacks/go/) against the mock peer.

The protocol the shim owes the harness first, then the facts about
crypto/tls (Go 1.19) that stacks/go/go.toml relies on; each names the source
it comes from (src/crypto/tls/conn.go, handshake_server.go).
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from support.build import ROOT
from support.cells import EVENT_IO_MODES, matrix

BASE = ["--role", "client", "--tls", "1.3", "--io", "blocking", "--fd", "99",
        "--cert", "cert.pem", "--key", "key.pem"]


# ---- the protocol --------------------------------------------------------------

def test_version(runner):
    line = runner.expect_version("go", "native", "Go 1.", serve=True)
    assert line["library"].endswith("crypto/tls"), line


@pytest.mark.parametrize("args,message", [
    (["--bogus"], "unknown argument '--bogus'"),
    (BASE[:-1], "--key needs a value"),
    (["--tls", "1.1"] + BASE[2:], "--tls: '1.1' is not one of the accepted values"),
    (BASE + ["--fd", "1,2,3,4,5"], "--fd: '1,2,3,4,5' must list 1 to 4 descriptors"),
    (BASE, "--script is required"),
])
def test_bad_command_line_is_exit_2(runner, args, message):
    rc, lines, _ = runner.alone(args)
    assert rc == 2 and lines[-1] == {"end": "error", "message": message}


@pytest.mark.parametrize("script,message", [
    ([{"op": "handshake", "nowait": 1}],
     "step 1 (handshake): field 'nowait': expected true or false"),
    ([{"op": "write", "bytes": 1.5}], "step 1 (write): field 'bytes': expected an integer"),
    ([{"op": "signal_peer", "marker": "a\nb"}],
     "step 1 (signal_peer): field 'marker': required, 1-63 bytes, no newline"),
    ([{"op": "close_transport"}, {"op": "plaintext_read", "text": "x"}],
     "step 2 (plaintext_read): the transport was closed by step 1"),
])
def test_bad_script_is_exit_2(runner, tmp_path, script, message):
    rc, lines, _ = runner.alone(BASE, script, tmp_path)
    assert rc == 2 and lines[0]["shim"] == "go" and lines[-1] == {"end": "error",
                                                                  "message": message}


@pytest.mark.parametrize("io", EVENT_IO_MODES)
def test_non_blocking_modes_are_a_skip(runner, tmp_path, io):
    args = [a if a != "blocking" else io for a in BASE]
    rc, lines, _ = runner.alone(args, [{"op": "handshake"}], tmp_path)
    assert rc == 77 and lines[-1]["end"] == "skip" and lines[-1]["step"] == 0


@pytest.mark.parametrize("op,role", [("keyupdate", "client"), ("shutdown_quiet", "client"),
                                     ("shutdown_full", "client"), ("get_error_after", "client"),
                                     ("session_resumable", "server")])
def test_impossible_op_is_a_skip_before_usage_errors(runner, tmp_path, op, role):
    # wait_peer without --marker-in is a usage error, but the skip comes first.
    script = [{"op": "handshake"}, {"op": "wait_peer", "marker": "m"}, {"op": "shutdown"},
              {"op": op}]
    args = [role if a == "client" else a for a in BASE]
    rc, lines, _ = runner.alone(args, script, tmp_path)
    assert rc == 77 and lines[-1]["step"] == 4, lines


# ---- runs against the mock peer ------------------------------------------------

@pytest.mark.parametrize("role,tls", matrix(ios=None))
def test_close_write_then_read_then_close(go_cell, role, tls):
    """The first shutdown is CloseWrite (close_notify, reading goes on), the
    second is Close, which sends no second close_notify; io.EOF stays the
    answer of every later Read."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "read", "bytes": 300},
           {"op": "shutdown"}, {"op": "write", "bytes": 10}, {"op": "read", "until": "close"},
           {"op": "shutdown"}, {"op": "read"}, {"op": "get_shutdown"}]
    c = go_cell(role, tls, sut, {"personality": "well-behaved", "bytes": 300})
    c.assert_ran(["ok", "ok:1000", "data:300", "sent", "error:shut_down", "closed",
                   "complete", "closed", "unknown"])
    assert c.step(5)["native"]["error"] == "tls: protocol is shutdown"
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()
    assert all(s["flags"] is None for s in c.steps)


@pytest.mark.parametrize("role,tls", matrix(ios=None))
def test_second_shutdown_does_not_wait(go_cell, role, tls):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}, {"op": "read"},
           {"op": "close_transport"}]
    c = go_cell(role, tls, sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "sent", "sent", "error:shut_down", "ok"])
    assert "use of closed network connection" in c.step(4)["native"]["error"]
    # The peer's close_notify is still unread when the shim drains the socket.
    assert c.step(5)["drained"] > 0, c.describe()
    assert not c.wire(ev="tcp", dir="recv", what="reset"), c.describe()


@pytest.mark.parametrize("role,tls", matrix(ios=None))
def test_fin_at_a_record_boundary_is_a_clean_end(go_cell, role, tls):
    """conn.go readRecordOrCCS: io.ErrUnexpectedEOF with no partial record
    becomes io.EOF ("popular web sites seem to do this")."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = go_cell(role, tls, sut, {"personality": "no-close-notify", "bytes": 100})
    c.assert_ran(["ok", "closed"])
    assert c.step(2)["bytes"] == 100 and c.step(2)["native"]["error"] == "EOF"
    cut = go_cell(role, tls, sut, {"personality": "truncating", "variant": "mid-record",
                                   "bytes": 100})
    cut.assert_ran(["ok", "truncated"])
    assert cut.step(2)["native"]["error"] == "unexpected EOF"


@pytest.mark.parametrize("tls,outcome", [("1.2", "closed"),
                                         ("1.3", "error:alert:user_canceled")])
def test_user_canceled_is_fatal_only_in_tls13(go_cell, tls, outcome):
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "user_canceled"},
                        {"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = go_cell("client", tls, sut, peer)
    assert c.outcomes()[:2] == ["ok", outcome], c.describe()
    if tls == "1.3":
        assert c.step(2)["native"]["queue"][-1] == "tls.alert", c.describe()


def test_close_notify_follows_a_received_fatal_alert(go_cell):
    """conn.go closeNotify checks only closeNotifySent."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "close_transport"}]
    peer = {"actions": [{"do": "send_alert", "alert": "handshake_failure", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = go_cell("server", "1.3", sut, peer)
    c.assert_ran(["ok", "error:alert:handshake_failure", "sent", "ok"])
    assert c.sut_alerts("close_notify"), c.describe()


def test_reset_while_reading(go_cell):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100},
           {"op": "signal_peer", "marker": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100},
                        {"do": "wait_marker", "marker": "read"}, {"do": "rst"}]}
    c = go_cell("client", "1.2", sut, peer)
    c.assert_ran(["ok", "data:100", "ok", "error:reset"])
    assert c.step(4)["native"]["errno"] == 104


def test_tls13_client_session_is_stored_only_by_read(go_cell):
    """The client stores a TLS 1.3 ticket only inside Read
    (handlePostHandshakeMessage); session_resumable asks its cache."""
    sut = [{"op": "handshake"}, {"op": "session_resumable"}, {"op": "read", "until": "close"},
           {"op": "session_resumable"}, {"op": "shutdown"}, {"op": "resume"},
           {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"},
                        {"do": "next_connection"},
                        {"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = go_cell("client", "1.3", sut, peer, connections=2)
    c.assert_ran(["ok", "not_resumable", "closed", "resumable", "complete", "reused", "sent"])
    assert c.wire(ev="handshake", conn=2, resumed=True), c.describe()


def test_tls12_server_resumes_by_ticket_only(go_cell):
    """handshake_server.go checkForResumption reads only the session ticket."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"},
           {"op": "resume"}, {"op": "shutdown"}]
    script = [{"do": "expect_close_notify", "timeout_ms": 3000},
              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
              {"do": "next_connection"}, {"do": "expect_close_notify", "timeout_ms": 3000},
              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]
    with_tickets = go_cell("server", "1.2", sut, {"actions": script}, connections=2)
    with_tickets.assert_ran(["ok", "sent", "closed", "reused", "sent"])
    no_tickets = go_cell("server", "1.2", sut, {"session_tickets": False, "actions": script},
                         connections=2)
    no_tickets.assert_ran(["ok", "sent", "closed", "not_reused", "sent"])


def test_a_step_deadline_ends_the_run(go_cell):
    sut = [{"op": "handshake"}, {"op": "read", "timeout_ms": 400}, {"op": "shutdown"}]
    c = go_cell("client", "1.2", sut, {"personality": "quiet", "silence_ms": 3000})
    assert c.run.sut.returncode == 3 and c.outcomes() == ["ok", "error:timeout"], c.describe()
    assert c.end["end"] == "timeout" and c.end["step"] == 2
    assert 300 <= c.step(2)["ms"] < 2500


def test_connect_transport_and_resume(go_cell):
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"},
           {"op": "resume"}, {"op": "shutdown"}]
    well = [{"do": "send_alert", "alert": "close_notify"},
            {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]
    c = go_cell("client", "1.3", sut, {"actions": well + [{"do": "next_connection"}] + well},
                connections=2, transport="connect")
    c.assert_ran(["ok", "closed", "complete", "reused", "sent"])


@pytest.mark.parametrize("tls,suite,iana", [
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256")])
def test_cipher_option(go_cell, tls, suite, iana):
    """TLS 1.2: Config.CipherSuites restricts the Go server. TLS 1.3: Go
    cannot be restricted; the peer, restricted too, decides."""
    peer_extra = ("--cipher", suite) if tls == "1.3" else ()
    c = go_cell("server", tls, [{"op": "handshake"}, {"op": "shutdown"}],
                {"personality": "well-behaved"}, sut_args=("--cipher", suite),
                peer_args=peer_extra)
    c.assert_ran(["ok", "sent"])
    assert c.wire(ev="handshake", cipher=iana), c.describe()


def test_sources_are_gofmt_clean():
    go = os.environ.get("GO") or shutil.which("go")
    gofmt = shutil.which("gofmt") or (go and os.path.join(os.path.dirname(
        os.path.realpath(go)), "gofmt"))
    if not gofmt or not os.path.exists(gofmt):
        pytest.skip("gofmt not installed (golang-go)")
    done = subprocess.run([gofmt, "-l", str(ROOT / "stacks" / "go")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
