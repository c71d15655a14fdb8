"""The rustls shim (stacks/rustls/) against the mock peer.

The protocol the shim owes the harness first, then the facts about rustls
0.20.8 that stacks/rustls/README.md lists with their source (src/conn.rs,
src/msgs/message.rs, ...), then the persistent mode (--serve): the same cells
through one server process give the same lines as per-process runs, and no
cell sees what an earlier one left.
"""
from __future__ import annotations

import pytest

from harness.base.vocabulary import IO_MODES, TLS_VERSIONS
from support.cells import EVENT_IO_MODES, SOCKET_IO_MODES, matrix
from support.rustls_serve import Server

BASE = ["--role", "client", "--tls", "1.3", "--io", "memory", "--fd", "99",
        "--cert", "cert.pem", "--key", "key.pem"]


# ---- the protocol --------------------------------------------------------------

def test_version(runner):
    line = runner.expect_version("rustls", "native", "rustls 0.20.8", serve=True)
    assert line["library"] == "rustls 0.20.8", line


@pytest.mark.parametrize("args,message", [
    (["--bogus"], "unknown argument '--bogus'"),
    (BASE[:-1], "--key needs a value"),
    (["--tls", "1.1"] + BASE[2:], "--tls: '1.1' is not one of the accepted values"),
    (BASE + ["--fd", "1,2,3,4,5"], "--fd: at most 4 descriptors"),
    (BASE + ["--connect", "127.0.0.1:1", "--script", "s"], "--fd and --connect exclude each other"),
    (BASE, "--script is required"),
])
def test_bad_command_line_is_exit_2(runner, args, message):
    rc, lines, _ = runner.alone(args)
    assert rc == 2 and lines == [{"end": "error", "message": message}]


@pytest.mark.parametrize("script,message", [
    ([{"op": "handshake", "nowait": 1}],
     "step 1 (handshake): field 'nowait': expected true or false"),
    ([{"op": "write", "bytes": 1.5}], "step 1 (write): field 'bytes': expected an integer"),
    ([{"op": "read", "byte": 1}], "step 1 (read): unknown field 'byte'"),
    ([{"op": "jump"}], "step 1: unknown op 'jump'"),
    ([{"op": "read", "until": "close", "nowait": True}],
     "step 1 (read): 'until' and 'nowait' exclude each other"),
    ([{"op": "close_transport"}, {"op": "plaintext_read", "text": "x"}],
     "step 2 (plaintext_read): the transport was closed by step 1"),
])
def test_bad_script_is_exit_2(runner, tmp_path, script, message):
    rc, lines, _ = runner.alone(BASE, script, tmp_path)
    assert rc == 2 and lines[0]["shim"] == "rustls" and lines[-1] == {"end": "error",
                                                                      "message": message}


@pytest.mark.parametrize("op,role", [("keyupdate", "client"), ("shutdown_quiet", "client"),
                                     ("shutdown_full", "client"), ("get_error_after", "client"),
                                     ("session_resumable", "server")])
def test_what_rustls_cannot_do_is_a_skip_before_usage_errors(runner, tmp_path, op, role):
    # wait_peer without --marker-in is a usage error, but the skip comes first.
    script = [{"op": "handshake"}, {"op": "wait_peer", "marker": "m"}, {"op": "shutdown"},
              {"op": op}]
    args = [role if a == "client" else a for a in BASE]
    rc, lines, _ = runner.alone(args, script, tmp_path)
    assert rc == 77 and lines[-1]["end"] == "skip" and lines[-1]["step"] == 4, lines


def test_until_blocked_in_blocking_mode_is_a_skip(runner, tmp_path):
    args = [a if a != "memory" else "blocking" for a in BASE]
    rc, lines, _ = runner.alone(args, [{"op": "write", "bytes": 10, "until_blocked": True}],
                         tmp_path)
    assert rc == 77 and lines[-1]["step"] == 1, lines


@pytest.mark.parametrize("cipher", ["TLS_FAKE_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"])
def test_a_cipher_rustls_lacks_for_the_version_is_a_skip(cell, cipher):
    # The second is a TLS 1.2 suite: not one for a TLS 1.3 run.
    c = cell("client", "1.3", "blocking", [{"op": "handshake"}], {"personality": "well-behaved"},
             sut_args=("--cipher", cipher))
    assert c.run.sut.returncode == 77 and c.end == {
        "end": "skip", "step": 0,
        "message": f"--cipher {cipher}: not a TLS 1.3 suite rustls has"}, c.describe()


@pytest.mark.parametrize("tls,suite,iana", [
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384")])
def test_cipher_option(cell, tls, suite, iana):
    c = cell("client", tls, "memory", [{"op": "handshake"}, {"op": "shutdown"}],
             {"personality": "well-behaved"}, sut_args=("--cipher", suite))
    c.assert_ran(["ok", "sent"])
    assert c.wire(ev="handshake", conn=1)[0]["cipher"] == iana, c.describe()


# ---- closure in every mode -----------------------------------------------------

@pytest.mark.parametrize("role,tls,io", matrix())
def test_close_notify_then_read_until_the_peers(cell, role, tls, io):
    """The first shutdown sends close_notify (sent); reading goes on until the
    reader's Ok(0) (closed); a later shutdown is complete without another
    alert, since the shim calls send_close_notify once per connection."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "read", "bytes": 300},
           {"op": "shutdown"}, {"op": "read", "until": "close"}, {"op": "shutdown"},
           {"op": "read"}, {"op": "get_shutdown"}]
    c = cell(role, tls, io, sut, {"personality": "well-behaved", "bytes": 300})
    c.assert_ran(["ok", "ok:1000", "data:300", "sent", "closed", "complete", "closed",
                   "unknown"])
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()
    assert all(s["flags"] is None for s in c.steps)
    assert c.native(7) == {"ret": 0, "error": "", "queue": [], "errno": 0}


@pytest.mark.parametrize("role,tls,io", matrix(ios=EVENT_IO_MODES))
def test_waiting_shutdown_wants_read_until_the_peer_answers(cell, role, tls, io):
    sut = [{"op": "handshake"}, {"op": "shutdown", "nowait": True},
           {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "answer"},
           {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "wait_marker", "marker": "answer"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "sent", "want_read", "ok", "complete"])
    assert c.native(3)["error"] == "WouldBlock"


@pytest.mark.parametrize("role,tls,io", matrix())
def test_waiting_shutdown_meets_eof_without_close_notify(cell, role, tls, io):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "fin"}, {"do": "read_all"},
                        {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "sent", "error:unexpected_eof"])


@pytest.mark.parametrize("variant", ["between-records", "mid-record"])
@pytest.mark.parametrize("role,tls,io", matrix())
def test_eof_without_close_notify_is_truncation(cell, role, tls, io, variant):
    """Reader::read: Err(UnexpectedEof) once read_tls saw EOF without a
    close_notify, whether or not a partial record is pending."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = cell(role, tls, io, sut, {"personality": "truncating", "variant": variant, "bytes": 100})
    c.assert_ran(["ok", "truncated"])
    assert c.step(2)["bytes"] == 100 and c.native(2)["error"] == "UnexpectedEof", c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_reset_is_a_reset(cell, role, tls, io):
    sut = [{"op": "handshake"}, {"op": "signal_peer", "marker": "go"}, {"op": "read"}]
    peer = {"actions": [{"do": "wait_marker", "marker": "go"}, {"do": "rst"}]}
    c = cell(role, tls, io, sut, peer)
    if io == "memory":  # the runner meets the reset and gives rustls EOF
        c.assert_ran(["ok", "ok", "truncated"])
        assert c.step(3)["transport"] == "reset", c.describe()
        return
    c.assert_ran(["ok", "ok", "error:reset"])


# ---- facts about rustls 0.20.8 (stacks/rustls/README.md) -----------------------

@pytest.mark.parametrize("role,tls,io", matrix())
def test_writer_still_sends_after_close_notify(cell, role, tls, io):
    """Writer::write after send_close_notify is accepted and goes out as
    application data after the alert (conn.rs send_plain checks nothing)."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "write", "bytes": 10},
           {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "expect_close_notify"}, {"do": "read_all", "timeout_ms": 300},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "sent", "ok:10", "closed"])
    records = c.sut_records()
    alert = next(i for i, r in enumerate(records) if r.get("alert") == "close_notify")
    assert [r["len"] for r in records[alert + 1:] if r["type"] == "application_data"] == [10], \
        c.describe()


@pytest.mark.parametrize("role,tls,io", matrix(ios=SOCKET_IO_MODES))
def test_data_after_close_notify_in_the_same_read_is_delivered(cell, role, tls, io):
    """process_new_packets goes on after a close_notify: application data
    read in the same read_tls is decrypted and handed to the reader before
    its Ok(0). The marker makes sure both records wait in the socket."""
    sut = [{"op": "handshake"}, {"op": "wait_peer", "marker": "both-sent"},
           {"op": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "send_data", "bytes": 100},
                        {"do": "signal_sut", "marker": "both-sent"}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "ok", "data:100", "closed"])


@pytest.mark.parametrize("role,tls", matrix(ios=None))
def test_data_after_close_notify_given_record_by_record_is_not(cell, role, tls):
    """Memory mode gives rustls one record at a time: after the close_notify
    the reader says Ok(0) and the data is never read."""
    sut = [{"op": "handshake"}, {"op": "wait_peer", "marker": "both-sent"},
           {"op": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "send_data", "bytes": 100},
                        {"do": "signal_sut", "marker": "both-sent"}, {"do": "close"}]}
    c = cell(role, tls, "memory", sut, peer)
    c.assert_ran(["ok", "ok", "closed", "closed"])


@pytest.mark.parametrize("role,tls,io", matrix())
def test_close_notify_follows_a_received_fatal_alert(cell, role, tls, io):
    """After AlertReceived, send_close_notify still queues the alert (rustls
    documents that send_close_notify may be called after an error)."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "shutdown"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_alert", "alert": "handshake_failure", "level": "fatal"},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell(role, tls, io, sut, peer)
    c.assert_ran(["ok", "error:alert:handshake_failure", "sent", "error:alert:handshake_failure"])
    assert c.native(2)["error"] == "AlertReceived(HandshakeFailure)"
    assert len(c.sut_alerts("close_notify")) == 1, c.describe()


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_a_fragmented_alert_fails_without_an_alert_back(cell, tls):
    """msgs/message.rs: an alert record must hold exactly two bytes, and
    process_msg returns the parse error without sending an alert."""
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "close_transport"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify", "fragment": 1},
                        {"do": "read_all", "timeout_ms": 2000}, {"do": "close"}]}
    c = cell("client", tls, "nonblocking", sut, peer)
    c.assert_ran(["ok", "error:decode", "ok"])
    assert c.native(2)["error"] == "CorruptMessagePayload(Alert)"
    assert not c.sut_records(type="alert"), c.describe()


@pytest.mark.parametrize("tls,outcomes", [("1.2", ["ok", "closed"]), ("1.3", ["ok", "closed"])])
def test_user_canceled_is_passed_over(cell, tls, outcomes):
    """process_alert: a warning user_canceled is logged and ignored in both
    versions; the data and the close_notify after it are read."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "send_alert", "alert": "user_canceled"},
                        {"do": "send_data", "bytes": 100},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell("server", tls, "blocking", sut, peer)
    c.assert_ran(outcomes)
    assert c.step(2)["bytes"] == 100


def test_tls13_close_notify_marked_fatal_is_a_close(cell):
    """process_alert looks at the description first: close_notify is a
    closure whatever its level byte."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify", "level": "fatal"},
                        {"do": "close"}]}
    c = cell("client", "1.3", "memory", sut, peer)
    c.assert_ran(["ok", "closed"])


# ---- sessions --------------------------------------------------------------------

def test_tls13_client_keeps_a_ticket_only_once_it_read_one(cell):
    sut = [{"op": "handshake"}, {"op": "session_resumable"}, {"op": "read", "until": "close"},
           {"op": "session_resumable"}, {"op": "shutdown"}, {"op": "resume"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_close_notify"}, {"do": "next_connection"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    c = cell("client", "1.3", "nonblocking", sut, peer, connections=2)
    c.assert_ran(["ok", "not_resumable", "closed", "resumable", "complete", "reused", "sent"])
    assert c.wire(ev="handshake", conn=2)[0]["resumed"] is True, c.describe()


@pytest.mark.parametrize("free", [False, True])
def test_tls12_server_session_id_cache_keeps_a_freed_session(cell, free):
    """ServerSessionMemoryCache keeps the session whatever the closure: no
    rustls call removes it when a connection is dropped without close_notify."""
    first = [{"op": "free_without_shutdown"}] if free else [{"op": "shutdown"},
                                                          {"op": "shutdown"}]
    sut = [{"op": "handshake"}, *first, {"op": "resume"}, {"op": "shutdown"}]
    peer = {"session_tickets": False,
            "actions": [{"do": "expect_close_notify", "timeout_ms": 1000} if not free
                        else {"do": "read_all", "timeout_ms": 500},
                        *([{"do": "send_alert", "alert": "close_notify"}] if not free else []),
                        {"do": "next_connection"}, {"do": "expect_close_notify"},
                        {"do": "close"}]}
    c = cell("server", "1.2", "memory", sut, peer, connections=2)
    outcomes = c.outcomes()
    assert c.end.get("end") == "ok" and outcomes[-2:] == ["reused", "sent"], c.describe()
    assert c.wire(ev="handshake", conn=2)[0]["resumed"] is True, c.describe()


def test_tls12_client_keeps_its_session_after_a_fatal_alert(cell):
    sut = [{"op": "handshake"}, {"op": "read"}, {"op": "session_resumable"},
           {"op": "close_transport"}, {"op": "resume"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "send_alert", "alert": "internal_error", "level": "fatal"},
                        {"do": "next_connection"}, {"do": "expect_close_notify"},
                        {"do": "close"}]}
    c = cell("client", "1.2", "blocking", sut, peer, connections=2)
    c.assert_ran(["ok", "error:alert:internal_error", "resumable", "ok", "reused", "sent"])


def test_session_files(cell, progs, tmp_path):
    out = tmp_path / "session"
    sut = [{"op": "handshake"}, {"op": "shutdown"}]
    c = cell("client", "1.2", "blocking", sut, {"personality": "well-behaved"},
             sut_args=("--session-out", str(out)))
    c.assert_ran(["ok", "sent"])
    header, key, value = out.read_text().splitlines()
    assert header == "tlsclose-rustls-session 1"
    assert bytes.fromhex(key).startswith(b"session") and len(value) > 0
    # Another peer process has other keys: the session is offered, not taken.
    c = cell("client", "1.2", "blocking", sut, {"personality": "well-behaved"},
             sut_args=("--session-in", str(out)))
    c.assert_ran(["ok", "sent"])
    bad = tmp_path / "bad"
    bad.write_text("not a session\n")
    c = cell("client", "1.2", "blocking", sut, {"personality": "well-behaved"},
             sut_args=("--session-in", str(bad)))
    assert c.run.sut.returncode == 4 and c.end["end"] == "error", c.describe()


# ---- the persistent mode ---------------------------------------------------------

CLOSE_SUT = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "shutdown"},
             {"op": "read", "until": "close"}, {"op": "shutdown"}]
CLOSE_PEER = {"personality": "well-behaved", "bytes": 200}
MARKER_SUT = [{"op": "handshake"}, {"op": "shutdown", "nowait": True},
              {"op": "shutdown", "nowait": True}, {"op": "signal_peer", "marker": "answer"},
              {"op": "shutdown"}]
MARKER_PEER = {"actions": [{"do": "expect_close_notify"}, {"do": "wait_marker", "marker": "answer"},
                           {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
RESET_SUT = [{"op": "handshake"}, {"op": "signal_peer", "marker": "done"},
             {"op": "wait_peer", "marker": "reset"}, {"op": "shutdown"}]
RESET_PEER = {"actions": [{"do": "wait_marker", "marker": "done"}, {"do": "rst"},
                          {"do": "signal_sut", "marker": "reset"}]}
TICKET_SUT = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "session_resumable"},
              {"op": "shutdown"}, {"op": "resume"}, {"op": "shutdown"}]
TICKET_PEER = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                           {"do": "expect_close_notify"}, {"do": "next_connection"},
                           {"do": "expect_close_notify"}, {"do": "close"}]}
FRESH_SUT = [{"op": "handshake"}, {"op": "session_resumable"}, {"op": "shutdown"}]


def serve_plan():
    """(name, role, tls, io, sut, peer, connections) for one server's session."""
    plan = [(f"close-{r}-{t}-{i}", r, t, i, CLOSE_SUT, CLOSE_PEER, 1)
            for r, t, i in (p.values for p in matrix())]
    plan += [(f"marker-{r}-{t}-{i}", r, t, i, MARKER_SUT, MARKER_PEER, 1)
             for r, t, i in (p.values for p in matrix(roles=("client",), ios=EVENT_IO_MODES))]
    plan += [(f"reset-{i}", "server", "1.3", i, RESET_SUT, RESET_PEER, 1)
             for i in SOCKET_IO_MODES]
    plan += [("ticket", "client", "1.3", "memory", TICKET_SUT, TICKET_PEER, 2),
             ("fresh", "client", "1.3", "memory", FRESH_SUT, {"personality": "well-behaved"}, 1),
             ("skip", "client", "1.3", "memory", [{"op": "handshake"}, {"op": "keyupdate"}],
              {"personality": "well-behaved"}, 1)]
    return plan


def comparable(lines: list[dict]) -> list[dict]:
    """A line without what differs from run to run (durations, wait counts
    that depend on timing) and without the serve-only end fields."""
    out = []
    for line in lines:
        line = {k: v for k, v in line.items() if k not in ("ms", "wants", "calls", "drained", "exit", "cell")}
        if isinstance(line.get("native"), dict):
            line["native"] = {k: v for k, v in line["native"].items() if k != "ret"}
        out.append(line)
    return out


def test_serve_gives_the_lines_of_per_process_runs(progs, cell):
    plan = serve_plan()
    with Server(progs) as server:
        served = [server.run(role, tls, io, sut, peer, cell=name)
                  for name, role, tls, io, sut, peer, _ in plan]
        assert server.close() == 0, server.stderr.decode()
    for (name, role, tls, io, sut, peer, conns), s in zip(plan, served):
        c = cell(role, tls, io, sut, peer, connections=conns)
        assert s.end["cell"] == name and s.end["exit"] == c.run.sut.returncode, (name, s.lines)
        assert comparable(s.lines) == comparable(c.run.sut.lines), (name, s.lines, c.describe())
        assert s.markers == [st["marker"] for st in sut if st["op"] == "signal_peer"]
        assert not [e for e in s.peer if e.get("ev") == "expect" and not e["ok"]], (name, s.peer)


def test_serve_cells_share_no_session(progs):
    """A TLS 1.3 client that read its tickets leaves nothing for the next cell:
    every cell has its own session store."""
    with Server(progs) as server:
        a = server.run("client", "1.3", "blocking", TICKET_SUT, TICKET_PEER, cell="a")
        b = server.run("client", "1.3", "blocking", FRESH_SUT, {"personality": "well-behaved"},
                       cell="b")
        assert server.close() == 0
    assert a.outcomes() == ["ok", "closed", "resumable", "complete", "reused", "sent"], a.lines
    assert b.outcomes() == ["ok", "not_resumable", "sent"], b.lines


def test_serve_bad_requests_and_the_end(progs):
    with Server(progs) as server:
        # Nothing connects to these two peers: a short deadline ends them.
        bad_args = server.run("client", "1.3", "memory", [], {"personality": "well-behaved"},
                              request={"cell": "x", "args": ["--role", "client", "--fd", "3"],
                                       "script": []}, deadline_ms=500)
        bad_script = server.run("client", "1.3", "memory", [{"op": "jump"}],
                                {"personality": "well-behaved"}, cell="y", deadline_ms=500)
        ok = server.run("client", "1.2", "memory", CLOSE_SUT, CLOSE_PEER, cell="z")
        assert server.close() == 0
    assert bad_args.lines == [{"end": "error", "message": "--fd is not a serve-mode argument "
                               "(it comes with the request)", "exit": 2, "cell": "x"}]
    assert bad_script.lines[-1] == {"end": "error", "message": "step 1: unknown op 'jump'",
                                    "exit": 2, "cell": "y"}
    assert ok.end == {"end": "ok", "exit": 0, "cell": "z"}


def test_serve_wait_for_a_marker_at_eof_is_exit_4(progs):
    with Server(progs) as server:
        c = server.run("client", "1.2", "nonblocking",
                       [{"op": "handshake"}, {"op": "wait_peer", "marker": "never"}],
                       {"actions": [{"do": "read_all", "timeout_ms": 3000}, {"do": "close"}]},
                       cell="w", close_stdin=True)
        assert server.close() == 0
    assert c.outcomes() == ["ok"]
    assert c.end == {"end": "error", "step": 2, "message":
                     "step 2 (wait_peer): marker 'never': marker channel closed",
                     "exit": 4, "cell": "w"}


@pytest.mark.parametrize("io", IO_MODES)
def test_connect_transport_opens_one_connection_per_resume(cell, io):
    """transport = "connect": the shim dials --connect for each connection."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "shutdown"},
           {"op": "resume"}, {"op": "shutdown"}]
    c = cell("client", "1.3", io, sut, TICKET_PEER, connections=2, transport="connect")
    c.assert_ran(["ok", "closed", "complete", "reused", "sent"])
