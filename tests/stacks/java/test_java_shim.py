"""The Java JSSE shim (stacks/java/) against the mock peer, one process per cell.

The protocol the shim owes the harness first (command line, script checks,
skips before usage errors, exit codes), then the facts about OpenJDK 17's
JSSE that stacks/java/README.md states; each test names the class and
method of sun.security.ssl the fact comes from. Persistent mode:
test_java_serve.py.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from harness.base.vocabulary import IO_MODES, TLS_VERSIONS
from support.cells import EVENT_IO_MODES, matrix

BASE = ["--role", "client", "--tls", "1.3", "--io", "blocking", "--connect", "127.0.0.1:9",
        "--cert", "cert.pem", "--key", "key.pem"]
WELL_BEHAVED = {"personality": "well-behaved"}


# ---- the protocol --------------------------------------------------------------

def test_version_says_serve(runner):
    line = runner.expect_version("java", "native", "OpenJDK 17.", serve=True)
    assert line["library"].endswith("JSSE"), line


@pytest.mark.parametrize("args,message", [
    (["--bogus", "x"], "unknown argument '--bogus'"),
    (BASE[:-1], "--key needs a value"),
    (["--tls", "1.1"] + BASE[2:], "--tls: '1.1' is not one of 1.2, 1.3"),
    (BASE + ["--fd", "3"], "--fd and --connect exclude each other"),
    (["--connect" if a == "--connect" else a for a in BASE[:7]] + ["localhost"] + BASE[8:],
     "--connect: 'localhost' is not HOST:PORT"),
    (BASE + ["--deadline-ms", "0"], "--deadline-ms: '0' is not an integer in 1..3600000"),
    (BASE, "--script is required"),
])
def test_bad_command_line_is_exit_2_without_hello(runner, args, message):
    rc, lines, _ = runner.alone(args)
    assert rc == 2 and lines == [{"end": "error", "message": message}], lines


def test_a_script_that_is_not_json_is_exit_2_after_hello(runner, tmp_path):
    path = tmp_path / "steps.json"
    path.write_text('[{"op": "handshake"}')
    rc, lines, _ = runner.alone([*BASE, "--script", str(path)])
    assert rc == 2 and lines[0]["shim"] == "java", lines
    assert lines[-1]["end"] == "error" and "not JSON" in lines[-1]["message"], lines


@pytest.mark.parametrize("script,message", [
    ([], "step script: no steps"),
    ([{"op": "handshak"}], "step 1: unknown op 'handshak'"),
    ([{"op": "handshake", "nowait": 1}],
     "step 1 (handshake): field 'nowait': expected true or false"),
    ([{"op": "write", "bytes": 1.5}], "step 1 (write): field 'bytes': expected an integer"),
    ([{"op": "write", "bytes": 67108865}],
     "step 1 (write): field 'bytes': 67108865 is out of range 0..67108864"),
    ([{"op": "read", "until": "eof"}],
     "step 1 (read): field 'until': only \"close\" is defined, got \"eof\""),
    ([{"op": "read", "until": "close", "bytes": 3}],
     "step 1 (read): 'bytes' and 'until' exclude each other"),
    ([{"op": "shutdown", "timeout_ms": 5, "colour": "red"}],
     "step 1 (shutdown): unknown field 'colour'"),
    ([{"op": "signal_peer", "marker": "a\nb"}],
     "step 1 (signal_peer): field 'marker': required, 1-63 bytes, no newline"),
    ([{"op": "get_error_after"}],
     "step 1 (get_error_after): the previous step must call the library"),
    ([{"op": "close_transport"}, {"op": "plaintext_read", "text": "x"}],
     "step 2 (plaintext_read): the transport was closed by step 1"),
    ([{"op": "free_without_shutdown"}, {"op": "read"}],
     "step 2 (read): the TLS object was freed by step 1"),
    ([{"op": "set_option"}], "step 1 (set_option): field 'option' is required"),
    ([{"op": "set_option", "option": "quiet"}],
     "step 1 (set_option): field 'option': expected ignore_unexpected_eof, post_handshake_auth "
     "or quiet_shutdown, got \"quiet\""),
    ([{"op": "set_option", "option": "quiet_shutdown", "scope": "global"}],
     "step 1 (set_option): field 'scope': expected connection or context, got \"global\""),
    ([{"op": "clear", "nowait": True}], "step 1 (clear): unknown field 'nowait'"),
    ([{"op": "handshake"}, {"op": "clear"}, {"op": "read"}],
     "step 3 (read): the TLS object was cleared by step 2 and waits for a resume"),
    ([{"op": "clear"}, {"op": "set_option", "option": "quiet_shutdown"}],
     "step 2 (set_option): the TLS object was cleared by step 1 and waits for a resume"),
    ([{"op": "free_without_shutdown"}, {"op": "set_option", "option": "quiet_shutdown"}],
     "step 2 (set_option): the TLS object was freed by step 1"),
])
def test_bad_script_is_exit_2_after_hello(runner, tmp_path, script, message):
    rc, lines, _ = runner.alone(BASE, script, tmp_path)
    assert rc == 2 and lines[0]["shim"] == "java" and lines[0]["io"] == "blocking", lines
    assert lines[-1]["end"] == "error" and message in lines[-1]["message"], lines


@pytest.mark.parametrize("script", [
    # What a cleared object still allows, and a context option after a free
    # (it needs no TLS object): well formed, so the run gets to its skip.
    [{"op": "handshake"}, {"op": "clear"}, {"op": "get_shutdown"}, {"op": "session_resumable"},
     {"op": "resume"}],
    [{"op": "free_without_shutdown"},
     {"op": "set_option", "option": "quiet_shutdown", "scope": "context"}],
])
def test_what_clear_and_free_leave_is_well_formed(runner, tmp_path, script):
    rc, lines, _ = runner.alone(BASE, script, tmp_path)
    assert rc == 77 and lines[-1]["end"] == "skip", lines


@pytest.mark.parametrize("args,script,step", [
    (["--io", "blocking"], [{"op": "write", "bytes": 1, "until_blocked": True}], 1),
    (["--io", "memory"], [{"op": "shutdown_full"}], 1),
    (["--io", "blocking"], [{"op": "shutdown_quiet"}], 1),
    (["--io", "blocking"], [{"op": "handshake"}, {"op": "get_error_after"}], 2),
    (["--io", "blocking"], [{"op": "keyupdate"}], 1),
    (["--io", "nonblocking", "--tls", "1.2"], [{"op": "keyupdate", "request_peer": True}], 1),
    (["--io", "blocking", "--role", "server"], [{"op": "session_resumable"}], 1),
    (["--io", "blocking", "--session-in", "s.pem"], [{"op": "handshake"}], 0),
    (["--io", "blocking", "--cipher", "TLS_AES_128_CCM_SHA256"], [{"op": "handshake"}], 0),
    # JSSE has no call for any option of set_option, on a connection or a
    # context, and cannot reuse an SSLSocket or SSLEngine (README.md).
    (["--io", "blocking"], [{"op": "set_option", "option": "ignore_unexpected_eof"}], 1),
    (["--io", "memory"], [{"op": "set_option", "option": "post_handshake_auth"}], 1),
    (["--io", "nonblocking"],
     [{"op": "set_option", "option": "quiet_shutdown", "scope": "context"}], 1),
    (["--io", "nonblocking"], [{"op": "handshake"}, {"op": "clear"}], 2),
])
def test_what_jsse_cannot_do_is_a_skip_before_usage_errors(runner, tmp_path, args, script, step):
    # wait_peer without --marker-in is a usage error, but the skip comes first.
    script = [{"op": "wait_peer", "marker": "m"}, *script]
    argv = list(BASE)
    for k, v in zip(args[::2], args[1::2]):
        if k in argv:
            argv[argv.index(k) + 1] = v
        else:
            argv += [k, v]
    rc, lines, _ = runner.alone(argv, script, tmp_path)
    assert rc == 77 and lines[-1]["end"] == "skip", lines
    assert lines[-1]["step"] == (step + 1 if step else 0), lines


def test_an_inherited_descriptor_is_a_skip(runner, tmp_path):
    """Java cannot adopt a socket by its number: transport = "connect"."""
    argv = [a for a in BASE if a not in ("--connect", "127.0.0.1:9")] + ["--fd", "3"]
    rc, lines, _ = runner.alone(argv, [{"op": "handshake"}], tmp_path)
    assert rc == 77 and lines[-1]["step"] == 0 and "--connect" in lines[-1]["message"], lines


def test_marker_steps_need_their_pipes(runner, tmp_path):
    rc, lines, _ = runner.alone(BASE, [{"op": "signal_peer", "marker": "m"}], tmp_path)
    assert rc == 2 and lines[-1] == {"end": "error", "step": 1,
                                     "message": "step 1 (signal_peer): needs --marker-out"}


def _free_port_address() -> str:
    """An address nothing listens on: a port the kernel gave and took back."""
    with socket.create_server(("127.0.0.1", 0)) as lst:
        return f"127.0.0.1:{lst.getsockname()[1]}"


def test_unreachable_address_is_exit_4(runner, tmp_path):
    argv = [a if a != "127.0.0.1:9" else _free_port_address() for a in BASE]
    rc, lines, _ = runner.alone(argv, [{"op": "handshake"}], tmp_path)
    assert rc == 4 and "connection 1" in lines[-1]["message"], lines


def test_signal_to_a_closed_marker_pipe_is_exit_4(runner, tmp_path):
    """EPIPE on --marker-out ends the run with exit 4 and an end line naming
    the step (docs/shim-protocol.md §4, "Markers"). The listener only
    accepts: no TLS is needed."""
    r, w = os.pipe()
    os.close(r)
    try:
        with socket.create_server(("127.0.0.1", 0)) as lst:
            address = f"127.0.0.1:{lst.getsockname()[1]}"
            path = tmp_path / "steps.json"
            path.write_text(json.dumps([{"op": "signal_peer", "marker": "m"}]))
            argv = [*runner.shim_cmd, *[a if a != "127.0.0.1:9" else address for a in BASE],
                    "--script", str(path), "--marker-out", str(w), "--deadline-ms", "3000"]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                  pass_fds=(w,), stdin=subprocess.DEVNULL)
    finally:
        os.close(w)
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert done.returncode == 4, (lines, done.stderr)
    assert [x for x in lines if "op" in x] == [], lines
    assert lines[-1]["end"] == "error" and lines[-1]["step"] == 1, lines
    assert lines[-1]["message"].startswith("step 1 (signal_peer): marker write"), lines


# ---- the three IO modes against the mock peer ----------------------------------------

@pytest.mark.parametrize("role,tls,io", matrix())
def test_half_close_then_read_then_close(cell, role, tls, io):
    """shutdown: SSLSocket.shutdownOutput() / SSLEngine.closeOutbound() + wrap:
    close_notify only, reading goes on; writing after it is refused. No close
    call waits for the peer, so only a read says the peer closed."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "read", "bytes": 300},
           {"op": "shutdown"}, {"op": "write", "bytes": 10}, {"op": "read", "until": "close"},
           {"op": "get_shutdown"}, {"op": "shutdown"}]
    c = cell(role, tls, io, sut, {"personality": "well-behaved", "bytes": 300})
    c.assert_ran(["ok", "ok:1000", "data:300", "sent", "error:shut_down", "closed", "unknown",
                   "complete"])
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()
    assert all(s["flags"] is None for s in c.steps)
    stream = c.step(6)["stream"]
    assert stream in ({"input_shutdown": True, "output_shutdown": True, "closed": False},
                      {"inbound_done": True, "outbound_done": True}), c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_second_shutdown_reports_sent(cell, role, tls, io):
    """Neither SSLSocket nor SSLEngine reports whether the peer's close_notify
    came (close() returns nothing and swallows its failures: SSLSocketImpl
    .close), so a second shutdown is `sent` while no read saw the close."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown", "nowait": True},
           {"op": "shutdown"}]
    c = cell(role, tls, io, sut, WELL_BEHAVED)
    c.assert_ran(["ok", "sent", "sent", "sent"])
    assert not c.step(3)["wants"] and not c.step(4)["wants"], c.describe()
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_tls12_answers_close_notify_inside_the_read(cell, role, tls, io):
    """TransportContext.passiveInboundClose: TLS 1.2 answers the peer's
    close_notify with its own at once (SSLSocket: inside read; SSLEngine:
    HandshakeStatus NEED_WRAP after the unwrap that returned CLOSED, which
    the read step wraps); TLS 1.3 does not. The output side is closed after
    the read in TLS 1.2 only, and the shutdown then sends nothing more."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "closed", "complete"])
    stream = c.step(2)["stream"]
    closed = stream.get("output_shutdown", stream.get("outbound_done"))
    assert closed == (tls == "1.2"), c.describe()
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()
    if io != "blocking":
        wrapped_in_shutdown = c.step(3)["native"]["call"] == "wrap"
        assert wrapped_in_shutdown == (tls == "1.3"), c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_fin_without_close_notify(cell, role, tls, io):
    """SSLSocket: a bare FIN reads as end of stream, like close_notify
    (SSLSocketImpl.handleEOF without com.sun.net.ssl.requireCloseNotify), in
    the middle of a record too. SSLEngine: the application tells it the EOF
    with closeInbound(), which throws "closing inbound before receiving
    peer's close_notify" (SSLEngineImpl.closeInbound)."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "read", "until": "close"}]
    for variant in ("no-close-notify", "mid-record"):
        peer = ({"personality": "no-close-notify", "bytes": 100} if variant == "no-close-notify"
                else {"personality": "truncating", "variant": "mid-record", "bytes": 100})
        c = cell(role, tls, io, sut, peer)
        want = "closed" if io == "blocking" else "truncated"
        c.assert_ran(["ok", "data:100", want])
        if io == "blocking":
            assert c.step(3)["native"]["ret"] == -1, c.describe()
        else:
            assert c.step(3)["native"]["call"] == "closeInbound", c.describe()
            assert "closing inbound before receiving peer's close_notify" in \
                c.step(3)["native"]["error"], c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_fatal_alert_then_shutdown(cell, role, tls, io):
    """Alert.AlertConsumer: "Received fatal alert: handshake_failure"; the
    connection's outbound is closed (TransportContext.fatal), so a later close
    call does nothing and reports nothing: no close_notify on the wire."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "close_transport"}]
    peer = {"actions": [{"do": "send_alert", "alert": "handshake_failure", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "error:alert:handshake_failure", "sent", "ok"])
    assert "(handshake_failure) Received fatal alert: handshake_failure" in \
        c.step(2)["native"]["error"], c.describe()
    assert not c.sut_alerts("close_notify") and not c.sut_records(type="alert"), c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_reset_while_reading(cell, role, tls, io):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100},
           {"op": "signal_peer", "marker": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100},
                        {"do": "wait_marker", "marker": "read"}, {"do": "rst"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "data:100", "ok", "error:reset"])


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_fragmented_close_notify_is_an_error(cell, tls):
    """Alert.AlertMessage: an alert record must hold exactly two bytes, in
    TLS 1.2 too ("Invalid Alert message: no sufficient data",
    illegal_parameter goes back)."""
    sut = [{"op": "handshake"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify", "fragment": 1},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell("client", tls, "memory", sut, peer)
    c.assert_ran(["ok", "error:decode"])
    assert c.sut_alerts("illegal_parameter"), c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_user_canceled_then_close_notify_is_answered(cell, tls):
    """Alert.AlertConsumer: a warning user_canceled sets peerUserCanceled, and
    the close_notify after it closes the outbound too (closeOutbound): the
    answer goes out in the read, TLS 1.3 included."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "user_canceled"},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}
    c = cell("server", tls, "blocking", sut, peer)
    c.assert_ran(["ok", "closed", "complete"])
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()


def test_tls13_warning_alerts_are_ignored(cell):
    """Alert.AlertConsumer ignores every warning-level alert JSSE knows (not
    handshake-only) whatever the version; RFC 8446 §6 makes all but
    close_notify and user_canceled errors in TLS 1.3."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "send_alert", "alert": "unexpected_message", "level": "warning"},
                        {"do": "send_data", "bytes": 10},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell("client", "1.3", "nonblocking", sut, peer)
    c.assert_ran(["ok", "closed"])
    assert c.step(2)["bytes"] == 10, c.describe()


def test_tls13_close_sends_user_canceled_first(cell):
    """SSLSocketImpl.duplexCloseOutput: close() of a TLS 1.3 connection sends
    user_canceled, then close_notify ("Use a user_canceled alert for TLS 1.3
    duplex close")."""
    sut = [{"op": "handshake"}, {"op": "shutdown_full"}, {"op": "close_transport"}]
    c = cell("client", "1.3", "blocking", sut, WELL_BEHAVED)
    c.assert_ran(["ok", "sent", "ok"])
    alerts = [r["alert"] for r in c.sut_records(type="alert")]
    assert alerts == ["user_canceled", "close_notify"], c.describe()


def test_tls12_close_waits_for_the_peer(cell):
    """SSLSocketImpl.close -> duplexCloseOutput -> bruteForceCloseInput(true)
    -> shutdown -> closeSocket -> waitForClose: on a layered socket without
    autoClose a TLS 1.2 close() reads (and discards) until the peer's
    close_notify, so nothing is left for the drain; close() still reports
    nothing (sent)."""
    sut = [{"op": "handshake"}, {"op": "shutdown_full"}, {"op": "close_transport"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_data", "bytes": 500},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell("client", "1.2", "blocking", sut, peer)
    c.assert_ran(["ok", "sent", "ok"])
    assert c.step(3)["drained"] == 0, c.describe()
    assert [r["alert"] for r in c.sut_records(type="alert")] == ["close_notify"], c.describe()


def test_close_notify_send_failure_is_not_reported(cell):
    """TransportContext.warning catches the IOException of a close_notify that
    cannot be sent: after the peer's reset, shutdownOutput() returns."""
    sut = [{"op": "handshake"}, {"op": "signal_peer", "marker": "hs"},
           {"op": "wait_peer", "marker": "rst"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "wait_marker", "marker": "hs"}, {"do": "rst"},
                        {"do": "signal_sut", "marker": "rst"}]}
    blocking = cell("client", "1.2", "blocking", sut, peer)
    blocking.assert_ran(["ok", "ok", "ok", "sent"])
    engine = cell("client", "1.2", "nonblocking", sut, peer)
    engine.assert_ran(["ok", "ok", "ok", "error:reset"])


@pytest.mark.parametrize("role,tls,io", matrix(ios=EVENT_IO_MODES))
def test_full_send_path_is_want_write(cell, role, tls, io):
    """until_blocked fills the send path of a peer that stops reading; the
    shutdown behind it wants to write (its output buffer is full) and goes
    out once the peer reads."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 16384, "until_blocked": True,
                                  "timeout_ms": 6000},
           {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "read"},
           {"op": "shutdown"}, {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "stop_reading"},
                        {"do": "wait_marker", "marker": "read", "timeout_ms": 7000},
                        {"do": "expect_close_notify", "timeout_ms": 4000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer, deadline_ms=15000)
    c.assert_ran(["ok", "want_write", "want_write", "ok", "sent", "closed"])


@pytest.mark.parametrize("role,tls,io", matrix())
def test_resumption(cell, role, tls, io):
    """The second connection resumes (a fresh SSLContext per run, its client
    cache keyed by the --connect address). A TLS 1.3 client's session is
    resumable only once a read took a NewSessionTicket
    (NewSessionTicket.T13NewSessionTicketConsumer puts a new session in the
    client cache)."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "shutdown"},
           {"op": "read", "until": "close"}, {"op": "resume"}, {"op": "shutdown"}]
    if not (role == "server" and tls == "1.3"):
        sut.insert(4, {"op": "session_resumable"})
    peer = {"actions": [{"do": "send_data", "bytes": 10},
                        {"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
                        {"do": "next_connection"},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer, connections=2)
    assert c.outcomes()[-2:] == ["reused", "sent"], c.describe()
    if "session_resumable" in [s["op"] for s in c.steps]:
        # A TLS 1.2 server that sent a stateless ticket keeps nothing in its
        # session-ID cache: the client resumes by the ticket.
        want = "not_resumable" if role == "server" else "resumable"
        assert c.step(5)["outcome"] == want, c.describe()
    assert c.wire(ev="handshake", conn=2, resumed=True), c.describe()


@pytest.mark.parametrize("io", IO_MODES)
def test_tls12_server_session_id_cache(cell, io):
    """Without tickets (the peer's session_tickets = false) a TLS 1.2 server
    resumes from its session-ID cache, and keeps a session freed without any
    close call there too (SSL_free would remove it: S2)."""
    script = [{"do": "expect_close_notify", "timeout_ms": 3000},
              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
              {"do": "next_connection"}, {"do": "expect_close_notify", "timeout_ms": 3000},
              {"do": "close"}]
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"},
           {"op": "session_resumable"}, {"op": "resume"}, {"op": "shutdown"}]
    c = cell("server", "1.2", io, sut, {"session_tickets": False, "actions": script},
             connections=2)
    c.assert_ran(["ok", "sent", "closed", "resumable", "reused", "sent"])
    freed = [{"op": "handshake"}, {"op": "free_without_shutdown"}, {"op": "close_transport"},
             {"op": "resume"}, {"op": "shutdown"}]
    script = [{"do": "read_all", "timeout_ms": 3000}, {"do": "close"},
              {"do": "next_connection"}, {"do": "expect_close_notify", "timeout_ms": 3000},
              {"do": "close"}]
    c = cell("server", "1.2", io, freed, {"session_tickets": False, "actions": script},
             connections=2)
    c.assert_ran(["ok", "ok", "ok", "reused", "sent"])
    assert not c.sut_records(type="alert", conn=1), c.describe()


@pytest.mark.parametrize("io", ["blocking", "memory"])
def test_tls13_client_without_a_ticket_is_not_resumable(cell, io):
    sut = [{"op": "handshake"}, {"op": "session_resumable"}, {"op": "write", "bytes": 10},
           {"op": "shutdown"}, {"op": "close_transport"}, {"op": "resume"}]
    peer = {"actions": [{"do": "expect_data", "bytes": 10, "timeout_ms": 3000},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"},
                        {"do": "next_connection"}, {"do": "close"}]}
    c = cell("client", "1.3", io, sut, peer, connections=2)
    c.assert_ran(["ok", "not_resumable", "ok:10", "sent", "ok", "not_reused"])
    assert c.wire(ev="handshake", conn=2, resumed=False), c.describe()


@pytest.mark.parametrize("role,tls,io", matrix(versions=("1.3",)))
def test_keyupdate_is_a_second_handshake_call(cell, role, tls, io):
    """SSLSocket.startHandshake / SSLEngine.beginHandshake on a negotiated
    TLS 1.3 connection send KeyUpdate(update_requested)
    (TransportContext.kickstart, KeyUpdate.KeyUpdateKickstartProducer); the
    close_notify after it goes out under the new key."""
    sut = [{"op": "handshake"}, {"op": "keyupdate", "request_peer": True},
           {"op": "write", "bytes": 10}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell(role, tls, io, sut, WELL_BEHAVED)
    c.assert_ran(["ok", "ok", "ok:10", "sent", "closed"])
    ku = c.sut_records(type="handshake", handshake="key_update")
    assert ku and ku[0]["request_update"] is True, c.describe()
    assert c.sut_alerts("close_notify")[0]["epoch"] == 1, c.describe()


def test_plaintext_after_tls12_close(cell):
    """A TLS 1.2 close() consumed the peer's close_notify (waitForClose), so
    the bare socket carries plaintext both ways afterwards."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"},
           {"op": "plaintext_write", "text": "PLAIN FROM SUT\n"},
           {"op": "plaintext_read", "text": "PLAIN FROM PEER\n"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_plaintext", "text": "PLAIN FROM SUT\n",
                         "timeout_ms": 3000},
                        {"do": "send_plaintext", "text": "PLAIN FROM PEER\n"}, {"do": "close"}]}
    c = cell("server", "1.2", "blocking", sut, peer)
    c.assert_ran(["ok", "sent", "sent", "ok:15", "match"])
