"""The peer's command line, script checking and exit codes (docs/peer.md):
2 for a bad command line or script, with a message naming the action and
field; 3 when the run deadline passes; 4 when the peer's own handshake
fails."""
from __future__ import annotations

import json
import socket
import ssl
import subprocess
import tempfile

import pytest

from harness.run.processes import run_cell
from support.cells import Cell
from support.children import reaped
from support.peers import cell, peer_cmd, sut_cmd


def run_peer(progs, script, *extra, tls="1.3"):
    """Runs the peer alone: scripts are checked before any connection."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(script, f)
        f.flush()
        argv = [*peer_cmd(progs, "server", tls), "--fd", "0", "--script", f.name, *extra]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    return p.returncode, lines, p.stderr


@pytest.mark.parametrize("script,message", [
    ({"actions": [{"do": "send_alert", "alert": "close_notify", "level": "loud"}]},
     "action 1 (send_alert): field 'level'"),
    ({"actions": [{"do": "send_data", "bytes": 1}, {"do": "send_alert", "alert": "nope"}]},
     "action 2 (send_alert): field 'alert': unknown alert 'nope'"),
    ({"actions": [{"do": "send_data", "byts": 1}]}, "action 1 (send_data): unknown field 'byts'"),
    ({"actions": [{"do": "send_data", "bytes": 3, "records": [1, 1]}]},
     "action 1 (send_data): field 'records'"),
    ({"actions": [{"do": "send_data", "records": [16385]}]}, "action 1 (send_data): field 'records'"),
    ({"actions": [{"do": "jump"}]}, "action 1: unknown action 'jump'"),
    ({"actions": [{"do": "expect_data"}]}, "action 1 (expect_data): field 'bytes' is required"),
    ({"actions": [{"do": "send_raw", "hex": "abc"}]}, "action 1 (send_raw): field 'hex'"),
    ({"actions": [{"do": "close", "timeout_ms": -1}]}, "action 1 (close): field 'timeout_ms'"),
    ({"actions": [{"do": "signal_sut"}]}, "action 1 (signal_sut): field 'marker' is required"),
    ({"actions": [], "extra": 1}, "script: unknown field 'extra'"),
    ({"personality": "quiet", "actions": []}, "exactly one of 'actions' and 'personality'"),
    ({"personality": "grumpy"}, "unknown personality 'grumpy'"),
    ({"personality": "truncating", "variant": "sideways"}, "personality (truncating): field 'variant'"),
    ({"personality": "quiet", "variant": "legal"}, "personality (quiet): unknown field 'variant'"),
    ({"actions": [], "answer_keyupdate": "yes"}, "field 'answer_keyupdate'"),
    ([1, 2], "script: expected a JSON object"),
])
def test_bad_script_exits_2_naming_the_field(progs, script, message):
    rc, lines, stderr = run_peer(progs, script)
    assert rc == 2, (lines, stderr)
    assert lines[-1]["ev"] == "end" and lines[-1]["status"] == "error"
    assert message in lines[-1]["message"], lines[-1]["message"]
    assert message in stderr


def test_keyupdate_needs_tls13(progs):
    rc, lines, _ = run_peer(progs, {"actions": [{"do": "send_keyupdate"}]}, tls="1.2")
    assert rc == 2 and "action 1 (send_keyupdate)" in lines[-1]["message"]


@pytest.mark.parametrize("extra,message", [
    (["--cipher", "TLS_NULL_WITH_NULL_NULL"], "--cipher"),
    (["--cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], "not a TLS 1.3 suite"),
    (["--deadline-ms", "0"], "--deadline-ms"),
    (["--connect", "127.0.0.1:1"], "exactly one of --fd"),
    (["--bogus"], "unknown option"),
])
def test_bad_command_line_exits_2(progs, extra, message):
    rc, lines, stderr = run_peer(progs, {"actions": []}, *extra)
    assert rc == 2, (lines, stderr)
    assert message in lines[-1]["message"]


def test_missing_credentials_exit_4(progs, tmp_path):
    argv = [str(progs.peer), "--role", "server", "--tls", "1.3", "--fd", "0", "--cert",
            str(tmp_path / "none.pem"), "--key", str(progs.key), "--script", "/dev/null"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode == 2  # /dev/null is not a script: the script is checked first
    script = tmp_path / "s.json"
    script.write_text('{"actions": []}')
    argv[-1] = str(script)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode == 4 and "none.pem" in p.stderr


def test_handshake_failure_exits_4(progs):
    """The SUT speaks TLS 1.2 only, the peer 1.3 only."""
    run = run_cell(peer_cmd(progs, "server", "1.3"), sut_cmd(progs, "client", "1.2"),
                   {"actions": []}, [{"op": "handshake"}], deadline_ms=5000)
    c = Cell(run)
    assert run.peer.returncode == 4, c
    hs = c.ev("handshake")[0]
    assert "unsupported protocol" in hs["error"], hs
    assert c.peer_end["status"] == "error"


def test_run_deadline_exits_3(progs):
    c = cell(progs, {"actions": [{"do": "expect_close_notify", "timeout_ms": 60000}]},
             [{"op": "handshake"}, {"op": "wait_peer", "marker": "never", "timeout_ms": 60000}],
             deadline_ms=1000)
    assert c.run.peer.returncode == 3 and not c.run.peer.killed, c
    assert c.peer_end["status"] == "timeout"
    assert "action 1 (expect_close_notify)" in c.peer_end["message"]
    assert 900 <= c.peer_end["ms"] < 1500


def test_action_timeout_is_an_outcome(progs):
    """An expectation that times out within the run is an expect event, and
    the script goes on."""
    c = cell(progs, {"actions": [{"do": "expect_close_notify", "timeout_ms": 200},
                                 {"do": "signal_sut", "marker": "go"}, {"do": "close"}]},
             [{"op": "handshake"}, {"op": "wait_peer", "marker": "go"}])
    c.assert_clean()
    e = c.expects("close_notify")[0]
    assert e["ok"] is False and e["detail"] == "timeout"
    assert c.ev("marker", dir="sent", name="go")


def test_transcript_has_action_events_and_times(progs):
    c = cell(progs, {"personality": "well-behaved"},
             [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}])
    c.assert_clean()
    evs = c.events
    assert evs[0]["ev"] == "start" and evs[0]["role"] == "server" and evs[0]["tls"] == "1.3"
    assert [e["n"] for e in c.ev("action")] == [1, 2, 3]
    times = [e["ms"] for e in evs]
    assert times == sorted(times)


def test_listen_fd_transport(progs):
    """--listen-fd: the peer accepts on an inherited listening socket; a
    Python ssl client connects to it."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    with lst, tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump({"personality": "well-behaved", "bytes": 5}, f)
        f.flush()
        argv = [*peer_cmd(progs, "server", "1.3"), "--listen-fd", str(lst.fileno()),
                "--script", f.name, "--deadline-ms", "5000"]
        with reaped(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, pass_fds=(lst.fileno(),))) as p:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(lst.getsockname(), timeout=5) as raw:
                with ctx.wrap_socket(raw) as s:
                    assert s.recv(5) == bytes(range(5))
                    s.unwrap()
            out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert [e for e in lines if e["ev"] == "expect"][0]["ok"] is True
