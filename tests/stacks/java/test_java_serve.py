"""The Java JSSE shim in serve mode (`--serve`, the serve-mode draft of the
shim protocol): one JVM runs many cells one after the other.

The harness does not speak serve mode yet, so java_cells.ServeShim plays its
part: a mock peer per cell on a listening socket made here, the request on
the server's stdin, markers forwarded in-band. Each cell is compared with a
per-process run of the same cell.
"""
from __future__ import annotations

import socket

import pytest

from java_cells import SHIM, ServeShim, comparable, programs_for, run_cell
from stackcells import require

WELL_BEHAVED = {"personality": "well-behaved", "bytes": 200}
HALF_CLOSE = [{"op": "handshake"}, {"op": "write", "bytes": 100}, {"op": "shutdown"},
              {"op": "read", "until": "close"}, {"op": "shutdown"}]
MARKERS_SUT = [{"op": "handshake"}, {"op": "shutdown", "nowait": True},
               {"op": "signal_peer", "marker": "answer-now"},
               {"op": "wait_peer", "marker": "answered"},
               {"op": "read", "until": "close"}, {"op": "shutdown"}]
MARKERS_PEER = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                            {"do": "wait_marker", "marker": "answer-now"},
                            {"do": "send_alert", "alert": "close_notify"},
                            {"do": "signal_sut", "marker": "answered"}, {"do": "close"}]}
FIN = {"personality": "no-close-notify", "bytes": 100}
FIN_SUT = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "read", "until": "close"}]
RESUME_SUT = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "shutdown"},
              {"op": "read", "until": "close"}, {"op": "resume"}, {"op": "shutdown"}]
RESUME_PEER = {"actions": [{"do": "send_data", "bytes": 10},
                           {"do": "expect_close_notify", "timeout_ms": 3000},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
                           {"do": "next_connection"},
                           {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"}]}

# (role, tls, io, sut script, peer script, connections): every IO mode, both
# roles and versions, markers both ways, truncation and a second connection.
CELLS = [
    ("client", "1.3", "blocking", HALF_CLOSE, WELL_BEHAVED, 1),
    ("server", "1.2", "nonblocking", HALF_CLOSE, WELL_BEHAVED, 1),
    ("client", "1.2", "memory", HALF_CLOSE, WELL_BEHAVED, 1),
    ("server", "1.3", "memory", MARKERS_SUT, MARKERS_PEER, 1),
    ("client", "1.2", "blocking", MARKERS_SUT, MARKERS_PEER, 1),
    ("server", "1.3", "nonblocking", FIN_SUT, FIN, 1),
    ("client", "1.3", "nonblocking", RESUME_SUT, RESUME_PEER, 2),
    ("server", "1.2", "blocking", RESUME_SUT, RESUME_PEER, 2),
]


@pytest.fixture(scope="module")
def progs():
    return require(programs_for(SHIM))


@pytest.fixture(scope="module")
def server(progs):
    with ServeShim(progs) as s:
        yield s


def test_cells_match_per_process_runs(progs, server):
    """The same cells through one server and one process each give the same
    lines but for timing; every serve-mode end line says exit 0 and its cell."""
    for role, tls, io, sut, peer, conns in CELLS:
        served = server.run(role, tls, io, sut, peer, connections=conns)
        alone = run_cell(progs, role, tls, io, sut, peer, connections=conns)
        assert alone.run.sut.returncode == 0, alone.describe()
        assert served.end == {"end": "ok", "exit": 0, "cell": served.end.get("cell")}, \
            served.describe()
        assert served.lines[0] == alone.hello, served.describe()
        assert comparable(served.steps) == comparable(alone.steps), \
            served.describe() + "\n" + alone.describe()
        assert served.peer_rc == 0 and served.peer[-1]["status"] == "ok", served.describe()


def test_markers_travel_in_band(server):
    """signal_peer prints {"marker": NAME} before the step's line; wait_peer
    takes the next stdin line."""
    c = server.run("client", "1.3", "memory", MARKERS_SUT, MARKERS_PEER)
    assert c.outcomes() == ["ok", "sent", "ok", "ok", "closed", "complete"], c.describe()
    ops = [x.get("op") or ("marker" if "marker" in x else None) for x in c.lines]
    assert ops.index("marker") == ops.index("signal_peer") - 1, c.describe()
    assert c.lines[ops.index("marker")] == {"marker": "answer-now"}, c.describe()


def test_every_cell_starts_from_a_fresh_context(server):
    """A TLS 1.2 client session stays in the SSLContext's cache under the
    --connect address. The next cell connects to the same address (the same
    listening socket, a new peer): with a shared context it would find that
    session; each cell has its own."""
    lst = socket.create_server(("127.0.0.1", 0), backlog=2)
    try:
        sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "session_resumable"},
               {"op": "shutdown"}, {"op": "read", "until": "close"}]
        peer = {"actions": [{"do": "send_data", "bytes": 10},
                            {"do": "expect_close_notify", "timeout_ms": 3000},
                            {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
        first = server.run("client", "1.2", "blocking", sut, peer, listener=lst)
        assert first.outcomes() == ["ok", "data:10", "resumable", "sent", "closed"], \
            first.describe()
        probe = [{"op": "session_resumable"}, {"op": "handshake"}, {"op": "shutdown"},
                 {"op": "read", "until": "close"}]
        second = server.run("client", "1.2", "blocking", probe, peer | {"actions": [
            {"do": "expect_close_notify", "timeout_ms": 3000},
            {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}, listener=lst)
        assert second.outcomes() == ["not_resumable", "ok", "sent", "closed"], \
            second.describe()
        assert [e for e in second.peer if e.get("ev") == "handshake"][0]["resumed"] is False
    finally:
        lst.close()


def test_bad_requests_end_their_cell_and_the_server_goes_on(progs, server):
    args = ["--role", "client", "--tls", "1.3", "--io", "blocking",
            "--connect", "127.0.0.1:9", "--cert", str(progs.cert), "--key", str(progs.key)]
    lines = server.request(args + ["--fd", "3"], [{"op": "handshake"}], cell_id="bad-args")
    assert lines == [{"end": "error", "message": lines[-1]["message"], "exit": 2,
                      "cell": "bad-args"}] and "--fd" in lines[-1]["message"], lines
    lines = server.request(args, [{"op": "nope"}], cell_id="7")
    assert lines[0]["shim"] == "java" and lines[-1] == {
        "end": "error", "message": "step 1: unknown op 'nope'", "exit": 2, "cell": "7"}, lines
    server.send({"cell": 8, "args": args, "script": []})
    lines = server.collect(None, __import__("time").monotonic() + 15)
    assert lines == [{"end": "error", "message": "request: 'cell' must be a string", "exit": 2,
                      "cell": None}], lines
    lines = server.request(args, [{"op": "shutdown_quiet"}], cell_id="skip")
    assert lines[-1]["end"] == "skip" and lines[-1]["exit"] == 77, lines
    # A marker that arrives between cells (its cell already ended) is dropped.
    server.send({"marker": "late"})
    server.send("this is not JSON")
    lines = server.collect(None, __import__("time").monotonic() + 15)
    assert lines[-1]["end"] == "error" and lines[-1]["exit"] == 2, lines
    c = server.run("server", "1.3", "blocking", HALF_CLOSE, WELL_BEHAVED)
    assert c.outcomes() == ["ok", "ok:100", "sent", "closed", "complete"], c.describe()


def test_a_cell_deadline_ends_the_cell_not_the_server(server):
    """--deadline-ms is per cell: the step that meets it is a timeout (exit 3
    in the end line), and the next cell runs."""
    sut = [{"op": "handshake"}, {"op": "read", "timeout_ms": 60000}]
    quiet = {"personality": "quiet", "silence_ms": 3000}
    c = server.run("client", "1.2", "nonblocking", sut, quiet, deadline_ms=1500,
                   peer_deadline_ms=4000)
    assert c.outcomes() == ["ok", "error:timeout"], c.describe()
    assert c.end["end"] == "timeout" and c.end["exit"] == 3 and c.end["step"] == 2, \
        c.describe()
    again = server.run("client", "1.2", "nonblocking", HALF_CLOSE, WELL_BEHAVED)
    assert again.end["exit"] == 0, again.describe()


def test_eof_on_stdin_ends_the_server(progs):
    s = ServeShim(progs)
    assert s.close() == 0
