"""Bad input is exit 2 with `file:line: field: problem`, and it never costs
the results of an earlier run: an existing out/results.json is neither
overwritten nor truncated, and nothing else appears beside it.

Case files: the table of support/harness_files.py (over 40 malformed files,
which tests/harness/spec/test_validator.py checks in-process) is run once
more through the front door with an earlier results.json in place. Stack files and the step and peer scripts
(JSON, read by the shim and the mock peer themselves) have their own tables
here. The shim and the peer name the step or action and the field."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from support.front_door import tlsclose
from support.harness_files import MALFORMED_CASES as CASE_MALFORMED
from support.harness_files import VALID_CASE, write_case

RUN_S = 120           # bad input ends a run at once; this only bounds a bug
EARLIER = {"format": 1, "note": "an earlier run's results, which bad input must not touch"}

STACK = """\
name = "fake"
title = "A fake stack"
api = "native"
command = ["{bin}/tlsclose-shim-openssl"]
tls = ["1.2", "1.3"]
roles = ["client", "server"]
io = ["blocking", "nonblocking", "memory"]
"""

STACK_MALFORMED = {
    "toml-syntax": (('title = "A fake stack"', 'title = "A fake stack'),
                    "fake.toml:2: toml: syntax error"),
    "wrong-type": (('tls = ["1.2", "1.3"]', 'tls = "1.3"'),
                   "fake.toml:5: tls: must be an array of strings, not a string"),
    "missing-command": (('command = ["{bin}/tlsclose-shim-openssl"]\n', ''),
                    "fake.toml:1: command: missing (required)"),
    "unknown-io": (('"memory"]', '"telepathy"]'),
                   "fake.toml:7: io[3]: unknown value 'telepathy'"),
    "impossible-roles": (('roles = ["client", "server"]', 'roles = []'),
                         "fake.toml:6: roles: must not be empty"),
    "unknown-placeholder": (("{bin}", "{nope}"),
                            "fake.toml:4: command[1]: unknown placeholder {nope}"),
    "unknown-transport": (('api = "native"', 'api = "native"\ntransport = "pigeon"'),
                          "fake.toml:4: transport: must be \"fd\" or \"connect\""),
    "unknown-api": (('api = "native"', 'api = "gossip"'), "fake.toml:3: api:"),
    "known-wrong-type": (('"memory"]', '"memory"]\n\n[[known]]\ncase = 7\nsummary = "s"\n'
                                       'evidence = "e"'),
                         "fake.toml:10: known[1].case: must be a string, not an integer"),
}

STEP_MALFORMED = {
    "json-syntax": ('[{"op": "handshake"},', "JSON"),
    "not-an-array": ('{"op": "handshake"}', ""),
    "unknown-op": ('[{"op": "handshake"}, {"op": "shutdwon"}]', "step 2"),
    "unknown-field": ('[{"op": "handshake"}, {"op": "write", "byte": 3}]',
                      "step 2 (write): unknown field 'byte'"),
    "missing-bytes": ('[{"op": "write"}]', "step 1 (write)"),
    "wrong-type": ('[{"op": "write", "bytes": "100"}]', "step 1 (write): field 'bytes'"),
    "negative-size": ('[{"op": "write", "bytes": -1}]', "step 1 (write): field 'bytes'"),
    "huge-size": ('[{"op": "write", "bytes": 1000000000000}]', "step 1 (write): field 'bytes'"),
    "contradiction": ('[{"op": "read", "bytes": 5, "until": "close"}]', "step 1 (read)"),
    "zero-timeout": ('[{"op": "shutdown", "timeout_ms": 0}]', "step 1 (shutdown)"),
    "marker-newline": ('[{"op": "signal_peer", "marker": "a\\nb"}]', "step 1 (signal_peer)"),
}

PEER_MALFORMED = {
    "json-syntax": ('{"actions": [', "JSON"),
    "unknown-action": ('{"actions": [{"do": "send_dta"}]}', "action 1"),
    "unknown-key": ('{"actions": [{"do": "fin", "colour": 1}]}', "action 1 (fin)"),
    "wrong-level": ('{"actions": [{"do": "send_alert", "alert": "close_notify", '
                    '"level": "loud"}]}', "action 1 (send_alert): field 'level'"),
    "records-mismatch": ('{"actions": [{"do": "send_data", "bytes": 10, "records": [4]}]}',
                         "action 1 (send_data)"),
    "negative-size": ('{"actions": [{"do": "send_data", "bytes": -5}]}',
                      "action 1 (send_data): field 'bytes'"),
    "huge-record": ('{"actions": [{"do": "send_data", "bytes": 20000, "records": [20000]}]}',
                    "action 1 (send_data)"),
    "keyupdate-in-tls12": ('{"actions": [{"do": "send_keyupdate"}]}', "action 1"),
    "unknown-personality": ('{"personality": "polite"}', "polite"),
    "both-forms": ('{"personality": "quiet", "actions": []}', ""),
    "huge-timeout": ('{"actions": [{"do": "fin", "timeout_ms": 99999999999}]}',
                     "action 1 (fin): field 'timeout_ms'"),
}


# -- the earlier results stay as they were ----------------------------------------------

@pytest.fixture
def earlier(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    path = out / "results.json"
    path.write_text(json.dumps(EARLIER))
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = (path.read_bytes(), path.stat().st_mtime_ns)

    def untouched():
        assert sorted(p.name for p in out.iterdir()) == ["results.json"]
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    return out, untouched


def _cases_dir(tmp_path: Path, text: str) -> Path:
    return write_case(tmp_path / "cases", text).parent


@pytest.mark.parametrize("name", sorted(CASE_MALFORMED))
def test_malformed_case_file(name, tmp_path, build, earlier):
    mutate, expected = CASE_MALFORMED[name]
    out, untouched = earlier
    cases = _cases_dir(tmp_path, mutate(VALID_CASE))
    done = tlsclose("run", "--cases-dir", cases, "--stack", "openssl", "--out", out,
                    build=build, timeout=RUN_S)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr.replace(str(cases) + "/", "")
    untouched()


@pytest.mark.parametrize("name", sorted(STACK_MALFORMED))
def test_malformed_stack_file(name, tmp_path, build, earlier):
    (old, new), expected = STACK_MALFORMED[name]
    assert old in STACK, old
    out, untouched = earlier
    cases = _cases_dir(tmp_path, VALID_CASE)
    stack = tmp_path / "fake.toml"
    stack.write_text(STACK.replace(old, new, 1))
    done = tlsclose("run", "--cases-dir", cases, "--stack-file", stack, "--out", out,
                    build=build, timeout=RUN_S)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr.replace(str(tmp_path) + "/", "")
    untouched()


def test_stack_selected_twice(tmp_path, build, earlier):
    out, untouched = earlier
    stack = tmp_path / "fake.toml"
    stack.write_text(STACK)
    done = tlsclose("run", "--cases-dir", _cases_dir(tmp_path, VALID_CASE),
                    "--stack-file", stack, "--stack-file", stack, "--out", out, build=build,
                    timeout=RUN_S)
    assert done.returncode == 2 and "stack fake is selected twice" in done.stderr
    untouched()


def test_case_that_applies_nowhere(tmp_path, build, earlier):
    """Applicability no stack can meet: no cell at all is a usage error."""
    out, untouched = earlier
    text = VALID_CASE.replace("[peer]", '[applies]\ntls = ["1.2"]\n\n[peer]')
    done = tlsclose("run", "--cases-dir", _cases_dir(tmp_path, text), "--stack", "openssl",
                    "--tls", "1.3", "--out", out, build=build, timeout=RUN_S)
    assert done.returncode == 2 and "no cell matches" in done.stderr
    untouched()


# -- scripts given straight to the shim and the peer ----------------------------------

def _run_program(argv: list[str], script: Path) -> subprocess.CompletedProcess:
    from harness.run.processes import tcp_pair
    a, b = tcp_pair()
    with a, b:
        return subprocess.run([*argv, "--fd", str(a.fileno()), "--script", str(script),
                               "--deadline-ms", "5000"], pass_fds=(a.fileno(),),
                              capture_output=True, text=True, timeout=30)


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(STEP_MALFORMED))
def test_malformed_step_script(name, tmp_path, build):
    text, expected = STEP_MALFORMED[name]
    script = tmp_path / "steps.json"
    script.write_text(text)
    creds = build / "credentials"
    done = _run_program([str(build / "bin" / "tlsclose-shim-openssl"), "--role", "client",
                         "--tls", "1.3", "--io", "blocking", "--cert", str(creds / "cert.pem"),
                         "--key", str(creds / "key.pem")], script)
    assert done.returncode == 2, done.stdout + done.stderr
    end = _last_json(done.stdout)
    assert end["end"] == "error" and expected in end["message"], end


@pytest.mark.parametrize("name", sorted(PEER_MALFORMED))
def test_malformed_peer_script(name, tmp_path, build):
    text, expected = PEER_MALFORMED[name]
    script = tmp_path / "peer.json"
    script.write_text(text)
    creds = build / "credentials"
    tls = "1.2" if name == "keyupdate-in-tls12" else "1.3"
    done = _run_program([str(build / "bin" / "tlsclose-peer"), "--role", "server", "--tls", tls,
                         "--cert", str(creds / "cert.pem"), "--key", str(creds / "key.pem")],
                    script)
    assert done.returncode == 2, done.stdout + done.stderr
    end = _last_json(done.stdout)
    assert end["ev"] == "end" and end["status"] == "error" and expected in end["message"], end
