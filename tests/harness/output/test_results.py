"""results.json: exit codes, merging, refusing duplicate cells, loading."""
from __future__ import annotations

import json

import pytest

from harness.output import results


def cell(case, stack="openssl", tls="1.3", io="blocking", role="client", verdict="PASS",
         severity="interop"):
    """A cell; a FAIL or KNOWN one with the failed rfc check that made it so."""
    checks = []
    if verdict in ("FAIL", "KNOWN"):
        rule = {"interop": "close-notify-before-closing-write",
                "security": "truncation-is-not-a-clean-close",
                "hygiene": "tls13-close-notify-is-end-of-data"}[severity]
        checks = [{"level": "rfc", "step": None, "rule": rule, "severity": severity,
                   "what": "peer transcript has {ev=record}", "expected": "seen",
                   "actual": "not seen", "ok": False, "known": verdict == "KNOWN",
                   **({"known_summary": "documented"} if verdict == "KNOWN" else {})}]
    return {"id": f"{case}/{stack}/tls{tls}/{io}/{role}", "case": case, "stack": stack,
            "tls": tls, "io": io, "role": role, "verdict": verdict, "reason": "",
            "checks": checks, "command": f"./tlsclose run --case {case}"}


def doc(cells, stacks=("openssl",), started="2026-01-01T00:00:00+00:00", available=True):
    return results.build({"name": "tlsclose", "started": started, "duration_ms": 10.0,
                          "incomplete": False},
                         {s: {"title": s, "api": "openssl", "library": "L 1.0",
                              "available": available, "hint": ""} for s in stacks},
                         {c["case"]: {"title": "t", "cites": [], "why": "w", "file": "f"}
                          for c in cells}, cells)


@pytest.mark.parametrize("verdicts, code", [
    (["PASS", "SKIP", "KNOWN"], 0), (["PASS", "FAIL"], 1), (["FAIL", "ERROR"], 3),
    (["TIMEOUT"], 3), (["CRASH", "PASS"], 3), ([], 0)])
def test_exit_codes(verdicts, code):
    d = doc([cell(f"c{i}", verdict=v) for i, v in enumerate(verdicts)])
    assert results.exit_code(d) == code


@pytest.mark.parametrize("severity, fail_on, code", [
    ("security", "security", 1), ("security", "interop", 1), ("security", "any", 1),
    ("interop", "security", 0), ("interop", "interop", 1), ("interop", "any", 1),
    ("hygiene", "security", 0), ("hygiene", "interop", 0), ("hygiene", "any", 1)])
def test_exit_code_follows_fail_on(severity, fail_on, code):
    d = doc([cell("a", verdict="FAIL", severity=severity), cell("b")])
    assert results.exit_code(d, fail_on) == code
    # KNOWN never fails; a broken cell is 3 whatever the threshold.
    assert results.exit_code(doc([cell("a", verdict="KNOWN", severity=severity)]),
                             fail_on) == 0
    assert results.exit_code(doc([cell("a", verdict="FAIL", severity=severity),
                                  cell("b", verdict="CRASH")]), fail_on) == 3


def test_summary_counts_every_verdict():
    s = results.summary([cell("a", verdict="FAIL"), cell("b", verdict="FAIL")])
    assert s == {"total": 2, "PASS": 0, "FAIL": 2, "KNOWN": 0, "SKIP": 0, "ERROR": 0,
                 "TIMEOUT": 0, "CRASH": 0}


def test_merge_combines_and_orders(tmp_path):
    a = doc([cell("b-case"), cell("a-case", tls="1.2")])
    b = doc([cell("a-case", stack="gnutls", verdict="FAIL")], stacks=("gnutls",),
            started="2025-12-31T00:00:00+00:00")
    merged = results.merge([("a.json", a), ("b.json", b)], ["merge"], tmp_path)
    assert [c["id"] for c in merged["cells"]] == [
        "a-case/openssl/tls1.2/blocking/client", "a-case/gnutls/tls1.3/blocking/client",
        "b-case/openssl/tls1.3/blocking/client"]
    assert merged["summary"]["total"] == 3 and merged["summary"]["FAIL"] == 1
    assert merged["tool"]["started"] == "2025-12-31T00:00:00+00:00"
    assert merged["tool"]["merged_from"] == ["a.json", "b.json"]
    assert set(merged["stacks"]) == {"openssl", "gnutls"}


def test_merge_refuses_the_same_cell_twice(tmp_path):
    a = doc([cell("a-case")])
    b = doc([cell("a-case", verdict="FAIL")])
    with pytest.raises(results.ResultsError, match="cell a-case/openssl/tls1.3/blocking/client "
                                                   "is in both a.json and b.json"):
        results.merge([("a.json", a), ("b.json", b)], [], tmp_path)


def test_merge_prefers_the_run_that_had_the_stack(tmp_path):
    a = doc([cell("a-case")], available=False)
    b = doc([cell("b-case")])
    merged = results.merge([("a", a), ("b", b)], [], tmp_path)
    assert merged["stacks"]["openssl"]["available"] is True


def test_merge_command(tmp_path, run_cli):
    for name, d in (("a", doc([cell("a-case")])), ("b", doc([cell("b-case", verdict="FAIL")]))):
        results.write(d, tmp_path / name)
    rc, out, _ = run_cli("merge", tmp_path / "a/results.json", tmp_path / "b/results.json",
                         "--out", tmp_path / "m")
    assert rc == 1
    merged = json.loads((tmp_path / "m/results.json").read_text())
    assert merged["summary"]["total"] == 2 and merged["format"] == 2
    # The summary leads with findings: the failed check, its rule, how to reproduce it.
    assert "  FAIL openssl: [interop, close-notify-before-closing-write (RFC 8446 §6.1, " \
           "RFC 5246 §7.2.1, MUST)] b-case: peer transcript has {ev=record}: expected seen, " \
           "got not seen — 1 cell; ./tlsclose run --case b-case" in out
    assert "openssl  1 interop violation\n" in out
    rc, _, err = run_cli("merge", tmp_path / "a/results.json", tmp_path / "a/results.json",
                         "--out", tmp_path / "m2")
    assert rc == 2 and "is in both" in err


@pytest.mark.parametrize("content, problem", [
    # Format 1 came before the three verdict levels: not read.
    ("{", "not JSON"), ('{"format": 1, "tool": {}, "stacks": {}, "cases": {}, "cells": []}',
                        "not a results.json of format 2"),
    ('{"format": 2, "tool": {}, "stacks": {}, "cases": {}}', "'cells' is missing"),
    ('{"format": 2, "tool": {}, "stacks": {}, "cases": {}, "cells": [{}]}', "has no id")])
def test_load_rejects_bad_documents(tmp_path, content, problem):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(results.ResultsError, match=problem):
        results.load(path)


def test_write_is_atomic_and_readable(tmp_path):
    path = results.write(doc([cell("a")]), tmp_path / "out")
    assert results.load(path)["cells"][0]["case"] == "a"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["results.json"]


def test_report_command(tmp_path, run_cli):
    rc, _, err = run_cli("report", tmp_path / "missing.json", "--out", tmp_path / "r")
    assert rc == 2 and "cannot read" in err
    results.write(doc([cell("a-case")]), tmp_path / "in")
    try:
        import reports  # noqa: F401
        has_writer = hasattr(reports, "write_all")
    except ImportError:
        has_writer = False
    rc, out, err = run_cli("report", tmp_path / "in" / "results.json", "--out", tmp_path / "r")
    if has_writer:
        assert rc == 0 and (tmp_path / "r" / "index.html").is_file(), err
    else:
        assert rc == 2 and "not available" in err


def test_progress_line_only_on_a_terminal():
    import io

    from harness.run.runner import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet, tty = io.StringIO(), Tty()
    for stream in (quiet, tty):
        p = Progress(2, stream)
        p.update({"verdict": "PASS"})
        p.update({"verdict": "FAIL"})
        p.finish()
    assert quiet.getvalue() == ""
    assert "\r2/2 cells" in tty.getvalue() and "1 not passing" in tty.getvalue()
