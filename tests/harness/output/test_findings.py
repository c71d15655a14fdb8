"""Findings, model match, headlines and the --fail-on decision
(harness/output/findings.py), from cells as results.json holds them."""
from __future__ import annotations

import pytest

from harness.output import findings as F
from harness.output import results
from harness.spec.rules import RULES

TRUNCATION = "truncation-is-not-a-clean-close"            # security
NOTHING_AFTER = "nothing-after-own-close-notify"           # interop
END_OF_DATA = "tls13-close-notify-is-end-of-data"          # hygiene


def rfc(rule, ok=False, known=None, what="read 'eof' outcome", step=3):
    check = {"level": "rfc", "step": step, "rule": rule, "severity": RULES[rule].severity,
             "what": what, "expected": "truncated", "actual": "closed", "ok": ok}
    if known:
        check.update(known=True, known_summary=known)
    return check


def model(*statements, ok=False, known=None, difference=False):
    check = {"level": "model", "step": 2, "statements": list(statements),
             "what": "shutdown 'close' outcome", "expected": "sent", "actual": "complete",
             "ok": ok}
    if known:
        check.update(known=True, known_summary=known)
    if difference:
        check["difference"] = True
    return check


def api(ok=False, known=None):
    check = {"level": "api", "step": 2, "what": "shutdown 'close' ret", "expected": 0,
             "actual": 1, "ok": ok}
    if known:
        check.update(known=True, known_summary=known)
    return check


def cell(stack, case, checks, tls="1.3", io="blocking", verdict=None):
    failed = [c for c in checks if not c["ok"] and not c.get("difference")]
    verdict = verdict or ("PASS" if not failed else
                          "KNOWN" if all(c.get("known") for c in failed) else "FAIL")
    cid = f"{case}/{stack}/tls{tls}/{io}/client"
    return {"id": cid, "case": case, "stack": stack, "tls": tls, "io": io, "role": "client",
            "verdict": verdict, "checks": checks, "command": f"./tlsclose run {cid}"}


def test_one_finding_per_stack_rule_and_case_check():
    cells = [cell("a", "trunc-fin", [rfc(TRUNCATION), rfc(NOTHING_AFTER, ok=True)]),
             cell("a", "trunc-fin", [rfc(TRUNCATION)], io="memory"),
             cell("a", "trunc-rst", [rfc(TRUNCATION)]),
             cell("b", "trunc-fin", [rfc(TRUNCATION)])]
    found = F.findings(cells)
    assert [(f["stack"], f["cases"], f["cells"]) for f in found] == [
        ("a", ["trunc-fin"], 2), ("a", ["trunc-rst"], 1), ("b", ["trunc-fin"], 1)]
    first = found[0]
    assert (first["level"], first["rule"], first["severity"], first["known"]) == \
        ("rfc", TRUNCATION, "security", False)
    assert first["cite"] == "RFC 8446 §6.1, RFC 5246 §7.2.1, must"
    assert first["what"] == ("trunc-fin: step 3 read 'eof' outcome: expected truncated, "
                             "got closed")
    # The example is the first cell that showed it, with its command.
    assert first["example"] == "trunc-fin/a/tls1.3/blocking/client"
    assert first["command"] == "./tlsclose run trunc-fin/a/tls1.3/blocking/client"


def test_a_known_entry_is_one_finding_across_cases():
    summary = "reads a FIN as a clean close"
    cells = [cell("a", "trunc-fin", [rfc(TRUNCATION, known=summary)]),
             cell("a", "trunc-rst", [rfc(TRUNCATION, known=summary)]),
             cell("a", "trunc-mid", [rfc(TRUNCATION, known="another entry")])]
    found = F.findings(cells)
    assert [(f["what"], f["cells"], f["cases"], f["known"]) for f in found] == [
        (summary, 2, ["trunc-fin", "trunc-rst"], True),
        ("another entry", 1, ["trunc-mid"], True)]


def test_a_cell_counts_once_per_finding():
    same = rfc(TRUNCATION, known="s")
    found = F.findings([cell("a", "c", [same, dict(same, what="other step")])])
    assert [f["cells"] for f in found] == [1]


def test_only_deciding_checks_of_failed_cells_make_findings():
    cells = [cell("a", "ok", [rfc(TRUNCATION, ok=True), model("S10", ok=True)]),
             # a difference of a stack without the model
             cell("native", "c", [model("S10", difference=True)]),
             # a broken cell has no checks to blame
             cell("a", "broken", [], verdict="CRASH")]
    assert F.findings(cells) == []


def test_model_and_api_findings():
    found = F.findings([cell("a", "c", [model("S4", "S11"), api()])])
    assert [(f["level"], f["rule"], f["severity"], f["statements"], f["cite"]) for f in found] \
        == [("model", None, None, ["S4", "S11"], None), ("api", None, None, None, None)]


def test_worst_first():
    cells = [cell("a", "c1", [api(), model("S10"), rfc(END_OF_DATA), rfc(NOTHING_AFTER)]),
             cell("a", "c2", [rfc(TRUNCATION, known="k")]),
             cell("a", "c3", [rfc(TRUNCATION)])]
    order = [(f["known"], f["level"], f["severity"]) for f in F.findings(cells)]
    assert order == [(False, "rfc", "security"), (False, "rfc", "interop"),
                     (False, "rfc", "hygiene"), (False, "model", None), (False, "api", None),
                     (True, "rfc", "security")]


def test_model_match_per_statement():
    cells = [cell("a", "c1", [model("S10", ok=True), model("S2", ok=True)]),
             cell("a", "c2", [model("S10", known="k"), model("S14", ok=True)]),
             cell("native", "c1", [model("S10", difference=True), model("S2", ok=True)])]
    assert F.model_match(cells) == {
        "a": {"checked": ["S2", "S10", "S14"], "differs": ["S10"]},
        "native": {"checked": ["S2", "S10"], "differs": ["S10"]}}


@pytest.mark.parametrize("checks, model_kind, text", [
    ([], "ssl_shutdown", "no RFC violation seen"),
    ([rfc(TRUNCATION)], "none", "1 security violation"),
    ([rfc(TRUNCATION, known="k")], "none", "1 security violation (all KNOWN)"),
    ([rfc(TRUNCATION), rfc(NOTHING_AFTER, known="k"), rfc(END_OF_DATA)], "none",
     "1 security, 1 interop, 1 hygiene violations (1 KNOWN)"),
    ([rfc(NOTHING_AFTER, known="k"), model("S10", ok=True), model("S14")], "ssl_shutdown",
     "1 interop violation (all KNOWN); model: matches 1 of 2 statements"),
    ([model("S10", difference=True), model("S14", ok=True)], "none",
     "no RFC violation seen; model (differences only): matches 1 of 2 statements"),
    ([api(), api(known="k")], "ssl_shutdown", "no RFC violation seen; api: 2 deviations"),
])
def test_headline(checks, model_kind, text):
    cells = [cell("s", f"case-{i}", [c]) for i, c in enumerate(checks)]
    found = [f for f in F.findings(cells) if f["stack"] == "s"]
    assert F.headline("s", model_kind, found, F.model_match(cells)) == text


def test_hidden_truncation_never_reads_as_no_violation():
    """A stack that reports a FIN as a clean close: whatever else it does, its headline leads
    with the security violation, in the document and in the summary, on a stack without the
    SSL_shutdown(3) model too."""
    checks = [rfc(TRUNCATION), model("S6", difference=True), model("S10", ok=True)]
    cells = [cell("lenient", "trunc-fin", checks)]
    doc = results.build({"name": "tlsclose"},
                        {"lenient": {"title": "t", "api": "native", "model": "none",
                                     "available": True}},
                        {"trunc-fin": {"title": "t", "cites": ["R7"]}}, cells)
    headline = doc["stacks"]["lenient"]["headline"]
    assert headline.startswith("1 security violation")
    assert "no RFC violation" not in headline and "0 " not in headline
    lines = results.summary_lines(doc, "out/results.json")
    assert f"lenient  {headline}" in lines
    assert lines[1].startswith("  FAIL lenient: [security, truncation-is-not-a-clean-close")


FAIL_ON_TABLE = [
    # (the unexcused findings' severities, threshold, fails)
    (["security"], "security", True), (["interop"], "security", False),
    (["hygiene"], "security", False), (["interop"], "interop", True),
    (["hygiene"], "interop", False), (["security"], "interop", True),
    (["hygiene"], "any", True), (["model"], "any", True), (["model"], "interop", False),
    (["api"], "any", True), (["api"], "security", False), ([], "any", False),
]


@pytest.mark.parametrize("kinds, fail_on, fails", FAIL_ON_TABLE)
def test_fails_at_each_threshold(kinds, fail_on, fails):
    make = {"security": lambda: rfc(TRUNCATION), "interop": lambda: rfc(NOTHING_AFTER),
            "hygiene": lambda: rfc(END_OF_DATA), "model": lambda: model("S10"), "api": api}
    cells = [cell("a", f"c{i}", [make[k]()]) for i, k in enumerate(kinds)]
    assert F.fails(F.findings(cells), fail_on) is fails


@pytest.mark.parametrize("fail_on", F.FAIL_ON)
def test_known_never_fails(fail_on):
    cells = [cell("a", "c1", [rfc(TRUNCATION, known="k")]),
             cell("a", "c2", [model("S10", known="k"), api(known="k")])]
    assert F.findings(cells) and not F.fails(F.findings(cells), fail_on)
