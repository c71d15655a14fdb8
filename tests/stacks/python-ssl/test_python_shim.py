"""The Python ssl shim (stacks/python-ssl/) against the mock peer.

First the protocol the shim owes the harness (docs/shim-protocol.md: command
line, script checks, skips before usage errors, exit codes, deadlines), then
the facts about Python's ssl the stack files rely on. Where a test pins a
Python behaviour it names the source it comes from: CPython 3.11
Modules/_ssl.c and Lib/ssl.py.
"""
from __future__ import annotations

import time

import pytest

from harness.base.vocabulary import IO_MODES
from support.build import BIN, PYTHON, ROOT
from support.cells import EVENT_IO_MODES, SOCKET_IO_MODES, matrix, shim_alone, stack_command

PY_SHIM = ROOT / "stacks" / "python-ssl" / "shim_python.py"


def python_shim_cmd(ragged: bool = False) -> list[str]:
    """The Python shim as its stack files run it."""
    name = "python-ssl-ragged" if ragged else "python-ssl"
    return stack_command(f"stacks/python-ssl/{name}.toml")


def run_shim(args: list[str], script: object | None = None, tmp_path=None,
             ragged: bool = False) -> tuple[int, list[dict], str]:
    """Runs the shim without any peer (for what it decides before IO)."""
    return shim_alone(python_shim_cmd(ragged), args, script, tmp_path)


BASE = ["--role", "client", "--tls", "1.3", "--io", "blocking", "--fd", "99",
        "--cert", "cert.pem", "--key", "key.pem"]


# ---- the protocol --------------------------------------------------------------

@pytest.mark.parametrize("ragged", [False, True])
def test_version_with_the_stack_file_option(ragged):
    rc, lines, _ = run_shim(["--version"], ragged=ragged)
    assert rc == 0
    assert lines == [{"shim": "python-ssl-ragged" if ragged else "python-ssl",
                      "library": lines[0]["library"], "api": "native", "serve": True}]
    assert lines[0]["library"].startswith("Python 3.") and "OpenSSL" in lines[0]["library"]


@pytest.mark.parametrize("args,message", [
    (["--bogus", "1"], "unknown argument '--bogus'"),
    (BASE[:-1], "--key needs a value"),
    (["--role", "peer"] + BASE[2:], "--role: 'peer' is not one of the accepted values"),
    (BASE + ["--connect", "127.0.0.1:1"], "--fd and --connect exclude each other"),
    (BASE + ["--deadline-ms", "0"], "--deadline-ms: '0' is not an integer in 1..3600000"),
    (BASE, "--script is required"),
])
def test_bad_command_line_is_exit_2(args, message):
    rc, lines, _ = run_shim(args)
    assert rc == 2
    assert lines[-1] == {"end": "error", "message": message}


@pytest.mark.parametrize("script,message", [
    ([], "step script: no steps"),
    ([{"op": "handshak"}], "step 1: unknown op 'handshak'"),
    ([{"op": "read", "byte": 3}], "step 1 (read): unknown field 'byte'"),
    ([{"op": "write"}], "step 1 (write): field 'bytes' is required"),
    ([{"op": "write", "bytes": True}], "step 1 (write): field 'bytes': expected an integer"),
    ([{"op": "read", "until": "eof"}],
     "step 1 (read): field 'until': only \"close\" is defined, got \"eof\""),
    ([{"op": "read", "until": "close", "bytes": 3}],
     "step 1 (read): 'bytes' and 'until' exclude each other"),
    ([{"op": "handshake"}, {"op": "free_without_shutdown"}, {"op": "read"}],
     "step 3 (read): the TLS object was freed by step 2"),
    ([{"op": "get_error_after"}],
     "step 1 (get_error_after): the previous step must call the library "
     "(handshake, write, read, shutdown*, keyupdate)"),
])
def test_bad_script_is_exit_2_before_any_io(tmp_path, script, message):
    rc, lines, _ = run_shim(BASE, script, tmp_path)
    assert rc == 2
    assert lines[0]["shim"] == "python-ssl" and lines[0]["io"] == "blocking"
    assert lines[-1] == {"end": "error", "message": message}


@pytest.mark.parametrize("op", ["shutdown_quiet", "keyupdate", "session_resumable"])
def test_impossible_op_is_a_skip_that_beats_usage_errors(tmp_path, op):
    # signal_peer without --marker-out is a usage error, but the skip comes first.
    script = [{"op": "handshake"}, {"op": "signal_peer", "marker": "m"}, {"op": op}]
    rc, lines, _ = run_shim(BASE, script, tmp_path)
    assert rc == 77
    assert lines[-1]["end"] == "skip" and lines[-1]["step"] == 3, lines


def test_until_blocked_in_memory_mode_is_a_skip(tmp_path):
    args = [a if a != "blocking" else "memory" for a in BASE]
    rc, lines, _ = run_shim(args, [{"op": "write", "bytes": 10, "until_blocked": True}],
                            tmp_path)
    assert rc == 77 and "MemoryBIO has no size limit" in lines[-1]["message"]


def test_missing_marker_pipe_is_exit_2(tmp_path):
    rc, lines, _ = run_shim(BASE, [{"op": "wait_peer", "marker": "m"}], tmp_path)
    assert rc == 2 and lines[-1] == {"end": "error", "step": 1,
                                     "message": "step 1 (wait_peer): needs --marker-in"}


# ---- runs against the mock peer -------------------------------------------------

@pytest.mark.parametrize("role,tls,io", matrix())
def test_unwrap_waits_for_the_peer_close_notify(py_cell, role, tls, io):
    """One unwrap() is a whole bidirectional close: _ssl.c calls SSL_shutdown
    again when it returned 0 ("trying SSL_shutdown() only twice")."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "read", "bytes": 300},
           {"op": "shutdown"}, {"op": "get_shutdown"}]
    c = py_cell(role, tls, io, sut, {"personality": "well-behaved", "bytes": 300})
    c.assert_ran(["ok", "ok:1000", "data:300", "complete", "unknown"])
    assert all(s["flags"] is None for s in c.steps), c.describe()
    assert c.step(5)["native"] is None and c.step(5)["calls"] == 0, c.describe()
    # Only a non-blocking socket or an SSLObject can ask to read (how often
    # depends on when the answer arrives); a blocking unwrap() waits inside.
    wants = c.step(4)["wants"]
    assert set(wants) <= ({"want_read"} if io != "blocking" else set()), c.describe()
    assert c.sut_alerts("close_notify") and c.wire(ev="record", dir="sent", by="peer",
                                                   type="alert", alert="close_notify")


@pytest.mark.parametrize("io", EVENT_IO_MODES)
def test_first_shutdown_with_nowait_reports_want_read(py_cell, io):
    sut = [{"op": "handshake"}, {"op": "shutdown", "nowait": True},
           {"op": "signal_peer", "marker": "answer"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "wait_marker", "marker": "answer"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = py_cell("client", "1.3", io, sut, peer)
    c.assert_ran(["ok", "want_read", "ok", "complete"])
    first = c.step(2)
    # Two SSL_shutdown calls inside the one unwrap(): the close_notify is out.
    assert first["calls"] == 1 and first["native"]["error"].startswith("SSLWantReadError")
    assert c.wire(ev="expect", what="close_notify", ok=True), c.describe()


@pytest.mark.parametrize("io", SOCKET_IO_MODES)
def test_after_unwrap_an_sslsocket_refuses_tls_calls(py_cell, io):
    """Lib/ssl.py: unwrap() sets _sslobj = None; read() and a second unwrap()
    then raise ValueError."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read"}, {"op": "shutdown"}]
    c = py_cell("server", "1.2", io, sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "complete", "error:shut_down", "error:shut_down"])
    assert c.step(3)["native"]["error"] == \
        "ValueError: Read on closed or unwrapped SSL socket."
    assert c.step(4)["native"]["error"].startswith("ValueError: No SSL wrapper around")


def test_sslobject_keeps_working_after_unwrap(py_cell):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read"}, {"op": "shutdown"}]
    c = py_cell("server", "1.2", "memory", sut, {"personality": "well-behaved"})
    c.assert_ran(["ok", "complete", "closed", "complete"])
    assert c.step(3)["native"]["error"].startswith("SSLZeroReturnError")


@pytest.mark.parametrize("io", IO_MODES)
def test_peer_data_after_our_close_notify_breaks_unwrap(py_cell, io):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = py_cell("client", "1.3", io, sut,
                {"personality": "data-after-close", "variant": "legal", "bytes": 500})
    c.assert_ran(["ok", "error:data_after_close", c.outcomes()[2]])
    assert c.step(2)["native"]["queue"] == ["SSL: APPLICATION_DATA_AFTER_CLOSE_NOTIFY"]
    assert c.step(3)["bytes"] == 0, c.describe()


@pytest.mark.parametrize("role,tls,io", matrix())
def test_fin_without_close_notify(py_cell, role, tls, io):
    """Strict entry: SSLEOFError (truncated). Ragged entry: b'' (closed),
    from OP_IGNORE_UNEXPECTED_EOF and suppress_ragged_eofs."""
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    peer = {"personality": "no-close-notify", "bytes": 100}
    strict = py_cell(role, tls, io, sut, peer)
    strict.assert_ran(["ok", "truncated"])
    assert strict.step(2)["bytes"] == 100
    assert strict.step(2)["native"]["error"].startswith(("SSLEOFError", "SSLError"))
    assert strict.step(2)["native"]["error"].endswith(
        ("EOF occurred in violation of protocol", "unexpected eof while reading"))
    ragged = py_cell(role, tls, io, sut, peer, ragged=True)
    ragged.assert_ran(["ok", "closed"])
    assert ragged.step(2)["native"] == {"ret": 0, "error": "", "queue": [], "errno": 0}
    assert ragged.hello["suppress_ragged_eofs"] is True


@pytest.mark.parametrize("io", SOCKET_IO_MODES)
def test_reset_while_reading_is_reported_as_eof(py_cell, io):
    """Python 3.11 reports ECONNRESET from SSL_read_ex as SSLEOFError
    (python/cpython#115627); suppress_ragged_eofs then makes it b''."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100},
           {"op": "signal_peer", "marker": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100},
                        {"do": "wait_marker", "marker": "read"}, {"do": "rst"}]}
    strict = py_cell("client", "1.2", io, sut, peer)
    strict.assert_ran(["ok", "data:100", "ok", "truncated"])
    assert strict.step(4)["native"]["error"] == \
        "SSLEOFError: EOF occurred in violation of protocol"
    ragged = py_cell("client", "1.2", io, sut, peer, ragged=True)
    ragged.assert_ran(["ok", "data:100", "ok", "closed"])


def test_reset_in_memory_mode_is_seen_on_the_socket(py_cell):
    """The pump meets the reset and gives the SSLObject EOF, as an
    application would: the outcome is what Python's ssl makes of an EOF
    (strict: SSLEOFError; with Python's defaults, OP_IGNORE_UNEXPECTED_EOF
    makes it a close) and the line says "transport": "reset"."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100},
           {"op": "signal_peer", "marker": "read"}, {"op": "read"}]
    peer = {"actions": [{"do": "send_data", "bytes": 100},
                        {"do": "wait_marker", "marker": "read"}, {"do": "rst"}]}
    for ragged, eof in ((False, "truncated"), (True, "closed")):
        c = py_cell("server", "1.3", "memory", sut, peer, ragged=ragged)
        c.assert_ran(["ok", "data:100", "ok", eof])
        assert c.step(4)["transport"] == "reset", c.describe()


@pytest.mark.parametrize("io", IO_MODES)
def test_plaintext_after_the_bidirectional_close(py_cell, io):
    sut = [{"op": "handshake"}, {"op": "shutdown"},
           {"op": "plaintext_write", "text": "PLAIN FROM SUT\n"},
           {"op": "plaintext_read", "text": "PLAIN FROM PEER\n"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"},
                        {"do": "expect_plaintext", "text": "PLAIN FROM SUT\n"},
                        {"do": "send_plaintext", "text": "PLAIN FROM PEER\n"},
                        {"do": "close"}]}
    c = py_cell("client", "1.2", io, sut, peer)
    c.assert_ran(["ok", "complete", "ok:15", "match"])
    assert c.step(4)["got"] == "PLAIN FROM PEER\n"


@pytest.mark.parametrize("io", IO_MODES)
def test_tls13_client_resumes_after_unwrap_read_the_tickets(py_cell, io):
    """A client that only writes still gets its tickets: unwrap() reads until
    the peer's close (here a FIN, so strict reports unexpected_eof)."""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 100}, {"op": "shutdown"},
           {"op": "close_transport"}, {"op": "resume"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_data", "bytes": 100, "timeout_ms": 3000},
                        {"do": "expect_close_notify", "timeout_ms": 3000}, {"do": "close"},
                        {"do": "next_connection"},
                        {"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = py_cell("client", "1.3", io, sut, peer, connections=2)
    c.assert_ran(["ok", "ok:100", "error:unexpected_eof", "ok", "reused", "complete"])
    assert c.step(5)["reused"] is True
    assert c.wire(ev="handshake", conn=2, resumed=True), c.describe()


def test_server_resumes_a_tls12_session_by_id(py_cell):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "resume"}, {"op": "shutdown"}]
    peer = {"session_tickets": False, "actions": [
        {"do": "expect_close_notify", "timeout_ms": 3000},
        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"},
        {"do": "next_connection"}, {"do": "expect_close_notify", "timeout_ms": 3000},
        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = py_cell("server", "1.2", "blocking", sut, peer, connections=2)
    c.assert_ran(["ok", "complete", "reused", "complete"])


@pytest.mark.parametrize("io", IO_MODES)
def test_a_step_deadline_ends_the_run_in_time(py_cell, io):
    """Blocking mode bounds each call with settimeout(time left): without it
    _ssl.c repeats SSL_read on a SO_RCVTIMEO timeout instead of returning."""
    sut = [{"op": "handshake"}, {"op": "read", "timeout_ms": 400}, {"op": "shutdown"}]
    start = time.monotonic()
    c = py_cell("client", "1.3", io, sut, {"personality": "quiet", "silence_ms": 3000})
    assert c.run.sut.returncode == 3, c.describe()
    assert c.outcomes() == ["ok", "error:timeout"]
    assert c.end == {"end": "timeout", "step": 2,
                     "message": "step 2 (read): step deadline passed"}
    assert 300 <= c.step(2)["ms"] < 2500, c.describe()
    assert time.monotonic() - start < 6.0


def test_first_shutdown_returns_once_the_peer_answers(py_cell):
    """blocking-first-shutdown-returns-without-waiting with the peer's marker
    wait shorter than the step deadline: the blocking unwrap() returns when
    the peer gives up and answers, deterministically complete."""
    sut = [{"op": "handshake"}, {"op": "shutdown"},
           {"op": "signal_peer", "marker": "first-returned"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify", "timeout_ms": 3000},
                        {"do": "wait_marker", "marker": "first-returned", "timeout_ms": 1500},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = py_cell("server", "1.3", "blocking", sut, peer)
    c.assert_ran(["ok", "complete", "ok", "error:shut_down"])
    # The peer gives up its marker wait at its timeout, or earlier when the
    # harness sees both sides stand still (docs/peer.md "Stalls"): at least
    # the stall window (250 ms) either way, and the unwrap() waited for it.
    gave_up = c.wire(ev="expect", what="marker", ok=False)
    assert gave_up, c.describe()
    assert 200 <= c.step(2)["ms"] < 4500, c.describe()


WELL_BEHAVED_TWICE = {"actions": [
    {"do": "expect_data", "bytes": 10, "timeout_ms": 3000},
    {"do": "expect_close_notify", "timeout_ms": 3000},
    {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}, {"do": "next_connection"},
    {"do": "expect_close_notify", "timeout_ms": 3000},
    {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}


@pytest.mark.parametrize("io", IO_MODES)
def test_connect_transport_and_resume(py_cell, io):
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 10}, {"op": "shutdown"},
           {"op": "resume"}, {"op": "shutdown"}]
    c = py_cell("client", "1.2", io, sut, WELL_BEHAVED_TWICE, connections=2,
                transport="connect")
    c.assert_ran(["ok", "ok:10", "complete", "reused", "complete"])


@pytest.mark.parametrize("io", ["blocking", "memory"])
def test_tls13_tickets_read_by_a_finished_unwrap_are_lost(py_cell, io):
    """The tickets arrive while unwrap() reads the peer's close_notify, but
    SSLSocket.session is None once unwrap() has finished (Lib/ssl.py: the
    property asks _sslobj, which unwrap() dropped): the session kept from
    before carries no ticket. An SSLObject keeps its session. (Non-blocking:
    whether an SSLWantReadError lets the application see the session between
    the tickets and the close_notify depends on timing.)"""
    sut = [{"op": "handshake"}, {"op": "write", "bytes": 10}, {"op": "shutdown"},
           {"op": "resume"}, {"op": "shutdown"}]
    c = py_cell("client", "1.3", io, sut, WELL_BEHAVED_TWICE, connections=2)
    resumed = "reused" if io == "memory" else "not_reused"
    c.assert_ran(["ok", "ok:10", "complete", resumed, "complete"])


@pytest.mark.parametrize("tls,suite,iana", [
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256")])
def test_cipher_option(py_cell, tls, suite, iana):
    """TLS 1.2: the shim alone restricts the suite. TLS 1.3: Python cannot
    restrict (no API for TLS 1.3 suites); it accepts the suite the peer,
    restricted too, picks."""
    sut = [{"op": "handshake"}, {"op": "shutdown"}]
    peer_extra = ("--cipher", suite) if tls == "1.3" else ()
    c = py_cell("client", tls, "blocking", sut, {"personality": "well-behaved"},
                sut_args=("--cipher", suite), peer_args=peer_extra)
    c.assert_ran(["ok", "complete"])
    assert c.wire(ev="handshake", cipher=iana), c.describe()


def test_unknown_cipher_is_a_skip(tmp_path):
    rc, lines, _ = run_shim(BASE + ["--cipher", "RC4-MD5"], [{"op": "handshake"}], tmp_path)
    assert rc == 77 and lines[-1]["step"] == 0


def test_stack_files_load_and_name_the_shim():
    from harness.run.detect import detect
    from harness.spec.stack import load_stack
    for name, ragged in (("python-ssl", "false"), ("python-ssl-ragged", "true")):
        stack = load_stack(ROOT / "stacks" / "python-ssl" / f"{name}.toml", ROOT)
        assert stack.api == "native" and stack.io == IO_MODES
        assert stack.argv(BIN, ROOT) == [
            PYTHON, str(PY_SHIM), "--suppress-ragged-eofs", ragged]
        info = detect(stack, BIN, ROOT)
        assert info.available and info.error == "" and info.reported_api == "native", info
        assert info.library.startswith("Python 3.")
