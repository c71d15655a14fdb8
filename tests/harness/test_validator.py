"""Malformed case and stack files: every problem is reported as
`file:line: field: problem` and the command exits 2."""
from __future__ import annotations

import pytest

from conftest import VALID_CASE, write_case, write_stack
from harness.spec import corpus
from harness.spec.case import load_case
from harness.base.problems import InvalidInput

F = "example-case.toml"


def replace(old: str, new: str):
    def mutate(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return mutate


def append(extra: str):
    return lambda text: text + extra


MALFORMED = {
    "toml-syntax": (replace('title = "An example case"', 'title = "An example case'),
                    f"{F}:2: toml: syntax error"),
    "unknown-top-key": (replace('[peer]', 'colour = "blue"\n\n[peer]'),
                        f"{F}:7: colour: unknown key"),
    "unknown-step-key": (replace('label = "close"', 'label = "close"\nnowiat = true'),
                         f"{F}:16: steps[2].nowiat: unknown key"),
    "unknown-peer-key": (replace('personality = "well-behaved"',
                                 'personality = "well-behaved"\nbites = 3'),
                         f"{F}:9: peer.bites: unknown key"),
    "unknown-expect-key": (replace('close = "sent"\ndrain', 'close = "sent"\ndrain'),
                           None),
    "unknown-rfc-key": (append('\n[expect.rfc]\nmust_nt = []\n'),
                        f"{F}:37: expect.rfc.must_nt: unknown key"),
    "unknown-api-field": (replace('close = {ret = 0,', 'close = {retval = 0,'),
                          f"{F}:33: expect.api.steps.close.retval: unknown key"),
    "unknown-pattern-field": (replace('alert = "close_notify"\n', 'alret = "close_notify"\n'),
                              f"{F}:30: expect.rfc.must[1].alret: unknown key"),
    "wrong-type-cites": (replace('cites = ["S1", "S10"]', 'cites = "S1"'),
                         f"{F}:3: cites: must be an array of strings, not a string"),
    "wrong-type-bytes": (replace('until = "close"', 'bytes = "100"'),
                         f"{F}:19: steps[3].bytes: must be an integer, not a string"),
    "wrong-type-bool": (replace('close = {ret = 0, sent = true',
                                'close = {ret = 0, sent = "yes"'),
                        f"{F}:33: expect.api.steps.close.sent: must be true or false"),
    "missing-why": (replace('why = "SSL_shutdown sends close_notify and returns 0 when it is '
                            'first to close."\n', ''),
                    f"{F}:1: why: missing (required)"),
    "missing-op": (replace('op = "shutdown"\n', ''),
                   f"{F}:13: steps[2].op: missing (required)"),
    "missing-required-field": (replace('op = "shutdown"', 'op = "write"'),
                               f"{F}:13: steps[2].bytes: missing (required)"),
    "id-not-file-name": (replace('id = "example-case"', 'id = "other-case"'),
                         f"{F}:1: id: 'other-case' differs from the file name 'example-case'"),
    "unknown-citation": (replace('cites = ["S1", "S10"]', 'cites = ["S1", "S99"]'),
                         f"{F}:3: cites[2]: unknown value 'S99'"),
    "duplicate-citation": (replace('cites = ["S1", "S10"]', 'cites = ["S1", "S1"]'),
                           f"{F}:3: cites[2]: duplicate value 'S1'"),
    "duplicate-label": (replace('label = "drain"', 'label = "close"'),
                        f"{F}:20: steps[3].label: duplicate label (also step 2)"),
    "unknown-label": (replace('drain = "closed"', 'drian = "closed"'),
                      f"{F}:24: expect.rfc.outcomes.drian: no step has label 'drian'"),
    "unknown-op": (replace('op = "shutdown"', 'op = "shutdwon"'),
                   f"{F}:14: steps[2].op: unknown op 'shutdwon'"),
    "unknown-action": (replace('personality = "well-behaved"',
                               'actions = [{do = "send_dta", bytes = 1}]'),
                       f"{F}:8: peer.actions[1].do: unknown action 'send_dta'"),
    "tickets-with-personality": (replace('personality = "well-behaved"',
                                         'personality = "well-behaved"\nsession_tickets = false'),
                                 f"{F}:9: peer.session_tickets: unknown key"),
    "unknown-personality": (replace('"well-behaved"', '"polite"'),
                            f"{F}:8: peer.personality: unknown personality 'polite'"),
    "bad-outcome-for-op": (replace('close = "sent"', 'close = "data:*"'),
                           f"{F}:23: expect.rfc.outcomes.close: 'data:*' is not an outcome of "
                           "shutdown"),
    "keyupdate-in-tls12": (replace('op = "shutdown"', 'op = "keyupdate"'),
                           f"{F}:14: steps[2].op: keyupdate exists only in TLS 1.3 but "
                           "applies.tls includes 1.2"),
    "until-blocked-in-blocking": (replace('op = "shutdown"',
                                          'op = "write"\nbytes = 10\nuntil_blocked = true'),
                                  f"{F}:16: steps[2].until_blocked: needs nonblocking or memory"),
    "api-on-native-only": (replace('[peer]', '[applies]\napi = ["native"]\n\n[peer]'),
                           f"{F}:35: expect.api: api expectations apply only to api = "
                           "\"openssl\" stacks"),
    "empty-applies": (replace('[peer]', '[applies]\nroles = []\n\n[peer]'),
                      f"{F}:8: applies.roles: must not be empty"),
    "unknown-tls": (replace('[peer]', '[applies]\ntls = ["1.4"]\n\n[peer]'),
                    f"{F}:8: applies.tls[1]: unknown value '1.4'"),
    "wait-without-signal": (replace('op = "shutdown"', 'op = "wait_peer"\nmarker = "go"'),
                            f"{F}:15: steps[2].marker: the peer never sends marker 'go'"),
    "negative-size": (replace('until = "close"', 'bytes = -1'),
                      f"{F}:19: steps[3].bytes: -1 is out of range 0..16777216"),
    "huge-size": (replace('until = "close"', 'bytes = 1_000_000_000'),
                  f"{F}:19: steps[3].bytes: 1000000000 is out of range 0..16777216"),
    "huge-record": (replace('personality = "well-behaved"',
                            'actions = [{do = "send_data", bytes = 20000, records = [20000]}]'),
                    f"{F}:8: peer.actions[1].records[1]: 20000 is out of range 1..16384"
                    .replace("1..16384", "0..16384")),
    "records-do-not-add-up": (replace('personality = "well-behaved"',
                                      'actions = [{do = "send_data", bytes = 10, '
                                      'records = [4, 4]}]'),
                              f"{F}:8: peer.actions[1].records: record sizes add up to 8, "
                              "not bytes = 10"),
    "zero-timeout": (replace('label = "close"', 'label = "close"\ntimeout_ms = 0'),
                     f"{F}:16: steps[2].timeout_ms: 0 is out of range 1..120000"),
    "timeout-beyond-deadline": (replace('label = "close"', 'label = "close"\ntimeout_ms = 9000'),
                                f"{F}:16: steps[2].timeout_ms: 9000 ms is longer than the "
                                "case's deadline_ms (8000)"),
    "huge-deadline": (replace('[peer]', 'deadline_ms = 99999999\n\n[peer]'),
                      f"{F}:7: deadline_ms: 99999999 is out of range 100..120000"),
    "bad-version-range": (append('\n[[expect.api.versions]]\nrange = "about 3"\n'
                                 '[expect.api.versions.steps]\nclose = {ret = 0}\n'),
                          f"{F}:37: expect.api.versions[1].range: 'about 3' is not a version"),
    "bad-ret": (replace('close = {ret = 0,', 'close = {ret = "zero",'),
                f"{F}:33: expect.api.steps.close.ret: must be an integer or a comparison"),
    "no-expectations": (lambda t: t[:t.index("[expect.rfc.outcomes]")] +
                        "[expect.rfc]\npeer_expects_ok = true\n",
                        f"{F}:22: expect: states no expectation"),
    "bad-hex": (replace('personality = "well-behaved"',
                        'actions = [{do = "send_raw", hex = "abc"}]'),
                f"{F}:8: peer.actions[1].hex: must be pairs of hex digits"),
    "unknown-alert": (replace('personality = "well-behaved"',
                              'actions = [{do = "send_alert", alert = "close_notfy"}]'),
                      f"{F}:8: peer.actions[1].alert: unknown alert 'close_notfy'"),
}
MALFORMED = {k: v for k, v in MALFORMED.items() if v[1] is not None}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_case_is_reported_with_position_and_exits_2(name, case_dir, run_cli):
    mutate, expected = MALFORMED[name]
    path = write_case(case_dir, mutate(VALID_CASE))
    rc, out, err = run_cli("cases", "--cases-dir", case_dir)
    assert rc == 2, err
    lines = [line.replace(str(path.parent) + "/", "") for line in err.splitlines()]
    assert any(line.startswith(expected) for line in lines), "\n".join(lines)


def test_valid_case_loads(make_case):
    case = make_case()
    assert case.labels == {"close": 2, "drain": 3}
    assert case.sut_script()[1] == {"op": "shutdown"}
    assert case.connections() == 1
    assert case.deadline_ms == 8000


def test_every_problem_of_a_file_is_reported(case_dir):
    text = replace('cites = ["S1", "S10"]', 'cites = ["S99"]')(VALID_CASE)
    text = replace('op = "shutdown"', 'op = "shutdwon"')(text)
    with pytest.raises(InvalidInput) as info:
        load_case(write_case(case_dir, text))
    fields = [p.field for p in info.value.problems]
    assert "cites[1]" in fields and "steps[2].op" in fields


def test_run_refuses_a_bad_case_with_exit_2(case_dir, tmp_path, run_cli):
    write_case(case_dir, replace('op = "shutdown"', 'op = "shutdwon"')(VALID_CASE))
    stack = write_stack(tmp_path / "stacks")
    rc, _, err = run_cli("run", "--cases-dir", case_dir, "--stack-file", stack,
                         "--out", tmp_path / "out")
    assert rc == 2
    assert f"{F}:14: steps[2].op: unknown op" in err


def test_duplicate_ids_are_a_corpus_error(tmp_path):
    a = load_case(write_case(tmp_path / "a", VALID_CASE))
    b = load_case(write_case(tmp_path / "b", VALID_CASE))
    problems = [str(p) for p in corpus.check_corpus([a, b], coverage=False)]
    assert len(problems) == 1
    assert problems[0].endswith("example-case.toml:1: id: duplicate id 'example-case' (also "
                                f"{a.file})")


def test_coverage_names_each_uncited_statement(make_case):
    problems = corpus.check_corpus([make_case()], coverage=True)
    fields = {p.field for p in problems}
    assert "S2" in fields and "R12" in fields and "S1" not in fields
    assert all(p.file.endswith("catalogue.py") and p.line > 1 for p in problems)
    assert corpus.check_corpus([make_case()], coverage=False) == []


def test_cases_check_exits_2_on_coverage_gap(case_dir, tmp_path, run_cli):
    write_case(case_dir, VALID_CASE)
    rc, _, err = run_cli("cases", "--check", "--cases-dir", case_dir,
                         "--stacks-dir", tmp_path / "none")
    assert rc == 2
    assert ": S2: cited by no case" in err


STACK_MALFORMED = {
    "unknown-key": ("colour = 1\n", "fake.toml:10: colour: unknown key"),
    "unknown-known-key": ('[[known]]\ncase = "x"\nsummary = "s"\nevidence = "e"\nsteps = 1\n',
                          "fake.toml:14: known[1].steps: unknown key"),
    "known-missing-evidence": ('[[known]]\ncase = "x"\nsummary = "s"\n',
                               "fake.toml:10: known[1].evidence: missing (required)"),
    "known-bad-check": ('[[known]]\ncase = "x"\nsummary = "s"\nevidence = "e"\ncheck = "wire"\n',
                        "fake.toml:14: known[1].check: must be \"rfc\" or \"api\""),
    "known-bad-versions": ('[[known]]\ncase = "x"\nsummary = "s"\nevidence = "e"\n'
                           'versions = "new"\n',
                           "fake.toml:14: known[1].versions: 'new' is not a version term"),
}


@pytest.mark.parametrize("name", sorted(STACK_MALFORMED))
def test_malformed_stack_file_exits_2(name, case_dir, tmp_path, run_cli):
    extra, expected = STACK_MALFORMED[name]
    write_case(case_dir, VALID_CASE)
    stack = write_stack(tmp_path / "stacks", extra=extra)
    rc, _, err = run_cli("run", "--cases-dir", case_dir, "--stack-file", stack,
                         "--out", tmp_path / "out")
    assert rc == 2
    assert expected in err.replace(str(stack.parent) + "/", "")


def test_stack_name_must_match_file(tmp_path, case_dir, run_cli):
    write_case(case_dir, VALID_CASE)
    stack = write_stack(tmp_path / "stacks")
    renamed = stack.with_name("other.toml")
    stack.rename(renamed)
    rc, _, err = run_cli("run", "--cases-dir", case_dir, "--stack-file", renamed,
                         "--out", tmp_path / "out")
    assert rc == 2 and "other.toml:1: name: 'fake' differs from the file name 'other'" in err


def test_unknown_case_pattern_is_usage_error(case_dir, tmp_path, run_cli):
    write_case(case_dir, VALID_CASE)
    stack = write_stack(tmp_path / "stacks")
    rc, _, err = run_cli("run", "--cases-dir", case_dir, "--stack-file", stack,
                         "--case", "no-such-*", "--out", tmp_path / "out")
    assert rc == 2 and "no case" in err


def test_bad_usage_exits_2(run_cli):
    rc, _, err = run_cli("run", "--tls", "1.4")
    assert rc == 2 and "invalid choice" in err
