"""Malformed case and stack files: every problem is reported as
`file:line: field: problem` and the command exits 2."""
from __future__ import annotations

import pytest

from harness.spec import corpus
from harness.spec.case import load_case
from harness.base.problems import InvalidInput
from support.harness_files import (CASE_FILE, CITES, MALFORMED_CASES, VALID_CASE, replace,
                                   write_case, write_stack)


@pytest.mark.parametrize("name", sorted(MALFORMED_CASES))
def test_malformed_case_is_reported_with_position_and_exits_2(name, case_dir, run_cli):
    mutate, expected = MALFORMED_CASES[name]
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
    text = replace(CITES, 'cites = ["S99"]')(VALID_CASE)
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
    assert f"{CASE_FILE}:14: steps[2].op: unknown op" in err


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


KNOWN = '[[known]]\ncase = "x"\nsummary = "s"\nevidence = "e"\n'
STACK_MALFORMED = {
    "unknown-key": ("colour = 1\n", "fake.toml:10: colour: unknown key"),
    "unknown-model": ('model = "rfc"\n',
                      "fake.toml:10: model: must be one of ssl_shutdown, none"),
    "unknown-known-key": (KNOWN + 'level = "api"\nsteps = 1\n',
                          "fake.toml:15: known[1].steps: unknown key"),
    "known-missing-evidence": ('[[known]]\ncase = "x"\nlevel = "api"\nsummary = "s"\n',
                               "fake.toml:10: known[1].evidence: missing (required)"),
    "known-missing-level": (KNOWN, "fake.toml:10: known[1].level: missing (required)"),
    # `check` was the level's key before the three levels; it is not read any more.
    "known-old-check-key": (KNOWN + 'check = "rfc"\n',
                            "fake.toml:14: known[1].check: unknown key"),
    "known-bad-level": (KNOWN + 'level = "wire"\n',
                        "fake.toml:14: known[1].level: must be one of rfc, model, api, not "
                        "'wire'"),
    "known-rfc-without-severity": (KNOWN + 'level = "rfc"\n',
                                   'fake.toml:10: known[1].severity: missing (required for '
                                   'level = "rfc"'),
    "known-severity-on-model": (KNOWN + 'level = "model"\nseverity = "interop"\n',
                                'fake.toml:15: known[1].severity: only for level = "rfc"'),
    "known-rule-on-api": (KNOWN + 'level = "api"\nrule = "fatal-alert-then-close"\n',
                          'fake.toml:15: known[1].rule: only for level = "rfc"'),
    "known-unknown-rule": (KNOWN + 'level = "rfc"\nseverity = "interop"\nrule = "nope"\n',
                           "fake.toml:16: known[1].rule: unknown rule 'nope'"),
    "known-severity-not-the-rule's": (KNOWN + 'level = "rfc"\nseverity = "interop"\n'
                                      'rule = "truncation-is-not-a-clean-close"\n',
                                      "fake.toml:15: known[1].severity: 'interop' is not the "
                                      "severity of truncation-is-not-a-clean-close (security)"),
    "known-bad-versions": (KNOWN + 'level = "api"\nversions = "new"\n',
                           "fake.toml:15: known[1].versions: 'new' is not a version term"),
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
