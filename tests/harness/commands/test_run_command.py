"""`tlsclose run --fail-on security|interop|any` (harness/commands/run.py):
which findings make the exit status 1, with the fake peer and shim
(tests/support/fakes) on one cell of a case with a check of each severity."""
from __future__ import annotations

import pytest

from harness.output import results
from support.harness_files import VALID_CASE, with_tls13_group, write_case, write_stack

# The example case (interop: the SUT's close_notify on the wire; security: the
# read after the peer's close_notify delivers nothing, here its byte count too;
# model S10 and S14) and hygiene: the read reports the end of the data, a TLS
# 1.3 rule.
CASE = with_tls13_group(VALID_CASE.replace(
    'outcomes = {drain = ["closed", "truncated", "error:*"]}',
    'outcomes = {drain = ["closed", "truncated", "error:*"]}\nbytes = {drain = 0}'))
KNOWN_SECURITY = """
[[known]]
case = "example-case"
level = "rfc"
severity = "security"
summary = "delivers the bytes that follow close_notify"
evidence = "a documented deviation"
"""

# scenario -> (the fake shim's environment, the fake peer's, the stack file's extra
# lines, the exit status for --fail-on security, interop, any)
SCENARIOS = {
    "clean": ({}, {}, "", (0, 0, 0)),
    "security": ({"FAKE_BYTES_3": "100"}, {}, "", (1, 1, 1)),
    "interop": ({}, {"FAKE_PEER_SILENT": "1"}, "", (0, 1, 1)),
    "hygiene": ({"FAKE_OUTCOME_3": "truncated"}, {}, "", (0, 0, 1)),
    "model": ({"FAKE_OUTCOME_2": "complete"}, {}, "", (0, 0, 1)),
    "known-security": ({"FAKE_BYTES_3": "100"}, {}, KNOWN_SECURITY, (0, 0, 0)),
    "crash": ({"FAKE_MODE": "crash"}, {}, "", (3, 3, 3)),
}
THRESHOLDS = ("security", "interop", "any")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fail_on(scenario, tmp_path, fake_build, run_cli, monkeypatch):
    shim_env, peer_env, extra, codes = SCENARIOS[scenario]
    for name, value in peer_env.items():
        monkeypatch.setenv(name, value)          # the peer gets the harness's environment
    cases = write_case(tmp_path / "cases", CASE).parent
    env = "{" + ", ".join(f'{k} = "{v}"' for k, v in shim_env.items()) + "}"
    stack = write_stack(tmp_path / "stacks", env=env, extra=extra)
    got = []
    for fail_on in THRESHOLDS:
        out = tmp_path / fail_on
        rc, _, err = run_cli("run", "--cases-dir", cases, "--build-dir", fake_build,
                             "--stack-file", stack, "--tls", "1.3", "--io", "blocking",
                             "--role", "client", "--mode", "per-process", "--fail-on",
                             fail_on, "--no-report", "--out", out)
        got.append(rc)
        doc = results.load(out / "results.json")
        argv = doc["tool"]["argv"]
        assert argv[argv.index("--fail-on") + 1] == fail_on
    (cell,) = doc["cells"]
    assert tuple(got) == codes, (cell["verdict"], cell["reason"], err)
    # The scenario broke what it meant to break, and only that.
    failed = {(c["level"], c.get("severity")) for c in cell["checks"] if not c["ok"]}
    assert failed == {"clean": set(), "security": {("rfc", "security")},
                      "interop": {("rfc", "interop")}, "hygiene": {("rfc", "hygiene")},
                      "model": {("model", None)}, "known-security": {("rfc", "security")},
                      "crash": set()}[scenario]


def test_fail_on_takes_only_its_words(tmp_path, run_cli):
    rc, _, err = run_cli("run", "--fail-on", "hygiene", "--out", tmp_path / "o")
    assert rc == 2 and "invalid choice: 'hygiene'" in err
