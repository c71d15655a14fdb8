"""`tlsclose endpoints` end to end against real programs: one client (curl)
and one server (haproxy) through every scenario, and the machinery around
them with small endpoint files of the test's own: a missing program (exit
77), a pre-flight that fails (one ERROR), a TLS version the client does not
offer (SKIP), a server that does not start, a server that dies (refusals
stop the run), and Ctrl-C (every child reaped, results marked incomplete).

Each run is bounded by the subprocess timeout; no test sleeps."""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys

import pytest

from support.build import ROOT

TIMEOUT_S = 240


def tlsclose(build, out, *args, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tlsclose"), "endpoints", "--no-build",
                           "--build-dir", str(build), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT)


def results(out) -> dict:
    return json.loads((out / "results.json").read_text())


def need(*programs: str) -> None:
    missing = [p for p in programs if not shutil.which(p)]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def test_curl_and_haproxy_through_every_scenario(build_ready, tmp_path):
    need("curl", "haproxy")
    done = tlsclose(build_ready, tmp_path, "--endpoint", "curl", "--endpoint", "haproxy")
    doc = results(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [c["id"] for c in doc["cells"]]
    assert all(i.split("/")[1] in ("curl", "haproxy") and "/endpoint/" in i for i in ids)
    assert {c["verdict"] for c in doc["cells"]} <= {"PASS", "KNOWN", "SKIP"}
    curl, haproxy = doc["endpoints"]["curl"], doc["endpoints"]["haproxy"]
    assert curl["version"].startswith("curl ") and haproxy["version"].startswith("HAProxy")
    # curl 7.88.1 takes a FIN as the end of a close-delimited body (documented in curl.toml)
    truncation = curl["answers"]["truncation"]
    assert truncation["content-length"]["text"].startswith("yes")
    assert "takes as complete: client-close-delimited-complete-fin" in \
        truncation["close-delimited"]["text"]
    known = [doc["findings"][i] for i in curl["findings"]]
    assert known and all(f["known"] and f["severity"] == "security" for f in known)
    assert haproxy["answers"]["sends_close_notify"]["text"].startswith("always")
    posts = [c for c in doc["cells"] if c["stack"] == "haproxy" and "post" in c["case"]]
    assert posts and all(c["endpoint"]["request"] != "reached the backend complete"
                         for c in posts)
    assert 'id="endpoints"' in (tmp_path / "index.html").read_text()


CLIENT = """\
name = "{name}"
title = "a test client"
role = "client"
programs = {programs}
version = ["curl", "--version"]
command = {command}

[verdict]
success_exit = [0]
body = "{body}"
"""


def client_file(tmp_path, name, command, programs='["curl"]', body="file"):
    path = tmp_path / f"{name}.toml"
    path.write_text(CLIENT.format(name=name, command=json.dumps(command), programs=programs,
                                  body=body))
    return path


def test_missing_program_is_a_skip_with_the_install_command(build_ready, tmp_path):
    f = client_file(tmp_path, "ghost", ["/nonexistent/ghost", "{url}", "{body}"],
                    '["/nonexistent/ghost"]')
    done = tlsclose(build_ready, tmp_path / "out", "--endpoint-file", str(f))
    assert done.returncode == 77, done.stderr
    assert "SKIP ghost: unavailable: /nonexistent/ghost not found" in done.stderr
    assert results(tmp_path / "out")["cells"] == []


def test_preflight_failure_is_one_error(build_ready, tmp_path):
    need("curl")
    # connects, then closes at once: no handshake, no exchange
    hangup = [sys.executable, "-c", "import socket, sys; socket.create_connection(('127.0.0.1', "
              "int(sys.argv[1]))).close()", "{port}"]
    f = client_file(tmp_path, "hangup", hangup, body="none")
    done = tlsclose(build_ready, tmp_path / "out", "--endpoint-file", str(f))
    doc = results(tmp_path / "out")
    assert done.returncode == 3
    assert [c["verdict"] for c in doc["cells"]] == ["ERROR"]
    assert doc["cells"][0]["reason"].startswith("pre-flight: a plain complete exchange")
    assert doc["endpoints"]["hangup"]["error"].startswith("pre-flight")


def test_version_not_offered_is_a_skip(build_ready, tmp_path):
    need("curl")
    f = client_file(tmp_path, "curl12", ["curl", "-sS", "-k", "--http1.1", "--tls-max", "1.2",
                                         "-o", "{body}", "{url}"])
    done = tlsclose(build_ready, tmp_path / "out", "--endpoint-file", str(f),
                    "--scenario", "client-content-length-complete-fin")
    doc = results(tmp_path / "out")
    assert done.returncode == 0, done.stdout + done.stderr
    by_tls = {(c["tls"], c["case"]): c for c in doc["cells"]}
    assert {c["verdict"] for k, c in by_tls.items() if k[0] == "1.2"} == {"PASS"}
    skipped = [c for k, c in by_tls.items() if k[0] == "1.3"]
    assert skipped and {c["verdict"] for c in skipped} == {"SKIP"}
    assert "offers no TLS 1.3" in skipped[0]["reason"]


SERVER = """\
name = "{name}"
title = "a test server"
role = "server"
programs = ["openssl"]
version = ["openssl", "version"]
command = {command}
stdin_eof = false

[server]
listen = "self"
port = "ready"
ready = "^ACCEPT 127\\\\.0\\\\.0\\\\.1:(?P<port>\\\\d+)"
paths = {{get = "/index.txt", post = "/index.txt"}}
"""


def server_file(tmp_path, name, command):
    path = tmp_path / f"{name}.toml"
    path.write_text(SERVER.format(name=name, command=json.dumps(command)))
    return path


def test_server_that_does_not_start_is_one_error(build_ready, tmp_path):
    need("openssl")
    f = server_file(tmp_path, "broken", ["openssl", "s_server", "-no-such-option"])
    done = tlsclose(build_ready, tmp_path / "out", "--endpoint-file", str(f))
    doc = results(tmp_path / "out")
    assert done.returncode == 3
    assert [c["verdict"] for c in doc["cells"]] == ["ERROR"]
    assert "broken did not start" in doc["cells"][0]["reason"]


def test_a_server_that_dies_stops_the_run_with_one_message(build_ready, tmp_path):
    need("openssl")
    # -naccept 1: s_server serves the pre-flight connection, then exits
    f = server_file(tmp_path, "once", ["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                                      "{cert}", "-key", "{key}", "-WWW", "-naccept", "1"])
    done = tlsclose(build_ready, tmp_path / "out", "--endpoint-file", str(f), "--tls", "1.3")
    doc = results(tmp_path / "out")
    assert done.returncode == 3
    errors = [c for c in doc["cells"] if c["verdict"] == "ERROR"]
    assert len(errors) == 3 and "refused 3 connections in a row" in errors[-1]["reason"]
    assert doc["endpoints"]["once"]["stopped"].startswith("once refused 3 connections")
    assert len(doc["cells"]) == 4            # the pre-flight, then three refusals: no more


def test_interrupt_reaps_every_child(build_ready, tmp_path):
    need("curl")
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    # The client says it runs (its pid into the FIFO), then waits far past any deadline.
    f = client_file(tmp_path, "stuck", ["sh", "-c", f"echo $$ > {fifo}; exec sleep 300"],
                    body="none")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tlsclose"), "endpoints", "--no-build",
                             "--build-dir", str(build_ready), "--out", str(tmp_path / "out"),
                             "--endpoint-file", str(f)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        ready, _, _ = select.select([fd], [], [], 60)
        assert ready, f"the client never started: {proc.poll()}"
        client_pid = int(os.read(fd, 64).decode().split()[0])
        os.close(fd)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    with pytest.raises(ProcessLookupError):
        os.kill(client_pid, 0)
    assert results(tmp_path / "out")["tool"]["incomplete"] is True
