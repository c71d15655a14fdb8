"""The Node.js tls shim (stacks/node/) against the mock peer.

First the protocol the shim owes the harness (docs/shim-protocol.md:
command line, script checks, skips before usage errors, exit codes), then
the facts about Node's tls that stacks/node/README.md states, each with the
source it comes from (Node 20: src/crypto/crypto_tls.cc, crypto_bio.cc,
lib/_tls_wrap.js, lib/internal/streams/writable.js), in both IO modes; last
serve mode, whose lines must equal a per-process run of the same cell.
"""
from __future__ import annotations

import json
import socket
import time

import pytest

from support.build import ROOT
from support.node_shim import (IOS, SHIM_CMD, Server, node_missing, programs, run_alone,
                               run_cell)

if node_missing():
    pytest.skip("optional stack: /usr/bin/node is not installed", allow_module_level=True)

BASE = ["--role", "client", "--tls", "1.3", "--io", "nonblocking", "--fd", "99",
        "--cert", "cert.pem", "--key", "key.pem"]
WELL_BEHAVED = {"personality": "well-behaved"}


@pytest.fixture(scope="module")
def progs():
    return programs()


def events(line: dict) -> list[str]:
    return [e["ev"] for e in line.get("events", [])]


# ---- the protocol -----------------------------------------------------------------

def test_version_names_the_library_and_serve_mode():
    rc, lines, _ = run_alone(["--version"])
    assert rc == 0 and len(lines) == 1
    v = lines[0]
    assert v == {"shim": "node", "library": v["library"], "api": "native", "serve": True}
    assert v["library"].startswith("Node.js v") and "OpenSSL 3." in v["library"]


@pytest.mark.parametrize("args,message", [
    (["--bogus", "1"], "unknown argument '--bogus'"),
    (BASE[:-1], "--key needs a value"),
    (["--io", "event"] + BASE[:4] + BASE[6:], "--io: 'event' is not one of the accepted values"),
    (BASE + ["--connect", "127.0.0.1:1"], "--fd and --connect exclude each other"),
    (BASE + ["--deadline-ms", "0"], "--deadline-ms: '0' is not an integer in 1..3600000"),
    (["--version", "--serve"], "--version and --serve take no other argument"),
    (BASE, "--script is required"),
])
def test_bad_command_line_is_exit_2(args, message):
    rc, lines, _ = run_alone(args)
    assert rc == 2 and lines[-1] == {"end": "error", "message": message}


@pytest.mark.parametrize("script,message", [
    ([], "step script: no steps"),
    ([{"op": "handshak"}], "step 1: unknown op 'handshak'"),
    ([{"op": "read", "byte": 3}], "step 1 (read): unknown field 'byte'"),
    ([{"op": "write"}], "step 1 (write): field 'bytes' is required"),
    ([{"op": "write", "bytes": True}], "step 1 (write): field 'bytes': expected an integer"),
    ([{"op": "write", "bytes": 10, "until_blocked": True, "nowait": True}],
     "step 1 (write): 'until_blocked' and 'nowait' exclude each other"),
    ([{"op": "signal_peer", "marker": "a\nb"}],
     "step 1 (signal_peer): field 'marker': required, 1-63 bytes, no newline"),
    ([{"op": "handshake"}, {"op": "close_transport"}, {"op": "plaintext_read", "text": "x"}],
     "step 3 (plaintext_read): the transport was closed by step 2"),
])
def test_bad_script_is_exit_2_before_any_io(tmp_path, script, message):
    # --fd 99 is no descriptor: the script is checked before it is touched.
    rc, lines, _ = run_alone(BASE, script, tmp_path)
    assert rc == 2
    assert lines[0]["shim"] == "node" and lines[0]["io"] == "nonblocking"
    assert lines[-1] == {"end": "error", "message": message}


def test_blocking_mode_is_a_skip_of_the_run(tmp_path):
    args = [a if a != "nonblocking" else "blocking" for a in BASE]
    rc, lines, _ = run_alone(args, [{"op": "handshake"}], tmp_path)
    assert rc == 77 and lines[-1]["end"] == "skip" and lines[-1]["step"] == 0
    assert "no blocking call" in lines[-1]["message"]


@pytest.mark.parametrize("op", ["keyupdate", "shutdown_quiet", "shutdown_full",
                                "get_error_after"])
def test_impossible_op_is_a_skip_that_beats_usage_errors(tmp_path, op):
    # signal_peer without --marker-out is a usage error, but the skip comes first.
    script = [{"op": "handshake"}, {"op": op}, {"op": "signal_peer", "marker": "m"}]
    rc, lines, _ = run_alone(BASE, script, tmp_path)
    assert rc == 77 and lines[-1]["end"] == "skip" and lines[-1]["step"] == 2, lines


@pytest.mark.parametrize("op", [{"op": "plaintext_read", "text": "x"},
                                {"op": "plaintext_write", "text": "x"},
                                {"op": "free_without_shutdown"}])
def test_bare_socket_steps_are_skips_over_a_socket_only(tmp_path, op):
    script = [{"op": "handshake"}, {"op": "wait_peer", "marker": "m"}, op]
    rc, lines, _ = run_alone(BASE, script, tmp_path)
    assert rc == 77 and lines[-1]["step"] == 3, lines
    # In memory mode the runner owns the socket: what stops the run now is
    # the missing marker pipe (a usage error), not the step.
    rc, lines, _ = run_alone([a if a != "nonblocking" else "memory" for a in BASE], script,
                             tmp_path)
    assert rc == 2 and lines[-1] == {"end": "error", "step": 2,
                                     "message": "step 2 (wait_peer): needs --marker-in"}


def test_a_descriptor_that_is_no_tcp_socket_is_exit_4(tmp_path):
    script_path = tmp_path / "steps.json"
    script_path.write_text(json.dumps([{"op": "handshake"}]))
    args = [a if a != "99" else "0" for a in BASE] + ["--script", str(script_path)]
    rc, lines, _ = run_alone(args)   # descriptor 0 is /dev/null here
    assert rc == 4 and lines[-1]["end"] == "error" and "descriptor 0" in lines[-1]["message"]


def test_a_session_file_that_does_not_load_is_exit_4(tmp_path):
    bad = tmp_path / "session.pem"
    bad.write_text("not a session\n")
    rc, lines, _ = run_alone(BASE + ["--session-in", str(bad)], [{"op": "handshake"}],
                             tmp_path)
    assert rc == 4 and "not a TLS session" in lines[-1]["message"]


# ---- closing: end(), the readable side's 'end' -----------------------------------------

@pytest.mark.parametrize("io", IOS)
@pytest.mark.parametrize("role,tls", [("client", "1.3"), ("server", "1.2")])
def test_end_sends_close_notify_and_over_a_socket_fin_at_once(progs, io, role, tls):
    """TLSWrap::DoShutdown: SSL_shutdown, then the underlying stream's
    shutdown; over a JS Duplex (memory mode) the FIN is the runner's."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"},
           {"op": "shutdown"}, {"op": "get_shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "expect_eof", "timeout_ms": 1000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run_cell(progs, role, tls, io, sut, peer)
    c.assert_ran(["ok", "sent", "closed", "complete", "unknown"])
    eof = c.wire(ev="expect", what="eof")
    assert eof and eof[0]["ok"] is (io == "nonblocking"), c.describe()
    assert all(s["flags"] is None for s in c.steps), c.describe()
    assert c.step(5)["stream"]["writableFinished"] is True, c.describe()
    if io == "memory":
        assert "transport_end" in events(c.step(2)), c.describe()


@pytest.mark.parametrize("io", IOS)
def test_second_shutdown_waits_and_nowait_reports_want_read(progs, io):
    sut = [{"op": "handshake"}, {"op": "shutdown", "nowait": True},
           {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "answer"},
           {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "wait_marker", "marker": "answer"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run_cell(progs, "client", "1.3", io, sut, peer)
    c.assert_ran(["ok", "sent", "want_read", "ok", "complete"])
    assert c.step(3)["calls"] == 1 and c.step(5)["native"]["event"] == "end", c.describe()


@pytest.mark.parametrize("io", IOS)
def test_data_before_the_peer_close_leaves_the_waiting_shutdown_wanting_a_read(progs, io):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"},
           {"op": "read", "until": "close"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run_cell(progs, "server", "1.3", io, sut, peer)
    c.assert_ran(["ok", "sent", "want_read", "closed", "complete"])
    assert c.step(3)["unread"] > 0 and c.step(4)["bytes"] == 100, c.describe()


@pytest.mark.parametrize("io", IOS)
def test_first_shutdown_after_a_reported_close_is_complete(progs, io):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "read"},
           {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}
    c = run_cell(progs, "client", "1.2", io, sut, peer)
    c.assert_ran(["ok", "data:100", "closed", "complete"])


# ---- what the readable side reports ---------------------------------------------------

@pytest.mark.parametrize("io", IOS)
@pytest.mark.parametrize("variant", ["between-records", "mid-record"])
def test_a_fin_without_close_notify_reads_as_a_clean_end(progs, io, variant):
    """crypto_bio.cc NodeBIO::Read never reports EOF to OpenSSL, and
    TLSWrap::OnStreamRead emits the transport's EOF like a close_notify:
    truncation cannot be told from a close (README fact 1)."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "read", "until": "close"}]
    peer = {"personality": "truncating", "variant": variant, "bytes": 100}
    c = run_cell(progs, "client", "1.3", io, sut, peer)
    c.assert_ran(["ok", "data:100", "closed"])
    assert c.wire(ev="tcp", dir="sent", what="fin"), c.describe()
    assert not c.sut_alerts("close_notify"), c.describe()


@pytest.mark.parametrize("io", IOS)
def test_a_reset_is_nodes_end_with_transport_reset(progs, io):
    """The outcome is what Node reports: over a socket, its own ECONNRESET
    'error', or an end of the stream when libuv's POLLHUP short-circuit hid
    the reset (README); in memory mode the Duplex gets EOF. Where Node saw
    an end, the line's transport field says the runner saw a reset."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100},
           {"op": "signal_peer", "marker": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100}, {"do": "wait_marker", "marker": "read"},
                        {"do": "rst"}]}
    c = run_cell(progs, "server", "1.2", io, sut, peer)
    line = c.step(4)
    if io == "memory" or line["outcome"] != "error:reset":
        c.assert_ran(["ok", "data:100", "ok", "closed"])
        assert line["transport"] == "reset", c.describe()
    else:
        assert line["native"]["error"] == "ECONNRESET", c.describe()


@pytest.mark.parametrize("io", IOS)
def test_an_alert_without_a_reason_string_is_swallowed(progs, io):
    """TLSWrap::ClearOut returns before onerror when OpenSSL has no reason
    string for the error (an unregistered alert): no 'error' event, and the
    FIN that follows reads as a clean end (README fact 2)."""
    sut = [{"op": "handshake"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_alert", "alert": 250, "level": "warning"},
                        {"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "read_all", "timeout_ms": 300}, {"do": "close"}]}
    c = run_cell(progs, "client", "1.3", io, sut, peer)
    c.assert_ran(["ok", "closed"])
    assert "error" not in events(c.step(2)) and c.step(2)["bytes"] == 0, c.describe()
    assert not c.from_sut(type="alert"), c.describe()


@pytest.mark.parametrize("io", IOS)
def test_a_fragmented_alert_is_invalid_alert_in_tls12(progs, io):
    sut = [{"op": "handshake"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify", "fragment": 1},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = run_cell(progs, "server", "1.2", io, sut, peer)
    c.assert_ran(["ok", "error:decode"])
    native = c.step(2)["native"]
    assert native["error"] == "ERR_SSL_INVALID_ALERT", c.describe()
    assert native["queue"] == ["SSL routines: invalid alert"], c.describe()


@pytest.mark.parametrize("io", IOS)
def test_end_after_a_fatal_alert_succeeds_without_close_notify(progs, io):
    """TLSWrap::DoShutdown ignores SSL_shutdown's refusal (README fact 3)."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "handshake_failure", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 3000}, {"do": "close"}]}
    c = run_cell(progs, "client", "1.3", io, sut, peer)
    c.assert_ran(["ok", "error:alert:handshake_failure", "sent"])
    assert c.step(2)["native"]["error"] == "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"
    assert not c.sut_alerts("close_notify"), c.describe()


@pytest.mark.parametrize("io", IOS)
def test_writing_after_end_destroys_the_connection(progs, io):
    """Writable.write after end(): ERR_STREAM_WRITE_AFTER_END, and sockets
    being autoDestroy the stream is destroyed (README fact 5)."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "write", "bytes": 10},
           {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_data", "bytes": 500},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run_cell(progs, "client", "1.2", io, sut, peer)
    c.assert_ran(["ok", "sent", "error:shut_down", "error:shut_down"])
    assert c.step(3)["native"]["error"] == "ERR_STREAM_WRITE_AFTER_END", c.describe()


# ---- writing into a stalled peer ---------------------------------------------------------

@pytest.mark.parametrize("io", IOS)
def test_a_stalled_peer_makes_writes_and_end_want_write(progs, io):
    sut = [{"op": "handshake"},
           {"op": "write", "bytes": 16384, "until_blocked": True, "timeout_ms": 4000},
           {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "read"},
           {"op": "shutdown"}, {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "stop_reading"}, {"do": "wait_marker", "marker": "read",
                                                   "timeout_ms": 4000},
                        {"do": "expect_close_notify", "timeout_ms": 4000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run_cell(progs, "server", "1.3", io, sut, peer)
    c.assert_ran(["ok", "want_write", "want_write", "ok", "sent", "closed"])
    assert c.step(2)["bytes"] > 0 and c.step(5)["calls"] == 0, c.describe()
    assert c.wire(ev="expect", what="close_notify", ok=True), c.describe()


# ---- sessions --------------------------------------------------------------------------

TICKET_SUT = [{"op": "handshake"}, {"op": "write", "bytes": 100}, {"op": "shutdown"},
              {"op": "session_resumable"}, {"op": "close_transport"}, {"op": "resume"},
              {"op": "shutdown"}, {"op": "shutdown"}]
TICKET_PEER = {"actions": [{"do": "expect_data", "bytes": 100, "timeout_ms": 3000},
                           {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"},
                           {"do": "next_connection"},
                           {"do": "expect_close_notify", "timeout_ms": 3000},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


@pytest.mark.parametrize("io,kept", [("nonblocking", True), ("memory", False)])
def test_a_tls13_client_that_only_writes_keeps_tickets_only_over_a_socket(progs, io, kept):
    """Over a socket TLSWrap reads whenever the event loop runs and OpenSSL
    3.0 takes a NewSessionTicket after our close_notify; in memory mode the
    application never gave the tickets to the library (README fact 8)."""
    c = run_cell(progs, "client", "1.3", io, TICKET_SUT, TICKET_PEER, connections=2)
    resumed = "reused" if kept else "not_reused"
    c.assert_ran(["ok", "ok:100", "sent", "resumable" if kept else "not_resumable", "ok",
                   resumed, "sent", "complete"])
    assert c.wire(ev="handshake", conn=2, resumed=kept), c.describe()


def test_a_tls12_server_resumes_session_ids_through_its_cache(progs):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}, {"op": "resume"},
           {"op": "shutdown"}, {"op": "shutdown"}]
    peer = {"session_tickets": False,
            "actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
                        {"do": "next_connection"},
                        {"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = run_cell(progs, "server", "1.2", "nonblocking", sut, peer, connections=2)
    c.assert_ran(["ok", "sent", "complete", "reused", "sent", "complete"])


# ---- the transport -------------------------------------------------------------------------

def test_plaintext_continues_after_a_bidirectional_close_in_memory_mode(progs):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"},
           {"op": "plaintext_write", "text": "PLAIN FROM SUT\n"},
           {"op": "plaintext_read", "text": "PLAIN FROM PEER\n"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_plaintext", "text": "PLAIN FROM SUT\n", "timeout_ms": 3000},
                        {"do": "send_plaintext", "text": "PLAIN FROM PEER\n"}, {"do": "close"}]}
    c = run_cell(progs, "server", "1.3", "memory", sut, peer)
    c.assert_ran(["ok", "sent", "complete", "ok:15", "match"])
    assert all(e.get("ok") for e in c.expects()), c.describe()


@pytest.mark.parametrize("io", IOS)
def test_connect_transport_and_close_transport(progs, io):
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 2000}, {"op": "shutdown"},
           {"op": "close_transport"}]
    peer = {"actions": [{"do": "expect_data", "bytes": 2000, "timeout_ms": 3000},
                        {"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "expect_eof", "timeout_ms": 3000}, {"do": "close"}]}
    c = run_cell(progs, "client", "1.2", io, sut, peer, transport="connect")
    c.assert_ran(["ok", "ok:2000", "sent", "ok"])
    assert c.step(4)["drained"] == 0 and all(e.get("ok") for e in c.expects()), c.describe()
    assert not c.wire(ev="tcp", dir="recv", what="reset"), c.describe()


@pytest.mark.parametrize("io", IOS)
def test_a_step_deadline_ends_the_run_with_timeout(progs, io):
    sut = [{"op": "handshake"}, {"op": "read", "timeout_ms": 300}]
    peer = {"personality": "quiet", "silence_ms": 3000}
    c = run_cell(progs, "client", "1.3", io, sut, peer)
    assert c.run.sut.returncode == 3, c.describe()
    assert c.step(2)["outcome"] == "error:timeout", c.describe()
    assert c.end == {"end": "timeout", "step": 2,
                     "message": "step 2 (read): step deadline passed"}, c.describe()


# ---- serve mode ---------------------------------------------------------------------------

SERVE_CELLS = [
    ("client", "1.3", "nonblocking",
     [{"op": "handshake"}, {"op": "shutdown", "nowait": True}, {"op": "shutdown", "nowait": True},
      {"op": "signal_peer", "marker": "answer"}, {"op": "shutdown"}],
     {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                  {"do": "wait_marker", "marker": "answer"},
                  {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}),
    ("server", "1.2", "memory",
     [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "wait_peer", "marker": "go"},
      {"op": "read", "until": "close"}, {"op": "shutdown"}],
     {"actions": [{"do": "send_data", "bytes": 100}, {"do": "signal_sut", "marker": "go"},
                  {"do": "send_data", "bytes": 300}, {"do": "send_alert", "alert": "close_notify"},
                  {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}),
    ("client", "1.2", "nonblocking",
     [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "signal_peer", "marker": "read"},
      {"op": "read"}],
     {"actions": [{"do": "send_data", "bytes": 100}, {"do": "wait_marker", "marker": "read"},
                  {"do": "rst"}]}),
]
# calls is left out: how often a read had to wait depends on when data came.
COMPARED = ("step", "op", "outcome", "bytes")


@pytest.fixture(scope="module")
def server(progs):
    srv = Server(progs)
    yield srv
    srv.close()


def test_serve_runs_cells_as_a_per_process_run_does(progs, server):
    for n, (role, tls, io, sut, peer) in enumerate(SERVE_CELLS):
        alone = run_cell(progs, role, tls, io, sut, peer)
        served = server.cell(f"cell-{n}", role, tls, io, sut, peer)
        assert served.end == {"end": "ok", "exit": 0, "cell": f"cell-{n}"}, served.describe()
        assert served.lines[0] == alone.hello, served.describe()
        assert [{k: s[k] for k in COMPARED} for s in served.steps] == \
            [{k: s[k] for k in COMPARED} for s in alone.steps], served.describe() + alone.describe()
        assert served.markers == [s["marker"] for s in sut if s["op"] == "signal_peer"]
        assert served.peer_rc == 0 and all(e["ok"] for e in served.peer if e["ev"] == "expect")


def test_serve_bad_requests_end_with_exit_2_and_the_server_goes_on(progs, server):
    lines = server.request(None, [], [])
    assert lines == [{"end": "error", "message": "--connect is required in serve mode",
                      "exit": 2, "cell": None}]
    server.send("not json")
    lines = server.read_until_end(time.monotonic() + 10)
    assert lines[-1]["exit"] == 2 and lines[-1]["cell"] is None
    args = ["--role", "client", "--tls", "1.3", "--io", "nonblocking", "--connect",
            "127.0.0.1:9", "--cert", str(progs.cert), "--key", str(progs.key)]
    lines = server.request(7, args + ["--fd", "3"], [{"op": "handshake"}])
    assert lines[-1] == {"end": "error", "message": "--fd is not allowed in serve mode",
                         "exit": 2, "cell": 7}
    lines = server.request("skip", [a if a != "nonblocking" else "blocking" for a in args],
                           [{"op": "handshake"}])
    assert lines[-1]["end"] == "skip" and lines[-1]["exit"] == 77 and lines[-1]["cell"] == "skip"
    role, tls, io, sut, peer = SERVE_CELLS[0]
    served = server.cell("after", role, tls, io, sut, peer)
    assert served.end == {"end": "ok", "exit": 0, "cell": "after"}, served.describe()


def test_serve_cell_deadline_and_closed_marker_channel(progs):
    srv = Server(progs)
    try:
        sut = [{"op": "handshake"}, {"op": "wait_peer", "marker": "never"}]
        peer = {"actions": [{"do": "read_all", "timeout_ms": 1500}, {"do": "close"}]}
        served = srv.cell("late", "client", "1.3", "nonblocking", sut, peer, deadline_ms=600)
        assert served.end["end"] == "timeout" and served.end["exit"] == 3, served.describe()
        assert served.end["step"] == 2 and served.end["cell"] == "late", served.describe()
        # The next request still runs; EOF on stdin while it waits for a
        # marker is exit 4 ("marker channel closed"), then the server ends.
        with socket.socket() as lst:     # the connection waits in the backlog
            lst.bind(("127.0.0.1", 0))
            lst.listen(1)
            args = ["--role", "client", "--tls", "1.3", "--io", "nonblocking", "--connect",
                    f"127.0.0.1:{lst.getsockname()[1]}", "--cert", str(progs.cert),
                    "--key", str(progs.key)]
            srv.send({"cell": "eof", "args": args,
                      "script": [{"op": "wait_peer", "marker": "m"}, {"op": "handshake"}]})
            srv.proc.stdin.close()
            lines = srv.read_until_end(time.monotonic() + 10)
        assert lines[-1]["exit"] == 4 and lines[-1]["cell"] == "eof", lines
        assert "marker channel is closed" in lines[-1]["message"], lines
        assert srv.proc.wait(timeout=10) == 0
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()


def test_shim_command_is_what_the_stack_file_runs():
    import tomllib
    stack = tomllib.loads((ROOT / "stacks" / "node" / "node.toml").read_text())
    assert stack["command"] == ["/usr/bin/node", "{root}/stacks/node/shim.js"]
    assert SHIM_CMD[1].endswith("stacks/node/shim.js")
    assert stack["io"] == ["nonblocking", "memory"] and stack["api"] == "native"
