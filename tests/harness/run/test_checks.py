"""Check records from a case and what the processes printed
(harness/run/checks.py): which groups give which records at each level,
what each record carries, how odd recorded data is compared. No processes,
no verdicts (tests/harness/run/test_evaluate.py has those)."""
from __future__ import annotations

import copy

import pytest

from harness.run import checks as C
from harness.spec.rules import RULES
from support.harness_files import VALID_CASE, with_tls13_group
from support.recorded import PEER_OK, SUT_OK

LIB = "OpenSSL 3.0.19 27 Jan 2026"
DRAIN = 'outcomes = {drain = ["closed", "truncated", "error:*"]}'


def lines_of(sut: list[dict]) -> dict[int, dict]:
    return {line["step"]: line for line in sut if "step" in line and "end" not in line}


def checks_of(case, tls="1.3", sut=SUT_OK, peer=PEER_OK, library=LIB, with_api=True):
    return C.cell_checks(case, tls, lines_of(copy.deepcopy(sut)), copy.deepcopy(peer),
                         library, with_api)


def by_level(checks: list[dict], level: str) -> list[dict]:
    return [c for c in checks if c["level"] == level]


def test_each_level_gives_its_records(make_case):
    checks = checks_of(make_case())
    rfc, model, api = (by_level(checks, lv) for lv in ("rfc", "model", "api"))
    assert [(c["rule"], c["what"]) for c in rfc] == [
        ("close-notify-before-closing-write",
         "peer transcript has {ev=record dir=recv type=alert alert=close_notify}"),
        ("close-notify-before-closing-write", "peer expectation close_notify"),
        ("data-after-closure-alert-ignored", "read 'drain' outcome")]
    assert [(c["statements"], c["step"], c["what"]) for c in model] == [
        (["S10"], 2, "shutdown 'close' outcome"),
        (["S14"], 2, "shutdown 'close' sent flag"), (["S14"], 2, "shutdown 'close' received flag"),
        (["S14"], 3, "read 'drain' sent flag"), (["S14"], 3, "read 'drain' received flag")]
    assert [(c["step"], c["what"], c["expected"]) for c in api] == [
        (2, "shutdown 'close' ret", 0), (2, "shutdown 'close' sent", True),
        (2, "shutdown 'close' received", False),
        (3, "read 'drain' error", "SSL_ERROR_ZERO_RETURN"), (3, "read 'drain' received", True)]
    assert len(checks) == len(rfc) + len(model) + len(api)
    assert all(c["ok"] and c["known"] is False for c in checks)


def test_records_carry_their_level_tags(make_case):
    for check in checks_of(make_case()):
        if check["level"] == "rfc":
            # The severity is the rule's, never the case's.
            assert check["severity"] == RULES[check["rule"]].severity
            assert "statements" not in check
        elif check["level"] == "model":
            assert "rule" not in check and "severity" not in check
        else:
            assert not {"rule", "severity", "statements"} & set(check)


def test_api_records_only_where_asked(make_case):
    checks = checks_of(make_case(), with_api=False)
    assert by_level(checks, "api") == [] and by_level(checks, "model")


def test_a_group_gives_no_record_outside_its_tls_versions(make_case):
    case = make_case(with_tls13_group(VALID_CASE))
    tls12 = checks_of(case, tls="1.2")
    assert "tls13-close-notify-is-end-of-data" not in {c.get("rule") for c in tls12}
    assert len(tls12) == len(checks_of(case)) - 1 == len(checks_of(make_case()))
    narrowed = VALID_CASE.replace('statements = ["S10"]', 'statements = ["S10"]\ntls = ["1.2"]')
    assert [c["statements"] for c in by_level(checks_of(make_case(narrowed)), "model")] == \
        [["S14"]] * 4


def test_failed_records_say_expected_and_actual(make_case):
    sut = copy.deepcopy(SUT_OK)
    sut[2].update(outcome="complete", flags=None)
    checks = checks_of(make_case(), sut=sut)
    failed = [(c["what"], c["expected"], c["actual"]) for c in checks if not c["ok"]]
    assert failed == [("shutdown 'close' outcome", "sent", "complete"),
                      ("shutdown 'close' sent flag", True, None),
                      ("shutdown 'close' received flag", False, None),
                      ("shutdown 'close' sent", True, None),
                      ("shutdown 'close' received", False, None)]


@pytest.mark.parametrize("pattern, outcome, ok", [
    ('"closed"', "closed", True), ('"closed"', "truncated", False),
    ('"error:*"', "error:alert:decode_error", True), ('"error:*"', "closed", False),
    ('["closed", "truncated"]', "truncated", True), ('["closed", "error:*"]', "reset", False),
    ('"closed"', None, False),
])
def test_outcome_patterns(make_case, pattern, outcome, ok):
    case = make_case(VALID_CASE.replace(DRAIN, f"outcomes = {{drain = {pattern}}}"))
    sut = copy.deepcopy(SUT_OK)
    sut[3]["outcome"] = outcome
    (check,) = [c for c in checks_of(case, sut=sut) if c["what"] == "read 'drain' outcome"]
    assert check["ok"] is ok and check["actual"] == outcome


@pytest.mark.parametrize("have, ok", [(100, True), (99, False), (True, False), (None, False)])
def test_byte_counts_are_integers(make_case, have, ok):
    case = make_case(VALID_CASE.replace(DRAIN, DRAIN + "\nbytes = {drain = 100}"))
    sut = copy.deepcopy(SUT_OK)
    sut[3]["bytes"] = have
    (check,) = [c for c in checks_of(case, sut=sut) if c["what"] == "read 'drain' bytes"]
    assert (check["ok"], check["expected"], check["actual"]) == (ok, 100, have)


def test_wants_are_model_checks(make_case):
    case = make_case(VALID_CASE.replace('outcomes = {close = "sent"}',
                                        'outcomes = {close = "sent"}\n'
                                        'wants = {drain = "want_read"}'))
    sut = copy.deepcopy(SUT_OK)
    (check,) = [c for c in checks_of(case, sut=sut) if c["what"] == "read 'drain' wants"]
    assert (check["ok"], check["expected"], check["actual"]) == (False, "includes want_read", [])
    sut[3]["wants"] = ["want_write", "want_read"]
    (check,) = [c for c in checks_of(case, sut=sut) if c["what"] == "read 'drain' wants"]
    assert check["ok"] and check["statements"] == ["S10"]


AFTER = {"ev": "record", "dir": "sent", "alert": "close_notify"}


def test_wire_checks_and_their_windows():
    data = {"ev": "record", "dir": "recv", "type": "application_data"}
    after = {**data, "after": AFTER}
    peer = copy.deepcopy(PEER_OK)
    assert C.wire_check(after, peer, must=False)["ok"]
    peer.append({"ev": "record", "dir": "recv", "type": "application_data", "len": 5, "ms": 9})
    check = C.wire_check(after, peer, must=False)
    assert not check["ok"]
    assert check["actual"] == {"ev": "record", "dir": "recv", "type": "application_data",
                               "len": 5}
    assert check["what"] == ("peer transcript has no {ev=record dir=recv type=application_data} "
                             "after {ev=record dir=sent alert=close_notify}")
    # Before the anchor the same record is allowed.
    assert C.wire_check({**data, "before": AFTER}, peer, must=False)["ok"]
    # An anchor that never happened: nothing can follow it, nothing was seen after it.
    never = {**data, "after": {"ev": "record", "alert": "user_canceled"}}
    assert C.wire_check(never, peer, must=False)["ok"]
    check = C.wire_check(never, peer, must=True)
    assert (check["ok"], check["actual"]) == (False, "anchor never seen")


def test_must_count_is_exact():
    pattern = {"ev": "record", "type": "alert", "count": 2}
    check = C.wire_check(pattern, PEER_OK, must=True)
    assert (check["ok"], check["expected"], check["actual"]) == (True, {"count": 2},
                                                                 {"count": 2})
    assert not C.wire_check({**pattern, "count": 1}, PEER_OK, must=True)["ok"]


def test_peer_expectations_are_checks_only_where_claimed(make_case):
    peer = copy.deepcopy(PEER_OK)
    peer.insert(-1, {"ev": "expect", "what": "eof", "ok": False, "detail": "data"})
    peer.insert(-1, {"ev": "expect", "what": "silence", "ok": True})
    case = make_case()
    expects = [c for c in checks_of(case, peer=peer) if c["what"].startswith("peer expectation")]
    assert [(c["what"], c["rule"]) for c in expects] == [
        ("peer expectation close_notify", "close-notify-before-closing-write")]
    # Unmet and unclaimed: a note. Met, or claimed: none.
    assert C.unclaimed_expects(case, "1.3", peer) == [
        "peer expectation eof unmet (data); no check of this case is about it"]
    peer[4].update(ok=False, detail="timeout")           # close_notify: claimed, unmet
    assert len(C.unclaimed_expects(case, "1.3", peer)) == 1
    (claimed,) = [c for c in checks_of(case, peer=peer)
                  if c["what"] == "peer expectation close_notify"]
    assert (claimed["ok"], claimed["actual"]) == (False, "timeout")


def test_a_claim_of_a_group_outside_the_cell_version_does_not_count(make_case):
    case = make_case(with_tls13_group(VALID_CASE.replace('peer_expects = ["close_notify"]', ''))
                     + 'peer_expects = ["close_notify"]\n')
    peer = copy.deepcopy(PEER_OK)
    peer[4].update(ok=False, detail="timeout")
    assert C.unclaimed_expects(case, "1.3", peer) == []
    # TLS 1.2: the claiming group (a TLS 1.3 rule) does not apply, so the unmet
    # expectation is nobody's check: a note.
    assert len(C.unclaimed_expects(case, "1.2", peer)) == 1


VERSIONS = VALID_CASE + """
[[expect.api.versions]]
range = "<3.0"
[expect.api.versions.steps]
close = {ret = 1}
drain = {errno = 0}
"""


@pytest.mark.parametrize("library, older", [
    ("OpenSSL 1.1.1w  11 Sep 2023", True), ("OpenSSL 3.0.19 27 Jan 2026", False),
    # The ranges are OpenSSL's release numbers: another library gets the base table.
    ("wolfSSL 2.5.0", False), (None, False),
])
def test_api_table_per_library_version(make_case, library, older):
    table = C.api_expectations(make_case(VERSIONS), library)
    # An entry overrides the base field by field and adds fields.
    assert table["close"] == {"ret": 1 if older else 0, "sent": True, "received": False}
    assert table["drain"] == {"error": "SSL_ERROR_ZERO_RETURN", "received": True,
                              **({"errno": 0} if older else {})}


@pytest.mark.parametrize("want, have, ok", [
    (0, 0, True), (0, 1, False), ("<=0", -1, True), ("<=0", 1, False), ("<0", 0, False),
    (">0", 1, True), ("==1", 1, True), ("!=0", 0, False), ("!=0", -1, True),
    (0, None, False), ("<=0", "0", False), (0, False, False),
])
def test_ret_comparisons(want, have, ok):
    assert C._compare_ret(want, have) is ok


@pytest.mark.parametrize("field, want, native, ok", [
    ("error", "SSL_ERROR_ZERO_RETURN", {"error": "SSL_ERROR_ZERO_RETURN"}, True),
    ("error", ["SSL_ERROR_SSL", "SSL_ERROR_SYSCALL"], {"error": "SSL_ERROR_SYSCALL"}, True),
    ("error", "", {"error": "SSL_ERROR_SSL"}, False),
    ("queue", "unexpected eof", {"queue": ["x", "SSL routines::unexpected eof while reading"]},
     True),
    ("queue", "unexpected eof", {"queue": "unexpected eof"}, False),
    ("errno", 0, {"errno": 0}, True), ("errno", 0, {}, False),
    ("errno", 0, {"errno": False}, False),
])
def test_api_fields(field, want, native, ok):
    assert C._api_field(field, want, {"native": native})[1] is ok


def test_odd_recorded_data_gives_failed_records_not_exceptions(make_case):
    sut = [SUT_OK[0], {"step": 2, "op": "shutdown", "outcome": 5, "native": "x",
                       "flags": "weird", "wants": None}]
    peer = [{"ev": "record", "dir": ["x"], "alert": {"a": 1}}, {"ev": "expect"}]
    checks = checks_of(make_case(), sut=sut, peer=peer)
    # 13 records less the claimed expectation (an expect event without `what`
    # is nobody's); every one of them failed.
    assert len(checks) == 12 and not any(c["ok"] for c in checks)
