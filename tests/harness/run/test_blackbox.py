"""`tlsclose probe` on the bad paths: endpoints that are not there, client
commands that never connect or exit at once, bad command lines. Every path
ends by the cell's deadline and leaves no process and no listening socket."""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import time

import pytest

from support import front_door
from support.build import ROOT, require_built
from support.children import reaped
from support.probe import probe
from support.procfs import port_listened, processes_with

CASE = "peer-closes-first-shutdown-returns-one"


def short_case(tmp_path, deadline_ms: int = 1500):
    """The corpus case with a short deadline, alone in a cases directory."""
    text = (ROOT / "cases" / f"{CASE}.toml").read_text()
    text = text.replace("[peer]", f"deadline_ms = {deadline_ms}\n\n[peer]", 1)
    text = text.replace("timeout_ms = 3000", "timeout_ms = 1000")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / f"{CASE}.toml").write_text(text)
    return cases


def test_connect_refused_is_an_error(tmp_path):
    require_built()
    with socket.socket() as s:             # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, doc, out = probe(tmp_path, "--connect", f"127.0.0.1:{port}", "--case", CASE,
                         "--tls", "1.3")
    assert rc == 3, out
    (cell,) = doc["cells"]
    assert cell["verdict"] == "ERROR" and "peer exited 4" in cell["reason"], cell["reason"]


def test_client_that_exits_at_once(tmp_path):
    require_built()
    start = time.monotonic()
    rc, doc, out = probe(tmp_path, "--listen", "0", "--client-cmd", "echo bye {port}",
                         "--case", CASE)
    assert rc == 3, out
    assert time.monotonic() - start < 30
    for cell in doc["cells"]:
        assert cell["verdict"] == "ERROR"
        assert cell["reason"].startswith("the client command ended before it connected")
        assert "bye" in cell["reason"] and "bye" in cell["stderr"]["sut"]


def test_client_that_never_connects_is_killed_with_its_children(tmp_path):
    require_built()
    cases = short_case(tmp_path)
    # The shell starts a background grandchild and then waits: both must go.
    rc, doc, out = probe(tmp_path, "--listen", "0", "--client-cmd",
                         "sleep 41.25 & sleep 41.5; echo {port}", "--case", CASE, "--tls",
                         "1.2", cases_dir=cases)
    assert rc == 3, out
    (cell,) = doc["cells"]
    assert cell["verdict"] == "ERROR"
    assert "opened no connection before the deadline" in cell["reason"]
    assert 1000 <= cell["duration_ms"] < 10000
    assert processes_with("sleep 41.25") == [] and processes_with("sleep 41.5") == []
    port = int(next(iter(doc["stacks"])).rsplit(":", 1)[1])
    assert not port_listened(port)


def test_stale_connections_never_reach_the_next_cell():
    """A connection a previous cell's client left in the backlog is closed
    before the next client starts, so the next peer gets its own cell's."""
    from harness.run import blackbox
    target = blackbox.open_target(listen=0, client_cmd="x {port}")
    try:
        stale = socket.create_connection(("127.0.0.1", target.port))
        assert select.select([target.listener], [], [], 10)[0]   # it is in the backlog
        blackbox._drain_backlog(target.listener)
        stale.settimeout(10)
        assert stale.recv(1) == b""                    # closed by the harness
        stale.close()
        try:
            target.listener.accept()
            raise AssertionError("a connection was left in the backlog")
        except BlockingIOError:
            pass
    finally:
        target.close()
    assert not port_listened(target.port)


def test_usage_errors(tmp_path):
    for args, words in (
            (["--connect", "localhost"], "expected HOST:PORT"),
            (["--connect", "127.0.0.1:70000"], "expected HOST:PORT"),
            (["--listen", "0", "--client-cmd", "openssl s_client"], "{port}"),
            (["--listen", "0"], "needs --client-cmd"),
            (["--connect", "127.0.0.1:1", "--client-cmd", "x"], "goes with --listen"),
            (["--connect", "127.0.0.1:1", "--case", "sut-closes-first-shutdown-returns-zero"],
             "no selected case has a [probe] table")):
        rc, doc, out = probe(tmp_path / "o", *args)
        assert rc == 2 and words in out, (args, out)
        assert doc is None
    rc, _, out = probe(tmp_path / "o", "--listen", "0", "--connect", "127.0.0.1:1")
    assert rc == 2 and "not allowed with" in out


def test_listen_on_a_taken_port_is_a_usage_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        rc, doc, out = probe(tmp_path, "--listen", str(port), "--client-cmd", "true")
    assert rc == 2 and f"cannot listen on 127.0.0.1:{port}" in out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_kills_the_client_and_writes_partial_results(tmp_path, sig):
    require_built()
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    argv = front_door.argv("probe", "--out", out, "--listen", "0", "--client-cmd",
                           f"echo {{port}} > {fifo}; exec sleep 51.75", "--case", CASE)
    with reaped(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)) as run:
        with open(fifo) as f:              # returns once the first cell's client runs
            assert f.readline().strip().isdigit()
        os.kill(run.pid, sig)              # the harness only, not its children
        output, _ = run.communicate(timeout=60)
    assert run.returncode == 130, output
    doc = json.loads((out / "results.json").read_text())
    assert doc["tool"]["incomplete"] is True
    assert len(doc["cells"]) < 2
    assert processes_with("sleep 51.75") == []


def test_process_verdicts():
    from harness.run import blackbox
    from harness.run.processes import ProcessResult
    from harness.spec.corpus import load_cases
    case = load_cases([ROOT / "cases" / f"{CASE}.toml"], ROOT)[0]
    cell = blackbox.ProbeCell(case, "1.3", "server", "probe:127.0.0.1:1")
    start = {"ev": "start", "role": "client", "tls": "1.3", "ms": 0.0}

    def peer(rc, lines, signal_name=None, killed=False, stderr=""):
        return ProcessResult(["peer"], rc, signal_name, lines, [], stderr, killed)

    j = blackbox.judge(cell, peer(-11, [start], "SIGSEGV", stderr="boom\n"))
    assert j.verdict == "CRASH" and "SIGSEGV" in j.reason and "boom" in j.reason
    j = blackbox.judge(cell, peer(-9, [start], "SIGKILL", killed=True))
    assert j.verdict == "TIMEOUT" and "was killed" in j.reason
    j = blackbox.judge(cell, peer(4, [start, {"ev": "end", "status": "error",
                                              "message": "connect: refused"}]))
    assert (j.verdict, j.reason) == ("ERROR", "peer exited 4: connect: refused")
    j = blackbox.judge(cell, peer(0, [start]))
    assert j.verdict == "ERROR" and "does not end with status ok" in j.reason
