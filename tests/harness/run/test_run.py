"""`tlsclose run` end to end with fake peer and shim programs (Python
stand-ins, no TLS): command lines, the pool, verdicts from real processes,
results.json and exit codes."""
from __future__ import annotations

import sys

import pytest

from harness.output import results
from support.harness_files import FAKES, VALID_CASE, write_case, write_stack

ONE_CELL = ("--tls", "1.3", "--io", "blocking", "--role", "client")


@pytest.fixture
def setup(case_dir, tmp_path, fake_build):
    write_case(case_dir, VALID_CASE
               # The deadline ends the hanging fake; the others, two Python processes
               # each, finish within it even on a loaded machine.
               .replace("[peer]", 'deadline_ms = 3000\n\n[applies]\ntls = ["1.3"]\n\n[peer]')
               .replace('personality = "well-behaved"',
                        'personality = "well-behaved"\ncipher = "TLS_AES_256_GCM_SHA384"'))

    def stack(name, env="{}", **kw):
        return write_stack(tmp_path / "stacks", name=name, env=env, **kw)

    def run(run_cli, *stacks, extra=()):
        args = ["run", "--cases-dir", case_dir, "--build-dir", fake_build, "--out",
                tmp_path / "out", "-j", "8", *ONE_CELL, *extra]
        for s in stacks:
            args += ["--stack-file", s]
        rc, out, err = run_cli(*args)
        doc = results.load(tmp_path / "out" / "results.json")   # checks unpacked
        return rc, out, err, doc
    return stack, run


def test_pass_writes_a_complete_results_file(setup, run_cli):
    stack, run = setup
    rc, out, err, doc = run(run_cli, stack("good"))
    assert rc == 0, out + err
    assert doc["format"] == 2
    assert set(doc["tool"]) >= {"name", "version", "git", "started", "duration_ms", "argv",
                                "incomplete"}
    assert doc["tool"]["incomplete"] is False
    assert doc["stacks"]["good"]["library"] == "FakeSSL 3.0.2"
    assert doc["stacks"]["good"]["available"] is True
    assert doc["cases"]["example-case"]["cites"] == ["S1", "S10", "S14", "R1", "R2"]
    (c,) = doc["cells"]
    assert c["id"] == "example-case/good/tls1.3/blocking/client"
    assert c["verdict"] == "PASS", c["reason"]
    assert c["ops"][0]["shim"] == "fake" and c["ops"][-1] == {"end": "ok"}
    assert c["wire"][-1]["ev"] == "end"
    assert c["command"].startswith("./tlsclose run --stack-file ")
    assert c["command"].endswith("--case example-case --tls 1.3 --io blocking --role client")
    # Command lines are kept for cells worth running again by hand only.
    assert "argv" not in c and "peer" not in c
    assert doc["summary"] == {"total": 1, "PASS": 1, "FAIL": 0, "KNOWN": 0, "SKIP": 0,
                              "ERROR": 0, "TIMEOUT": 0, "CRASH": 0}
    # Every check of the three levels ran (the fake says it is OpenSSL).
    assert {ch["level"] for ch in c["checks"]} == {"rfc", "model", "api"}
    assert doc["findings"] == []
    assert doc["stacks"]["good"]["headline"] == "no RFC violation seen; model: matches 2 of " \
                                                "2 statements"
    assert "results: " in out


def test_fail_exits_1(setup, run_cli):
    stack, run = setup
    rc, out, _, doc = run(run_cli, stack("bad", env='{FAKE_OUTCOME_2 = "complete"}'))
    assert rc == 1
    c = doc["cells"][0]
    # A FAIL keeps its command lines. The peer gets the opposite role and the cipher;
    # the shim gets role, tls and io.
    assert c["argv"]["peer"][1:5] == ["--role", "server", "--tls", "1.3"]
    assert "--cipher" in c["argv"]["peer"] and "TLS_AES_256_GCM_SHA384" in c["argv"]["peer"]
    assert c["argv"]["sut"][:2] == [sys.executable, str(c["argv"]["sut"][1])]
    assert "--io" in c["argv"]["sut"] and "--fd" in c["argv"]["sut"]
    assert doc["cells"][0]["reason"] == \
        "step 2 shutdown 'close' outcome: expected sent, got complete"
    # The summary's finding names the stack, the level and statement, the case and step,
    # and the command that runs the cell again.
    (finding,) = doc["findings"]
    assert (finding["stack"], finding["level"], finding["statements"], finding["cells"]) == \
        ("bad", "model", ["S10"], 1)
    assert f"  FAIL bad: [model S10] example-case: step 2 shutdown 'close' outcome: expected " \
           f"sent, got complete — 1 cell; {doc['cells'][0]['command']}" in out
    assert doc["stacks"]["bad"]["headline"] == "no RFC violation seen; model: matches 1 of 2 " \
                                               "statements"


def test_broken_processes_each_get_their_verdict(setup, run_cli, tmp_path):
    stack, run = setup
    stacks = [stack("crash", env='{FAKE_MODE = "crash"}'),
              stack("hang", env='{FAKE_MODE = "hang"}'),
              stack("slow", env='{FAKE_MODE = "timeout"}'),
              stack("skip", env='{FAKE_MODE = "skip"}'),
              stack("junk", env='{FAKE_MODE = "badjson"}'),
              stack("absent", shim=tmp_path / "nowhere" / "shim")]
    # An absent shim: the stack's command names a program that is not there.
    absent = stacks[-1]
    absent.write_text(absent.read_text().replace(f'"{sys.executable}", ', ""))
    rc, out, _, doc = run(run_cli, *stacks)
    verdicts = {c["stack"]: (c["verdict"], c["reason"]) for c in doc["cells"]}
    assert rc == 3
    assert verdicts["crash"][0] == "CRASH"
    assert verdicts["crash"][1].startswith("shim killed by SIGSEGV in step 2 (shutdown 'close'); "
                                           "last output: ")
    assert verdicts["hang"][0] == "TIMEOUT" and "killed in step 2" in verdicts["hang"][1]
    assert verdicts["slow"] == ("TIMEOUT", "shim timed out in step 2 (shutdown 'close'): "
                                           "step 2 (shutdown): deadline passed")
    assert verdicts["skip"] == ("SKIP", "shim: fake cannot do this")
    assert verdicts["junk"][0] == "ERROR" and "not a JSON object" in verdicts["junk"][1]
    assert verdicts["absent"] == ("SKIP", "unavailable: apt-get install libfake-dev and rebuild")
    assert doc["stacks"]["absent"] == {"title": "A fake stack", "api": "openssl",
                                       "model": "ssl_shutdown",
                                       "file": str(absent), "library": None,
                                       "available": False,
                                       "hint": "unavailable: apt-get install libfake-dev "
                                               "and rebuild",
                                       "headline": "no RFC violation seen",
                                       "model_match": {"checked": [], "differs": []}}
    assert "note: stack absent unavailable: apt-get install libfake-dev and rebuild" in out


def test_missing_peer_is_an_error_not_a_crash(setup, run_cli, fake_build):
    stack, run = setup
    (fake_build / "bin" / "tlsclose-peer").unlink()
    rc, _, _, doc = run(run_cli, stack("good"))
    assert rc == 3
    assert doc["cells"][0]["verdict"] == "ERROR"
    assert doc["cells"][0]["reason"].startswith("mock peer not built")


def test_nothing_selected_is_usage_error(setup, run_cli, case_dir, fake_build, tmp_path):
    stack, _ = setup
    rc, _, err = run_cli("run", "--cases-dir", case_dir, "--build-dir", fake_build,
                         "--stack-file", stack("good"), "--tls", "1.2",
                         "--out", tmp_path / "o")
    assert rc == 2 and "no cell matches" in err


def test_cancel_pipe_cuts_a_running_cell_short(tmp_path):
    import os
    import time

    from harness.run.processes import run_cell
    r, w = os.pipe()
    os.write(w, b"x")
    start = time.monotonic()
    env = {**os.environ, "FAKE_MODE": "hang"}
    run = run_cell([sys.executable, str(FAKES / "fake_peer.py"), "--role", "server", "--tls",
                    "1.3"],
                   [sys.executable, str(FAKES / "fake_shim.py"), "--role", "client", "--tls",
                    "1.3", "--io", "blocking"],
                   {"personality": "well-behaved"}, [{"op": "handshake"}, {"op": "shutdown"}],
                   deadline_ms=20000, sut_env=env, cancel_fd=r)
    os.close(r)
    os.close(w)
    assert time.monotonic() - start < 5
    assert run.sut.killed and run.peer.killed
