"""Persistent mode (`--serve`, docs/shim-protocol.md "Persistent mode") of the
C shims, the Python and Go shims and the mock peer.

The servers are driven directly (support/serve.py), since the harness does not
speak persistent mode yet. The central check: a cell run through the
servers prints what the same cell prints per process (one process each,
`transport = "connect"`, as persistent mode connects): the same steps with
the same outcome, bytes, flags and native result, the same end, and the
peer's transcript event for event (its "ms" aside). The end lines' "exit"
must be the per-process exit code. The scripts are the cases' own
(cases/*.toml, read with tomllib); each sample cell runs twice through the
same servers, so a cell that left something behind would show in the
second.

Then what only persistent mode has: a crashed cell (SIGSEGV sent to the
cell's process) gets its end line from the server, which goes on; bad
requests end with exit 2 and the server goes on; EOF on standard input ends
the server (exit 0), also in the middle of a cell waiting for a marker
(that cell: exit 4); a marker line between cells is dropped.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
import tomllib

import pytest

from harness.base.vocabulary import DEFAULT_DEADLINE_MS as DEADLINE_MS
from harness.run.processes import run_cell as run_per_process
from support.build import ROOT
from support import serve as sc
from support.cells import OTHER_ROLE, built, programs_for, stack_command

CASES = ROOT / "cases"
PYTHON_SHIM = stack_command("stacks/python-ssl/python-ssl.toml")


def _shutdowns(case_id: str) -> int:
    with open(CASES / f"{case_id}.toml", "rb") as f:
        return sum(st["op"] == "shutdown" for st in tomllib.load(f)["steps"])


# (case, tls, io, SUT role): cells each shim can run (its stack file's
# tls/io/roles and the case's [applies]). Together they cover markers both
# ways, a second connection (resume, TLS 1.2 session cache and TLS 1.3
# tickets), both roles, the three IO modes, alerts, truncation and plaintext
# after TLS.
C_SAMPLE = [
    ("sut-closes-first-shutdown-returns-zero", "1.3", "blocking", "client"),
    ("sut-closes-first-shutdown-returns-zero", "1.2", "memory", "server"),
    ("shutdown-nonblocking-want-read-then-complete", "1.3", "nonblocking", "client"),
    ("sent-flag-set-even-when-sending-fails", "1.3", "blocking", "server"),
    ("tls13-ticket-kept-after-bidirectional-shutdown", "1.3", "blocking", "client"),
    ("server-session-cache-keeps-shut-down-session", "1.2", "nonblocking", "server"),
    ("peer-fin-without-close-notify-is-truncation", "1.2", "blocking", "client"),
    ("tls13-unknown-alert-is-an-error", "1.3", "memory", "server"),
    ("plaintext-continues-after-bidirectional-close", "1.3", "blocking", "client"),
]
SAMPLES = {
    "openssl": C_SAMPLE,
    # Not the plaintext case: GnuTLS's second gnutls_bye sends another
    # close_notify (stacks/gnutls/README.md), which the peer reads where it
    # expects plaintext: ciphertext under keys that differ in every run.
    "gnutls": [c for c in C_SAMPLE if c[0] != "plaintext-continues-after-bidirectional-close"],
    # Not the nonblocking cells: there wolfSSL's second shutdown returns at
    # once, 0 or 1 depending on whether the peer's close_notify has arrived
    # yet (the wolfSSL stack file's known entries), so any two runs may differ.
    "wolfssl": [c for c in C_SAMPLE if c[2] != "nonblocking"],
    # The NSS shim (when built): not the cells with a second shutdown on a
    # socket. NSS's second PR_Shutdown succeeds, or fails with
    # PR_NOT_CONNECTED_ERROR, depending on whether the peer's FIN has arrived
    # yet (the NSS shim's README), so any two runs may differ.
    "nss": [c for c in C_SAMPLE if c[2] == "memory" or _shutdowns(c[0]) < 2],
    "boringssl": C_SAMPLE,
    "mbedtls": [c for c in C_SAMPLE if c[1] == "1.2"],  # mbedTLS 2.28: TLS 1.2 only
    "python": [
        ("sut-closes-first-shutdown-returns-zero", "1.3", "blocking", "client"),
        ("shutdown-nonblocking-want-read-then-complete", "1.3", "nonblocking", "client"),
        ("sent-flag-set-even-when-sending-fails", "1.2", "blocking", "server"),
        ("tls13-ticket-kept-after-bidirectional-shutdown", "1.3", "memory", "client"),
        ("peer-fin-without-close-notify-is-truncation", "1.3", "memory", "server"),
    ],
    "go": [
        ("sut-closes-first-shutdown-returns-zero", "1.3", "blocking", "client"),
        ("sent-flag-set-even-when-sending-fails", "1.3", "blocking", "server"),
        ("tls13-ticket-kept-after-bidirectional-shutdown", "1.3", "blocking", "client"),
        ("peer-fin-without-close-notify-is-truncation", "1.2", "blocking", "server"),
    ],
}
FORKING = ("openssl", "gnutls", "python")  # Go runs its cells in its own process


def shim_command(name: str) -> list[str]:
    if name == "python":
        return PYTHON_SHIM
    path = programs_for(f"tlsclose-shim-{name}").shim
    if not path.exists():
        pytest.skip(f"not built: {path}")
    return [str(path)]


@pytest.fixture(scope="module")
def progs():
    return built("tlsclose-shim-openssl")


# ---- the cases' scripts ---------------------------------------------------------

def load_case(case_id: str) -> tuple[list, dict, int]:
    """The SUT steps and the peer script as the harness gives them (its own
    keys removed: step labels, the peer's cipher), and the connections."""
    with open(CASES / f"{case_id}.toml", "rb") as f:
        case = tomllib.load(f)
    steps = [{k: v for k, v in st.items() if k != "label"} for st in case["steps"]]
    peer = {k: v for k, v in case["peer"].items() if k != "cipher"}
    return steps, peer, 1 + sum(st["op"] == "resume" for st in steps)


# ---- comparing --------------------------------------------------------------------

PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


def _ports_out(value):
    """Addresses in messages (Go's errors name them) differ from run to run."""
    return json.loads(PORT.sub(r"\1:PORT", json.dumps(value)))


def sut_view(lines: list[dict]) -> dict:
    steps = [{k: line.get(k) for k in ("step", "op", "outcome", "bytes", "flags", "native")}
             for line in lines if "step" in line and "op" in line]
    end = next((line for line in lines if "end" in line), {})
    return _ports_out({"hello": lines[0] if lines else None, "steps": steps,
                       "end": {k: v for k, v in end.items() if k not in ("exit", "cell")}})


# Left out of the peer's events besides "ms":
# - "drained" of a "tcp" "close" counts the bytes that reached the socket after
#   the close began (peers/conn.c, conn_close), so a record that arrived a
#   moment earlier in one run and later in another moves between the records
#   logged before and the count; the records themselves are compared.
# - "len" of a NewSessionTicket the peer's own OpenSSL sent: the ticket is the
#   encrypted DER of the session, which holds the random ticket_age_add as a
#   DER INTEGER of 1 to 5 bytes (OpenSSL ssl/ssl_asn1.c, SSL_SESSION_ASN1,
#   tlsext_tick_age_add ZUINT32), so now and then a ticket is one cipher block
#   shorter: 2 of 400 per-process cells of a Go client (which sends SNI) did.
PEER_TIMING = ("ms", "drained")


def _peer_event(e: dict) -> dict:
    drop = PEER_TIMING
    if e.get("ev") == "end":
        drop = (*drop, "exit", "cell")
    if e.get("by") == "library" and e.get("handshake") == "new_session_ticket":
        drop = (*drop, "len")
    return {k: v for k, v in e.items() if k not in drop}


def peer_view(lines: list[dict]) -> list[dict]:
    return _ports_out([_peer_event(e) for e in lines if e.get("ev") != "listen"])


def describe(pp, sv) -> str:
    return (f"per process: sut rc={pp.sut.returncode} {pp.sut.lines}\n"
            f"  stderr {pp.sut.stderr}\n  peer rc={pp.peer.returncode} {pp.peer.lines}\n"
            f"persistent: sut {sv.sut}\n  peer {sv.peer}")


# ---- the same cells per process and through the servers --------------------------

@pytest.fixture(scope="module")
def servers(request, progs):
    """(shim name, shim command, shim server, peer server) for one shim;
    at the end both servers must exit 0 at EOF on their input."""
    name = request.param
    cmd = shim_command(name)
    shim, peer = sc.Server(cmd), sc.Server([str(progs.peer)])
    yield name, cmd, shim, peer
    rcs = shim.close(), peer.close()
    assert rcs == (0, 0), (rcs, shim.stderr, peer.stderr)


PAIRS = [(name, cell) for name, cells in SAMPLES.items() for cell in cells]


# One pair of servers per shim (module scope, indirect): pytest runs a shim's
# cells together, each cell twice through the same servers.
@pytest.mark.parametrize("servers,cell", PAIRS, indirect=["servers"],
                         ids=[f"{n}-{c}-{t}-{i}-{r}" for n, (c, t, i, r) in PAIRS])
def test_serve_prints_what_per_process_prints(servers, progs, cell):
    name, cmd, shim, peer = servers
    case, tls, io, role = cell
    steps, peer_script, connections = load_case(case)
    common = ["--tls", tls, "--cert", str(progs.cert), "--key", str(progs.key)]
    sut_args = ["--role", role, "--io", io, *common]
    peer_args = ["--role", OTHER_ROLE[role], *common]
    pp = run_per_process([str(progs.peer), *peer_args], [*cmd, *sut_args], peer_script, steps,
                         connections=connections, deadline_ms=DEADLINE_MS, transport="connect")
    assert pp.sut.lines and "end" in pp.sut.lines[-1], describe(pp, None)
    for attempt in (1, 2):
        sv = sc.run_cell(shim, peer, f"{case}#{attempt}", sut_args, peer_args, steps,
                         peer_script, DEADLINE_MS)
        assert sut_view(sv.sut) == sut_view(pp.sut.lines), describe(pp, sv)
        assert peer_view(sv.peer) == peer_view(pp.peer.lines), describe(pp, sv)
        assert sv.sut_end["exit"] == pp.sut.returncode, describe(pp, sv)
        assert sv.peer_end["exit"] == pp.peer.returncode, describe(pp, sv)
        assert sv.sut_end["cell"] == sv.peer_end["cell"] == f"{case}#{attempt}"
        assert sv.peer[0]["ev"] == "listen" and isinstance(sv.peer[0]["port"], int)
        sent = [("to_peer", x["marker"]) for x in sv.sut if set(x) == {"marker"}]
        signalled = [("to_sut", e["name"]) for e in sv.peer
                     if e.get("ev") == "marker" and e.get("dir") == "sent"]
        assert sorted(sv.forwarded) == sorted(sent + signalled)


def test_markers_travel_both_ways(progs):
    """A SUT marker is a {"marker": NAME} line before its step's line; a
    peer's is its transcript event; each side waits for the other's."""
    shim, peer = sc.Server(shim_command("openssl")), sc.Server([str(progs.peer)])
    try:
        common = ["--tls", "1.3", "--cert", str(progs.cert), "--key", str(progs.key)]
        steps = [{"op": "handshake"}, {"op": "signal_peer", "marker": "sut-ready"},
                 {"op": "wait_peer", "marker": "peer-ready"}, {"op": "shutdown"},
                 {"op": "read", "until": "close"}]
        script = {"actions": [{"do": "wait_marker", "marker": "sut-ready"},
                              {"do": "signal_sut", "marker": "peer-ready"},
                              {"do": "expect_close_notify"},
                              {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
        c = sc.run_cell(shim, peer, "markers", ["--role", "client", "--io", "blocking", *common],
                        ["--role", "server", *common], steps, script, DEADLINE_MS)
        assert c.forwarded == [("to_peer", "sut-ready"), ("to_sut", "peer-ready")], c
        i = c.sut.index({"marker": "sut-ready"})
        assert c.sut[i + 1]["op"] == "signal_peer", c.sut
        assert [s["outcome"] for s in c.sut if "step" in s] == \
            ["ok", "ok", "ok", "sent", "closed"], c.sut
        assert {"ev": "marker", "dir": "recv", "name": "sut-ready"} in peer_view(c.peer)
        assert c.sut_end == {"end": "ok", "exit": 0, "cell": "markers"}
        assert c.peer_end["status"] == "ok" and c.peer_end["exit"] == 0
    finally:
        shim.close()
        peer.close()


# ---- crashes, bad requests, EOF -------------------------------------------------------

def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def the_cell_process(server: sc.Server) -> int:
    kids = children_of(server.pid)
    assert len(kids) == 1, f"expected one cell process under {server.pid}, found {kids}"
    return kids[0]


def waiting_shim_cell(shim: sc.Server, cell: str, lst: socket.socket) -> None:
    """A shim cell that connected to lst and waits for a marker that never
    comes (until its deadline): its process is there to be killed."""
    port = lst.getsockname()[1]
    shim.request(cell, ["--role", "client", "--tls", "1.3", "--io", "blocking",
                        "--cert", "c.pem", "--key", "k.pem", "--connect", f"127.0.0.1:{port}",
                        "--deadline-ms", "30000"],
                 [{"op": "wait_peer", "marker": "never", "timeout_ms": 30000}])
    sc.read_until(shim, lambda x: "shim" in x, time.monotonic() + 10, "hello line")
    conn, _ = lst.accept()  # the cell is connected: its first step is next
    conn.close()


def good_cell(shim: sc.Server, peer: sc.Server, progs, cell: str) -> sc.ServeCell:
    common = ["--tls", "1.3", "--cert", str(progs.cert), "--key", str(progs.key)]
    steps, script, _ = load_case("sut-closes-first-shutdown-returns-zero")
    return sc.run_cell(shim, peer, cell, ["--role", "client", "--io", "blocking", *common],
                       ["--role", "server", *common], steps, script, DEADLINE_MS)


@pytest.mark.parametrize("name", FORKING)
def test_a_crashed_shim_cell_gets_its_end_line_and_the_server_goes_on(progs, name):
    shim, peer = sc.Server(shim_command(name)), sc.Server([str(progs.peer)])
    lst = socket.create_server(("127.0.0.1", 0))
    try:
        waiting_shim_cell(shim, "doomed", lst)
        os.kill(the_cell_process(shim), signal.SIGSEGV)
        lines = sc.read_until(shim, sc.is_shim_end, time.monotonic() + 10, "end line")
        assert lines[-1] == {"end": "crash", "signal": "SIGSEGV", "exit": None,
                             "cell": "doomed"}, lines
        c = good_cell(shim, peer, progs, "after")
        assert c.sut_end == {"end": "ok", "exit": 0, "cell": "after"}, c
    finally:
        lst.close()
        assert (shim.close(), peer.close()) == (0, 0)


def test_a_crashed_peer_cell_gets_its_end_event_and_the_server_goes_on(progs):
    shim, peer = sc.Server(shim_command("openssl")), sc.Server([str(progs.peer)])
    try:
        peer.request("doomed", ["--role", "server", "--tls", "1.3", "--cert", str(progs.cert),
                                "--key", str(progs.key), "--listen", "127.0.0.1:0",
                                "--deadline-ms", "30000"], {"personality": "well-behaved"})
        # After "start" the cell's process waits for a connection.
        sc.read_until(peer, lambda x: x.get("ev") == "start", time.monotonic() + 10, "start")
        os.kill(the_cell_process(peer), signal.SIGSEGV)
        end = sc.read_until(peer, sc.is_peer_end, time.monotonic() + 10, "end event")[-1]
        assert {k: v for k, v in end.items() if k != "ms"} == \
            {"ev": "end", "status": "crash", "signal": "SIGSEGV", "exit": None,
             "cell": "doomed"}, end
        assert isinstance(end["ms"], float)
        c = good_cell(shim, peer, progs, "after")
        assert c.peer_end["status"] == "ok" and c.peer_end["cell"] == "after", c
    finally:
        assert (shim.close(), peer.close()) == (0, 0)


BAD_REQUESTS = [
    ("not json\n", None, "request"),
    ('["a list"]\n', None, "request"),
    ('{"args": [], "script": []}\n', None, "'cell'"),
    ('{"cell": "x", "args": [], "script": [], "extra": 1}\n', "x", "unknown field 'extra'"),
    ('{"cell": "x", "args": [1], "script": []}\n', "x", "'args'"),
    ('{"cell": "x", "args": []}\n', "x", "'script'"),
]


@pytest.mark.parametrize("name", ("openssl", "python", "go"))
def test_bad_requests_end_with_exit_2_and_the_server_goes_on(progs, name):
    shim, peer = sc.Server(shim_command(name)), sc.Server([str(progs.peer)])
    common = ["--tls", "1.3", "--cert", str(progs.cert), "--key", str(progs.key)]
    try:
        for text, cell, words in BAD_REQUESTS:
            shim.send_raw(text)
            end = sc.read_until(shim, sc.is_shim_end, time.monotonic() + 10, "end line")
            assert len(end) == 1 and end[0]["end"] == "error" and end[0]["exit"] == 2 \
                and end[0]["cell"] == cell and words in end[0]["message"], (text, end)
        # A bad command line or script: the same error as per process.
        for args, script, words in [
                (["--role", "client", "--tls", "1.4", "--io", "blocking", *common[2:]],
                 [{"op": "handshake"}], "--tls"),
                (["--role", "client", "--io", "blocking", *common, "--fd", "3"],
                 [{"op": "handshake"}], "--fd has no place"),
                (["--role", "client", "--io", "blocking", *common],
                 [{"op": "handshake"}], "--connect is required"),
                (["--role", "client", "--io", "blocking", *common, "--connect", "127.0.0.1:9"],
                 [{"op": "handshakes"}], "unknown op 'handshakes'")]:
            lines = sc.shim_request_line(shim, "bad-args", args, script)
            assert lines[-1]["end"] == "error" and lines[-1]["exit"] == 2 \
                and lines[-1]["cell"] == "bad-args" and words in lines[-1]["message"], lines
        c = good_cell(shim, peer, progs, "after")
        assert c.sut_end == {"end": "ok", "exit": 0, "cell": "after"}, c
    finally:
        assert (shim.close(), peer.close()) == (0, 0)


def test_peer_bad_requests_end_with_exit_2(progs):
    peer = sc.Server([str(progs.peer)])
    common = ["--role", "server", "--tls", "1.3", "--cert", str(progs.cert), "--key",
              str(progs.key)]
    try:
        for args, words in [(common, "--listen is required"),
                            ([*common, "--listen", "127.0.0.1:0", "--listen-fd", "3"],
                             "--listen-fd has no place"),
                            ([*common, "--listen", "127.0.0.1:0", "--script", "x"],
                             "--script has no place")]:
            peer.request("bad", args, {"personality": "well-behaved"})
            end = sc.read_until(peer, sc.is_peer_end, time.monotonic() + 10, "end")[-1]
            assert end["status"] == "error" and end["exit"] == 2 and end["cell"] == "bad" \
                and words in end["message"], end
        peer.send_raw("{}\n")
        end = sc.read_until(peer, sc.is_peer_end, time.monotonic() + 10, "end")[-1]
        assert end["exit"] == 2 and end["cell"] is None and "'cell'" in end["message"], end
    finally:
        assert peer.close() == 0


@pytest.mark.parametrize("name", ("openssl", "python", "go"))
def test_eof_while_a_cell_waits_for_a_marker_ends_cell_and_server(progs, name):
    """The cell's marker channel closed: exit 4, as a closed marker pipe is
    per process; then the server sees EOF too and exits 0."""
    shim = sc.Server(shim_command(name))
    lst = socket.create_server(("127.0.0.1", 0))
    try:
        waiting_shim_cell(shim, "orphan", lst)
        shim.proc.stdin.close()
        lines = sc.read_until(shim, sc.is_shim_end, time.monotonic() + 10, "end line")
        assert lines[-1]["end"] == "error" and lines[-1]["exit"] == 4, lines
        assert "marker channel" in lines[-1]["message"], lines
        assert shim.close() == 0
    finally:
        lst.close()
        shim.kill()


@pytest.mark.parametrize("name", ("openssl", "python", "go"))
def test_eof_ends_an_idle_server_and_stray_markers_are_dropped(progs, name):
    shim, peer = sc.Server(shim_command(name)), sc.Server([str(progs.peer)])
    try:
        shim.send({"marker": "late"})
        peer.send({"marker": "late"})
        c = good_cell(shim, peer, progs, "after-stray")
        assert c.sut_end["end"] == "ok" and c.peer_end["status"] == "ok", c
        assert b"dropped" in shim.stderr and b"dropped" in peer.stderr
    finally:
        assert (shim.close(), peer.close()) == (0, 0)


@pytest.mark.parametrize("name", ("openssl", "gnutls", "python", "go"))
def test_version_line_says_serve(name):
    import subprocess
    out = subprocess.run([*shim_command(name), "--version"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0 and json.loads(out.stdout)["serve"] is True, out
