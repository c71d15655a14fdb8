"""Verdicts from recorded JSON lines: every verdict, the three levels and
which of them decide on which stack, known deviations, api values keyed by
library version, without running anything."""
from __future__ import annotations

import copy
from collections import Counter

import pytest

from harness.run.evaluate import judge
from harness.run.matrix import Cell
from support.harness_files import VALID_CASE, with_tls13_group
from support.recorded import PEER_OK, SUT_OK, op, proc, run


@pytest.fixture
def cell(make_case, make_stack):
    def make(case_text=VALID_CASE, api="openssl", extra="", tls="1.3", io="blocking",
             role="client"):
        return Cell(make_case(case_text), make_stack(api=api, extra=extra), tls, io, role)
    return make


def with_step(lines, n, **changes):
    lines = copy.deepcopy(lines)
    for line in lines:
        if line.get("step") == n and "end" not in line:
            line.update(changes)
    return lines


def levels(checks):
    return Counter(c["level"] for c in checks)


def test_pass_when_every_expectation_holds(cell):
    j = judge(cell(), run(), "OpenSSL 3.0.19")
    assert j.verdict == "PASS", j.reason
    assert j.reason == "all 13 checks passed"
    # rfc: must + the claimed peer expectation, drain's outcome;
    # model: close's outcome, four flags; api: five fields.
    assert levels(j.checks) == {"rfc": 3, "model": 5, "api": 5}
    assert all(c["ok"] and not c["known"] for c in j.checks)
    assert j.notes == []


def test_fail_names_step_expected_and_actual(cell):
    sut = proc(with_step(SUT_OK, 2, outcome="complete"))
    j = judge(cell(), run(sut=sut), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert j.reason == "step 2 shutdown 'close' outcome: expected sent, got complete"


def test_fail_on_api_value(cell):
    lines = with_step(SUT_OK, 2, native={"ret": 1, "error": "", "queue": [], "errno": 0})
    j = judge(cell(), run(sut=proc(lines)), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert j.reason.startswith("step 2 shutdown 'close' ret: expected 0, got 1")


def test_fail_on_missing_wire_event(cell):
    peer = proc([e for e in PEER_OK if e.get("dir") != "recv" and e.get("ev") != "expect"])
    j = judge(cell(), run(peer=peer), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert "peer transcript has {ev=record dir=recv type=alert alert=close_notify}" in j.reason
    assert "got not seen" in j.reason


def test_fail_on_unmet_peer_expectation(cell):
    peer_lines = copy.deepcopy(PEER_OK)
    peer_lines[4].update(ok=False, detail="eof")
    j = judge(cell(), run(peer=proc(peer_lines)), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert "peer expectation close_notify: expected true, got eof" in j.reason


MUST_NOT_AFTER = VALID_CASE + """
[[expect.rfc]]
rule = "nothing-after-own-close-notify"
[[expect.rfc.must_not]]
ev = "record"
dir = "recv"
type = "application_data"
after = {ev = "record", dir = "recv", alert = "close_notify"}
"""


def test_must_not_after_anchor(cell):
    c = cell(MUST_NOT_AFTER)
    assert judge(c, run(), "OpenSSL 3.0.19").verdict == "PASS"
    peer_lines = copy.deepcopy(PEER_OK)
    peer_lines.insert(4, {"ev": "record", "dir": "recv", "by": "sut", "conn": 1,
                          "type": "application_data", "epoch": 0, "seq": 1, "len": 5})
    j = judge(c, run(peer=proc(peer_lines)), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert "has no {ev=record dir=recv type=application_data} after" in j.reason


def test_must_count(cell):
    c = cell(VALID_CASE.replace('alert = "close_notify"\n', 'alert = "close_notify"\ncount = 2\n'))
    j = judge(c, run(), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert 'expected {"count": 2}, got {"count": 1}' in j.reason


# The failed check of these tests is the model's (step 2's outcome, S10).
KNOWN_MODEL = """
[[known]]
case = "example-*"
level = "model"
tls = ["1.3"]
summary = "answers close_notify early"
evidence = "library source, file and line"
"""


def test_known_when_every_failure_is_covered(cell):
    sut = proc(with_step(SUT_OK, 2, outcome="complete"))
    j = judge(cell(extra=KNOWN_MODEL), run(sut=sut), "OpenSSL 3.0.19")
    assert j.verdict == "KNOWN"
    assert j.reason.startswith("known deviation: answers close_notify early (step 2 ")
    failed = [c for c in j.checks if not c["ok"]]
    assert failed and all(c["known"] for c in failed)


def test_known_never_hides_an_uncovered_failure(cell):
    lines = with_step(SUT_OK, 2, outcome="complete",
                      native={"ret": 1, "error": "", "queue": [], "errno": 0})
    j = judge(cell(extra=KNOWN_MODEL), run(sut=proc(lines)), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    assert "ret: expected 0, got 1" in j.reason


def test_known_entry_narrowed_away_does_not_apply(cell):
    sut = proc(with_step(SUT_OK, 2, outcome="complete"))
    assert judge(cell(extra=KNOWN_MODEL, tls="1.2"), run(sut=sut), "x").verdict == "FAIL"
    versioned = KNOWN_MODEL.replace('tls = ["1.3"]', 'versions = "<3.0"')
    assert judge(cell(extra=versioned), run(sut=sut), "OpenSSL 3.0.19").verdict == "FAIL"
    assert judge(cell(extra=versioned), run(sut=sut), "OpenSSL 1.1.1w").verdict == "KNOWN"


def test_known_entry_with_nothing_to_excuse_is_a_note(cell):
    j = judge(cell(extra=KNOWN_MODEL), run(), "OpenSSL 3.0.19")
    assert j.verdict == "PASS"
    assert len(j.notes) == 1 and "did not occur" in j.notes[0]


def test_native_stack_gets_no_api_checks(cell):
    lines = with_step(SUT_OK, 2, native={"ret": 7, "error": "X", "queue": [], "errno": 0},
                      flags=None)
    j = judge(cell(api="native"), run(sut=proc(lines)), "GnuTLS 3.7.9")
    assert j.verdict == "PASS", j.reason
    assert set(levels(j.checks)) == {"rfc", "model"}
    # A stack without shutdown flags differs from the model (S14): recorded,
    # decides nothing, needs no [[known]] entry.
    differing = [c for c in j.checks if not c["ok"]]
    assert [c["what"] for c in differing] == ["shutdown 'close' sent flag",
                                              "shutdown 'close' received flag"]
    assert all(c["difference"] and c["statements"] == ["S14"] and not c["known"]
               for c in differing)


VERSIONED = """\
id = "example-case"
title = "Truncation"
cites = ["S6", "R7"]
refs = ["SSL_shutdown(3)", "RFC 8446 §6.1"]
why = "EOF without close_notify is not a clean close."

[peer]
personality = "no-close-notify"

[[steps]]
op = "handshake"

[[steps]]
op = "read"
until = "close"
label = "eof"

[[expect.rfc]]
rule = "truncation-is-not-a-clean-close"
outcomes = {eof = "truncated"}

[expect.api.steps]
eof = {ret = "<=0"}

[[expect.api.versions]]
range = "<3.0"
[expect.api.versions.steps]
eof = {error = "SSL_ERROR_SYSCALL", errno = 0}

[[expect.api.versions]]
range = ">=3.0"
[expect.api.versions.steps]
eof = {error = "SSL_ERROR_SSL", queue = "unexpected eof while reading"}
"""

SUT_EOF_3 = [SUT_OK[0], op(1, "handshake", "ok"),
             op(2, "read", "truncated", ret=0, error="SSL_ERROR_SSL",
                queue=["SSL routines: unexpected eof while reading"]), {"end": "ok"}]
SUT_EOF_111 = [SUT_OK[0], op(1, "handshake", "ok"),
               op(2, "read", "truncated", ret=0, error="SSL_ERROR_SYSCALL"), {"end": "ok"}]
PEER_PLAIN = [e for e in PEER_OK if e.get("ev") in ("start", "handshake", "end")]


@pytest.mark.parametrize("library, lines, verdict", [
    ("OpenSSL 3.0.19 27 Jan 2026", SUT_EOF_3, "PASS"),
    ("OpenSSL 1.1.1w  11 Sep 2023", SUT_EOF_111, "PASS"),
    ("OpenSSL 3.0.19 27 Jan 2026", SUT_EOF_111, "FAIL"),
    ("OpenSSL 1.1.1w  11 Sep 2023", SUT_EOF_3, "FAIL"),
])
def test_api_expectations_keyed_by_library_version(cell, library, lines, verdict):
    j = judge(cell(VERSIONED), run(sut=proc(lines), peer=proc(PEER_PLAIN)), library)
    assert j.verdict == verdict, j.reason


def test_skip_from_shim_exit_77(cell):
    sut = proc([SUT_OK[0], {"end": "skip", "step": 2, "message": "no quiet shutdown"}], 77)
    j = judge(cell(), run(sut=sut), None)
    assert (j.verdict, j.reason) == ("SKIP", "shim: no quiet shutdown")


def test_timeout_reported_by_shim_names_the_step(cell):
    sut = proc([SUT_OK[0], SUT_OK[1], {"end": "timeout", "step": 2, "message": "deadline"}], 3)
    j = judge(cell(), run(sut=sut), None)
    assert j.verdict == "TIMEOUT"
    assert j.reason == "shim timed out in step 2 (shutdown 'close'): deadline"


def test_timeout_when_we_kill_the_shim(cell):
    sut = proc(SUT_OK[:3], returncode=-9, signal="SIGKILL", killed=True)
    j = judge(cell(), run(sut=sut), None)
    assert j.verdict == "TIMEOUT"
    assert "killed in step 3 (read 'drain')" in j.reason


def test_timeout_of_the_peer_names_its_action(cell):
    peer = proc(PEER_OK[:3] + [{"ev": "end", "status": "timeout", "message": "deadline"}], 3)
    j = judge(cell(), run(peer=peer), None)
    assert j.verdict == "TIMEOUT"
    assert j.reason == "peer timed out in action 1 (expect_close_notify): deadline"


def test_crash_names_the_signal(cell):
    sut = proc(SUT_OK[:3], returncode=-11, signal="SIGSEGV")
    j = judge(cell(), run(sut=sut), None)
    assert j.verdict == "CRASH"
    assert j.reason.startswith("shim killed by SIGSEGV in step 3 (read 'drain'); last output: ")


def test_crash_of_the_peer(cell):
    peer = proc(PEER_OK[:2], returncode=-6, signal="SIGABRT")
    j = judge(cell(), run(peer=peer), None)
    assert j.verdict == "CRASH" and j.reason.startswith("peer killed by SIGABRT")


@pytest.mark.parametrize("sut_kw, peer_kw, reason", [
    ({"returncode": 2, "lines": [{"end": "error", "message": "step 2: unknown field"}]}, {},
     "shim exited 2: step 2: unknown field"),
    ({"returncode": 4, "lines": [], "stderr": "cannot load key.pem\n"}, {},
     "shim exited 4: cannot load key.pem"),
    ({}, {"returncode": 4, "lines": [{"ev": "end", "status": "error", "message": "handshake"}]},
     "peer exited 4: handshake"),
    ({"bad": ["garbage"]}, {}, "shim printed a line that is not a JSON object: 'garbage'"),
    ({"lines": SUT_OK[:3] + [{"end": "ok"}]}, {}, "shim reported steps [1, 2], expected 1..3"),
    ({"lines": SUT_OK[:4]}, {}, "shim output has no {\"end\": \"ok\"} line"),
    ({}, {"lines": PEER_OK[:-1]}, "peer transcript does not end with status ok"),
])
def test_error_verdicts(cell, sut_kw, peer_kw, reason):
    sut = proc(sut_kw.pop("lines", SUT_OK), **sut_kw)
    peer = proc(peer_kw.pop("lines", PEER_OK), **peer_kw)
    j = judge(cell(), run(sut=sut, peer=peer), None)
    assert j.verdict == "ERROR"
    assert j.reason.startswith(reason), j.reason


def test_odd_values_in_output_are_outcomes_not_exceptions(cell):
    lines = with_step(SUT_OK, 2, native="nonsense", flags="weird", outcome=None)
    peer_lines = PEER_OK + [{"ev": "record", "dir": ["x"], "alert": {"a": 1}}]
    j = judge(cell(), run(sut=proc(lines), peer=proc(peer_lines)), None)
    assert j.verdict == "FAIL"


def test_bytes_and_session_answers(cell):
    text = VALID_CASE.replace('peer_expects = ["close_notify"]\n',
                              'peer_expects = ["close_notify"]\nbytes = {drain = 100}\n')
    text = text.replace('drain = {error', 'drain = {resumable = true, error')
    c = cell(text)
    j = judge(c, run(sut=proc(with_step(SUT_OK, 3, bytes=100, resumable=True))), "x")
    assert j.verdict == "PASS", j.reason
    j = judge(c, run(sut=proc(with_step(SUT_OK, 3, bytes=99))), "x")
    assert j.verdict == "FAIL"
    assert j.reason.startswith("step 3 read 'drain' bytes: expected 100, got 99 (+1 more)")


# -- which level decides where, what a [[known]] entry excuses, precedence ----------

PEER_NO_CLOSE_NOTIFY = [e for e in PEER_OK if not (e.get("dir") == "recv"
                                                   and e.get("ev") == "record")]
SUT_FIRST_CLOSE_COMPLETE = with_step(SUT_OK, 2, outcome="complete")      # model, S10
SUT_RET_1 = with_step(SUT_OK, 2, native={"ret": 1, "error": "", "queue": [], "errno": 0})


def known(level, **narrow):
    lines = [f'{k} = "{v}"' for k, v in narrow.items()]
    return "\n".join(["", "[[known]]", 'case = "example-case"', f'level = "{level}"', *lines,
                      'summary = "a documented deviation"', 'evidence = "source, function"',
                      ""])


@pytest.mark.parametrize("stack, decides", [
    ({"api": "openssl"}, True),                                    # model defaults to ssl_shutdown
    ({"api": "openssl", "extra": 'model = "none"'}, False),
    ({"api": "native"}, False),                                    # model defaults to none
    ({"api": "native", "extra": 'model = "ssl_shutdown"'}, True),
])
def test_model_checks_decide_only_where_the_stack_declares_the_model(cell, stack, decides):
    j = judge(cell(**stack), run(sut=proc(SUT_FIRST_CLOSE_COMPLETE)), "x")
    (failed,) = [c for c in j.checks if not c["ok"]]
    assert failed["level"] == "model" and failed["statements"] == ["S10"]
    if decides:
        assert j.verdict == "FAIL" and "difference" not in failed
        assert j.reason == "step 2 shutdown 'close' outcome: expected sent, got complete"
    else:
        assert j.verdict == "PASS" and failed["difference"] is True and not failed["known"]


def test_a_stack_without_the_model_still_fails_on_rfc_and_api(cell):
    no_model = 'model = "none"'
    j = judge(cell(extra=no_model), run(peer=proc(PEER_NO_CLOSE_NOTIFY)), "x")
    assert j.verdict == "FAIL" and j.reason.startswith("peer transcript has {ev=record")
    j = judge(cell(extra=no_model), run(sut=proc(SUT_RET_1)), "x")
    assert j.verdict == "FAIL" and j.reason == "step 2 shutdown 'close' ret: expected 0, got 1"


@pytest.mark.parametrize("entry, verdict", [
    (known("rfc", severity="interop"), "KNOWN"),
    (known("rfc", severity="interop", rule="close-notify-before-closing-write"), "KNOWN"),
    # another rule of the same severity, another severity, other levels
    (known("rfc", severity="interop", rule="nothing-after-own-close-notify"), "FAIL"),
    (known("rfc", severity="security"), "FAIL"),
    (known("model"), "FAIL"),
    (known("api"), "FAIL"),
])
def test_known_entry_excuses_only_its_level_rule_and_severity(cell, entry, verdict):
    # The SUT's close_notify never arrives: rfc close-notify-before-closing-write (interop).
    j = judge(cell(extra=entry), run(peer=proc(PEER_NO_CLOSE_NOTIFY)), "OpenSSL 3.0.19")
    assert j.verdict == verdict, j.reason
    (failed,) = [c for c in j.checks if not c["ok"]]
    assert (failed["rule"], failed["severity"]) == ("close-notify-before-closing-write",
                                                   "interop")
    assert failed["known"] is (verdict == "KNOWN")
    if verdict == "FAIL":
        assert "known_summary" not in failed
        assert any("did not occur" in note for note in j.notes)


@pytest.mark.parametrize("entry, covered", [
    (known("model"), "model"), (known("api"), "api"), (known("rfc", severity="interop"), "rfc")])
def test_known_entry_of_one_level_leaves_the_others_failing(cell, entry, covered):
    # Three failures at once, one per level: an entry excuses its own only.
    peer = proc(PEER_NO_CLOSE_NOTIFY)
    sut = proc(with_step(SUT_RET_1, 2, outcome="complete"))
    j = judge(cell(extra=entry), run(sut=sut, peer=peer), "OpenSSL 3.0.19")
    assert j.verdict == "FAIL"
    failed = {c["level"]: c["known"] for c in j.checks if not c["ok"]}
    assert failed == {level: level == covered for level in ("rfc", "model", "api")}


def test_verdict_precedence_fail_over_known_over_pass(cell):
    c = cell(extra=KNOWN_MODEL)
    assert judge(c, run(), "x").verdict == "PASS"
    assert judge(c, run(sut=proc(SUT_FIRST_CLOSE_COMPLETE)), "x").verdict == "KNOWN"
    both = proc(with_step(SUT_RET_1, 2, outcome="complete"))
    j = judge(c, run(sut=both), "x")
    assert j.verdict == "FAIL"
    assert j.reason == "step 2 shutdown 'close' ret: expected 0, got 1"   # the unexcused one


def test_fail_reason_names_rfc_before_model_before_api(cell):
    sut = proc(with_step(SUT_RET_1, 2, outcome="complete"))
    j = judge(cell(), run(sut=sut, peer=proc(PEER_NO_CLOSE_NOTIFY)), "x")
    assert j.reason.startswith("peer transcript has {ev=record dir=recv type=alert "
                               "alert=close_notify}: expected seen, got not seen (+2 more)")
    j = judge(cell(), run(sut=sut), "x")
    assert j.reason == "step 2 shutdown 'close' outcome: expected sent, got complete (+1 more)"


def test_expectation_no_group_claims_is_a_note_not_a_check(cell):
    peer_lines = copy.deepcopy(PEER_OK)
    peer_lines.insert(-1, {"ev": "expect", "what": "eof", "ok": False, "detail": "data came"})
    peer_lines.insert(-1, {"ev": "expect", "what": "silence", "ok": True})
    j = judge(cell(), run(peer=proc(peer_lines)), "x")
    assert j.verdict == "PASS", j.reason
    assert j.notes == ["peer expectation eof unmet (data came); no check of this case is "
                       "about it"]
    assert [c["what"] for c in j.checks if c["what"].startswith("peer expectation")] == \
        ["peer expectation close_notify"]


def test_tls12_cell_has_no_check_of_a_tls13_rule(cell):
    # A truncated drain is no data delivered after close_notify (R2), but it is not the
    # end-of-data a TLS 1.3 stack should report (RFC 8446 §6, R3).
    sut = proc(with_step(SUT_OK, 3, outcome="truncated"))
    text = with_tls13_group(VALID_CASE)
    j = judge(cell(text, tls="1.2"), run(sut=sut), "x")
    assert j.verdict == "PASS", j.reason
    assert "tls13-close-notify-is-end-of-data" not in {c.get("rule") for c in j.checks}
    j = judge(cell(text, tls="1.3"), run(sut=sut), "x")
    assert j.verdict == "FAIL"
    assert j.reason == "step 3 read 'drain' outcome: expected closed, got truncated"
    (failed,) = [c for c in j.checks if not c["ok"]]
    assert (failed["rule"], failed["severity"]) == ("tls13-close-notify-is-end-of-data",
                                                   "hygiene")
