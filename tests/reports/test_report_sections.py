"""Traceability, Rosetta, diff and the terminal summary, from the fixture."""
from __future__ import annotations

import copy
from collections import Counter

import pytest

from reports import diff, rosetta, summary, traceability
from reports.model import ResultsError
from support.results_docs import cell_by


# ---- traceability ----

def test_every_statement_has_a_row_even_unchecked(small):
    rows = {r["id"]: r for r in traceability.build(small)["rows"]}
    expected = [f"S{i}" for i in range(1, 22)] + [f"R{i}" for i in range(1, 13)]
    assert list(rows)[:len(expected)] == expected
    assert rows["S2"]["cases"] == []          # no fixture case cites S2: shown, not dropped
    assert rows["S2"]["text"]


def test_statement_rows_carry_cases_and_worst_verdicts(small):
    rows = {r["id"]: r for r in traceability.build(small)["rows"]}
    r7 = rows["R7"]                        # truncation: a transport close before close_notify
    assert [c["case"] for c in r7["cases"]] == [
        "peer-fin-without-close-notify-is-truncation",
        "truncation-by-reset-is-not-a-clean-close", "truncation-mid-record-is-not-a-clean-close",
        "waiting-shutdown-fails-when-peer-sends-no-close-notify"]
    # A stack that ran none of the statement's cases has no verdict, not a PASS.
    assert r7["per_stack"] == {"openssl": "PASS", "gnutls": "KNOWN", "hides-truncation": "FAIL",
                               "delivers-data-after-close": "PASS", "unstable": None,
                               "absent": "SKIP"}
    # CRASH is the worst of the unstable stack's ERROR, TIMEOUT and CRASH cells
    assert rows["S10"]["per_stack"]["unstable"] == "CRASH"


def test_unknown_citation_is_flagged(small):
    small["cases"]["peer-data-after-own-close-notify-ignored"]["cites"].append("R99")
    rows = {r["id"]: r for r in traceability.build(small)["rows"]}
    assert rows["R99"]["in_catalogue"] is False


# ---- rosetta ----

def entries(table, event, stack):
    row = next(r for r in table["rows"] if r["event"] == event)
    return row["entries"][stack]


def outcomes(table, event, stack):
    return {(e["op"], e["outcome"]): e["verdicts"] for e in entries(table, event, stack)}


def test_rosetta_from_transcripts(small):
    table = rosetta.build(small)
    trunc_ossl = entries(table, "fin_without_close_notify", "openssl")
    assert any("unexpected eof while reading" in e["native"] and e["outcome"] == "truncated"
               for e in trunc_ossl)
    trunc_gnu = entries(table, "fin_without_close_notify", "gnutls")
    # The read reports the truncation; the waiting gnutls_bye reports success (the KNOWN
    # security violation of stacks/gnutls/gnutls.toml): each native report is its own entry.
    assert outcomes(table, "fin_without_close_notify", "gnutls") == {
        ("read", "truncated"): {"PASS": 2}, ("shutdown", "complete"): {"KNOWN": 2}}
    assert trunc_gnu[0]["native"].startswith("GNUTLS_E_PREMATURE_TERMINATION, ret -110")
    assert sum(len(e["cells"]) for e in trunc_gnu) == 4
    # The stack that hides truncation is quoted saying exactly that.
    assert outcomes(table, "fin_without_close_notify", "hides-truncation") == {
        ("read", "closed"): {"FAIL": 1}}
    assert outcomes(table, "clean_close", "openssl") == {("read", "closed"): {"PASS": 5}}
    # A failing cell is quoted, not hidden: the read that saw the close_notify, before the
    # one that delivered the late data.
    assert outcomes(table, "close_notify_then_data", "gnutls") == {("read", "closed"): {"PASS": 2}}
    assert outcomes(table, "close_notify_then_data", "delivers-data-after-close") == {
        ("read", "closed"): {"FAIL": 1}}
    assert outcomes(table, "quiet_close", "openssl") == {("shutdown", "want_read"): {"PASS": 1}}
    rst = entries(table, "rst", "gnutls")
    assert [e["native"] for e in rst] == ["GNUTLS_E_PULL_ERROR, ret -54, Error in the pull "
                                          "function., errno 104"]
    # SKIP and ERROR cells are not quoted: the absent stack has no entry anywhere
    assert not any(entries(table, row["event"], "absent") for row in table["rows"])
    # no cell of the fixture gets a fatal alert from the peer: the row stays empty, never
    # invented
    assert all(not entries(table, "fatal_alert", s) for s in table["stacks"])


def test_case_key_beats_mapping_beats_transcript(small, monkeypatch):
    case = "peer-fin-without-close-notify-is-truncation"
    cell = cell_by(small, case, "openssl")
    assert rosetta.assign(small, cell)[::2] == ("fin_without_close_notify", "transcript")
    monkeypatch.setitem(rosetta.CASE_EVENTS, case, "rst")
    assert rosetta.assign(small, cell)[::2] == ("rst", "mapping")
    small["cases"][case]["rosetta"] = {"event": "truncation_mid_record", "step": 3}
    assert rosetta.assign(small, cell) == ("truncation_mid_record", 3, "case")
    assert rosetta.observing_op(cell, 2)["outcome"] == "data:100"


@pytest.mark.parametrize("wire,event", [
    ([{"ev": "tcp", "dir": "sent", "what": "rst"}], "rst"),
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "fatal",
       "alert": "handshake_failure"}], "fatal_alert"),
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "warning",
       "alert": "user_canceled"},
      {"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "warning",
       "alert": "close_notify"}], "user_canceled"),
    ([{"ev": "action", "do": "send_partial_record"}, {"ev": "tcp", "dir": "sent", "what": "fin"}],
     "truncation_mid_record"),
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "application_data", "len": 100,
       "partial": 67}, {"ev": "tcp", "dir": "sent", "what": "fin"}], "truncation_mid_record"),
    ([{"ev": "record", "dir": "recv", "by": "sut", "type": "alert", "alert": "close_notify"},
      {"ev": "record", "dir": "sent", "by": "peer", "type": "application_data"}],
     "close_notify_then_data"),
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "fatal",
       "level_byte": 2, "alert": "close_notify"}], "clean_close"),
    ([{"ev": "action", "do": "expect_silence"}, {"ev": "tcp", "dir": "sent", "what": "fin"}],
     "quiet_close"),
    ([{"ev": "tcp", "dir": "sent", "what": "fin"}], "fin_without_close_notify"),
    # the SUT closed first: the peer's FIN only answers it
    ([{"ev": "tcp", "dir": "recv", "what": "eof"}, {"ev": "tcp", "dir": "sent", "what": "fin"}], None),
    # malformed, fragmented and unknown alerts test parsing, not closing
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "warning",
       "alert": "close_notify", "malformed": True}], None),
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "warning",
       "fragment": True, "malformed": True}], None),
    ([{"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "warning",
       "alert": "unknown", "code": 250},
      {"ev": "record", "dir": "sent", "by": "peer", "type": "alert", "level": "warning",
       "alert": "close_notify"}], None),
    ([{"ev": "record", "dir": "sent", "by": "library", "type": "handshake"}], None),
])
def test_transcript_derivation(wire, event):
    assert rosetta.event_from_transcript(wire) == event


# ---- diff ----

def test_diff_reports_verdict_and_native_changes_not_timing(small):
    base = copy.deepcopy(small)
    now = copy.deepcopy(small)
    for cell in now["cells"]:
        cell["duration_ms"] = (cell.get("duration_ms") or 0) * 3
        for op in cell["ops"]:
            if "ms" in op:
                op["ms"] += 1
    assert diff.diff(now, base)["changed"] == []
    target = cell_by(now, "peer-fin-without", "gnutls")
    next(op for op in target["ops"] if op.get("step") == 3)["native"]["ret"] = -54
    better = cell_by(now, "peer-data-after-own", "delivers-data-after-close", "FAIL")
    better["verdict"] = "PASS"
    worse = cell_by(now, "sut-closes-first", "openssl")
    worse["verdict"] = "TIMEOUT"
    d = diff.diff(now, base)
    ids = [c["id"] for c in d["changed"]]
    assert ids[0] == worse["id"] and d["changed"][0]["worse"]
    assert set(ids) == {target["id"], better["id"], worse["id"]}
    step = next(c for c in d["changed"] if c["id"] == target["id"])["steps"][0]
    assert step["step"] == 3 and "ret -110" in step["before"] and "ret -54" in step["after"]


def test_diff_added_removed(small):
    base = copy.deepcopy(small)
    gone = small["cells"].pop(0)
    small["cells"].append(dict(copy.deepcopy(gone), id="new/cell/tls1.3/blocking/client"))
    d = diff.diff(small, base)
    assert d["removed"] == [gone["id"]] and d["added"] == ["new/cell/tls1.3/blocking/client"]


# ---- terminal summary ----

def test_summary_fits_one_screen(big_doc):
    text = summary.format_summary(big_doc, "out/index.html")
    lines = text.splitlines()
    assert len(lines) <= 24
    assert max(len(line) for line in lines) <= summary.WIDTH
    assert lines[-1] == "report: out/index.html"
    assert "... and" in text and "more" in text


def test_summary_counts_and_ids(small):
    text = summary.format_summary(small)
    lines = text.splitlines()
    header = lines[2].split()
    assert header[:3] == ["stack", "PASS", "KNOWN"] and header[-1] == "total"
    # Each stack's counts in the header's columns, counted here from the cells.
    for stack in small["stacks"]:
        row = next(line.split() for line in lines if line.split()[:1] == [stack])
        mine = Counter(c["verdict"] for c in small["cells"] if c["stack"] == stack)
        assert row[1:] == [str(mine[v]) for v in header[1:-1]] + [str(sum(mine.values()))]
    assert set(header[1:-1]) == {c["verdict"] for c in small["cells"]}
    for cell in small["cells"]:
        if cell["verdict"] in ("FAIL", "ERROR", "TIMEOUT", "CRASH"):
            assert cell["id"] in text
    assert "report:" not in text


def test_summary_all_green_has_no_problem_list(small):
    for cell in small["cells"]:
        cell["verdict"] = "PASS"
    text = summary.format_summary(small)
    assert "need a look" not in text
    assert "ERROR" not in text  # only columns that have counts, plus PASS and FAIL


def test_summary_rejects_garbage():
    with pytest.raises(ResultsError):
        summary.format_summary({"cells": "nope"})


def test_mapping_may_leave_a_case_out(small, monkeypatch):
    case = "peer-fin-without-close-notify-is-truncation"
    monkeypatch.setitem(rosetta.CASE_EVENTS, case, None)
    assert rosetta.assign(small, cell_by(small, case, "openssl")) == (None, None, "mapping")
    table = rosetta.build(small)
    quoted = {cid for e in entries(table, "fin_without_close_notify", "openssl")
              for cid in e["cells"]}
    # The case's cells are gone from the row; the other case with a bare FIN stays.
    assert quoted and not any(cid.startswith(case + "/") for cid in quoted)


def test_quoted_op_order():
    def op(step, name, outcome):
        return {"step": step, "op": name, "outcome": outcome, "native": {"ret": 0}}
    ops = [op(1, "handshake", "ok"), op(2, "read", "data:100"), op(3, "shutdown", "sent"),
           op(4, "shutdown", "want_read"), op(5, "close_transport", "ok")]
    cell = {"ops": ops, "checks": []}
    assert rosetta.observing_op(cell)["step"] == 4          # last shutdown call
    cell["checks"] = [{"step": 2, "ok": False, "what": "read outcome"}]
    assert rosetta.observing_op(cell)["step"] == 2          # the failed check's step
    ops[3]["outcome"] = "error:unexpected_eof"
    assert rosetta.observing_op(cell)["step"] == 4          # the stack noticed the end
    assert rosetta.observing_op(cell, 3)["step"] == 3       # a declared step wins
