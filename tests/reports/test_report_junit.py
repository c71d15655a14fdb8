"""junit.xml: shape, counts, outcomes, and validity against tests/reports/junit.xsd."""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

from reports import junit, model
from support.results_docs import cell_by

XSD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "junit.xsd")
SECONDS = re.compile(r"^[0-9]+(\.[0-9]{1,3})?$")
ZONELESS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def parse(doc: dict) -> ET.Element:
    return ET.fromstring(junit.to_bytes(doc))


def structure_errors(root: ET.Element) -> list[str]:
    """The XSD's rules checked with the standard library, so the shape is tested
    even where lxml is not installed."""
    errs = []
    if root.tag != "testsuites":
        return [f"root is <{root.tag}>"]
    for suite in root:
        if suite.tag != "testsuite":
            errs.append(f"<{suite.tag}> under testsuites")
            continue
        for attr in ("name", "tests", "failures", "errors"):
            if attr not in suite.attrib:
                errs.append(f"testsuite without {attr}")
        if "timestamp" in suite.attrib and not ZONELESS.match(suite.get("timestamp")):
            errs.append(f"timestamp {suite.get('timestamp')}")
        order = {"properties": 0, "testcase": 1, "system-out": 2, "system-err": 3}
        ranks = [order.get(child.tag, -1) for child in suite]
        if -1 in ranks or ranks != sorted(ranks) or ranks.count(0) > 1:
            errs.append(f"suite {suite.get('name')}: children out of order {[c.tag for c in suite]}")
        for case in suite.iter("testcase"):
            for attr in ("name", "classname", "time"):
                if attr not in case.attrib:
                    errs.append(f"testcase without {attr}")
            if not SECONDS.match(case.get("time", "")):
                errs.append(f"time {case.get('time')!r}")
            outcomes = [c.tag for c in case if c.tag in ("skipped", "failure", "error")]
            if len(outcomes) > 1:
                errs.append(f"{case.get('name')}: several outcomes {outcomes}")
            corder = {"properties": 0, "skipped": 1, "failure": 1, "error": 1,
                      "system-out": 2, "system-err": 3}
            cr = [corder.get(c.tag, -1) for c in case]
            if -1 in cr or cr != sorted(cr):
                errs.append(f"{case.get('name')}: children out of order {[c.tag for c in case]}")
    return errs


def test_structure_small(small):
    assert structure_errors(parse(small)) == []


def test_structure_big(big_doc):
    assert structure_errors(parse(big_doc)) == []


def test_validates_against_xsd(small, big_doc):
    etree = pytest.importorskip("lxml.etree", reason="python3-lxml is not installed: "
                                "the XSD check needs it (the structure test still ran)")
    schema = etree.XMLSchema(etree.parse(XSD))
    for doc in (small, big_doc):
        xml = etree.fromstring(junit.to_bytes(doc))
        assert schema.validate(xml), schema.error_log.filter_from_errors()


def test_xsd_rejects_what_readers_reject():
    """The schema is not a rubber stamp: a zoned timestamp, two outcomes, a
    four-decimal time and a missing classname are refused."""
    etree = pytest.importorskip("lxml.etree", reason="python3-lxml is not installed")
    schema = etree.XMLSchema(etree.parse(XSD))
    bad = [
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0" '
        'timestamp="2026-11-27T07:15:02Z"/></testsuites>',
        '<testsuites><testsuite name="s" tests="1" failures="1" errors="1">'
        '<testcase name="a" classname="c" time="0.1"><failure/><error/></testcase>'
        '</testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
        '<testcase name="a" classname="c" time="0.1234"/></testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
        '<testcase name="a" time="0.1"/></testsuite></testsuites>',
    ]
    for text in bad:
        assert not schema.validate(etree.fromstring(text)), text


def test_one_testcase_per_cell_with_counts(small):
    root = parse(small)
    cases = list(root.iter("testcase"))
    assert len(cases) == len(small["cells"])
    pairs = {(tc.get("classname"), tc.get("name")) for tc in cases}
    assert len(pairs) == len(cases), "classname+name must identify a cell"
    totals = model.counts(small["cells"])
    assert root.get("tests") == str(len(small["cells"]))
    assert root.get("failures") == str(totals["FAIL"])
    assert root.get("errors") == str(totals["ERROR"] + totals["TIMEOUT"] + totals["CRASH"])
    for suite in root.iter("testsuite"):
        stack = suite.get("name").split(".", 1)[1]
        mine = [c for c in small["cells"] if c["stack"] == stack]
        c = model.counts(mine)
        assert suite.get("tests") == str(len(mine))
        assert suite.get("skipped") == str(c["SKIP"])
        # The run's start, without its zone (JUnit readers refuse one).
        assert suite.get("timestamp") == small["tool"]["started"][:19]
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert props["library"] == (small["stacks"][stack]["library"] or "")
        assert props["available"] == str(small["stacks"][stack]["available"]).lower()


def find_case(root: ET.Element, cell: dict) -> ET.Element:
    for tc in root.iter("testcase"):
        if tc.get("classname") == model.classname(cell) and tc.get("name") == cell["case"]:
            return tc
    raise AssertionError(f"no testcase for {cell['id']}")


def test_classname_replaces_dots():
    cell = {"stack": "openssl-1.1.1", "tls": "1.3", "io": "nonblocking", "role": "client"}
    assert model.classname(cell) == "openssl-1_1_1.tls1_3.nonblocking.client"


def test_fail_is_failure_with_the_expectation_diff(small):
    cell = cell_by(small, "peer-data-after-own", "delivers-data-after-close", "FAIL")
    tc = find_case(parse(small), cell)
    failure = tc.find("failure")
    assert failure is not None and failure.get("type") == "FAIL"
    assert "[rfc] step 3 read 'second_read' outcome: expected closed | truncated | error:*, " \
           "actual data:100" in failure.get("message")
    assert "step 3" in failure.get("message")
    assert cell["command"] in failure.text


@pytest.mark.parametrize("verdict", ["ERROR", "TIMEOUT", "CRASH"])
def test_problems_are_errors_typed_by_verdict(small, verdict):
    cell = next(c for c in small["cells"] if c["verdict"] == verdict)
    err = find_case(parse(small), cell).find("error")
    assert err is not None and err.get("type") == verdict
    assert cell["reason"] in err.get("message")


def test_skip_carries_its_reason(small):
    cell = next(c for c in small["cells"] if c["verdict"] == "SKIP")
    skipped = find_case(parse(small), cell).find("skipped")
    assert skipped.get("message") == cell["reason"]


def test_known_passes_with_property_and_note(small):
    cell = next(c for c in small["cells"] if c["verdict"] == "KNOWN")
    tc = find_case(parse(small), cell)
    assert tc.find("failure") is None and tc.find("error") is None and tc.find("skipped") is None
    props = {p.get("name"): p.get("value") for p in tc.find("properties")}
    assert props["known"] == cell["reason"]
    assert "KNOWN deviation" in tc.find("system-out").text


def test_control_characters_never_break_the_xml(small):
    cell = cell_by(small, "sut-closes-first", "unstable", "CRASH")
    cell["stderr"]["sut"] = "boom\x00\x1b[31m\x07 end\ud800"
    cell["reason"] = "killed \x01"
    root = parse(small)  # must not raise
    err = find_case(root, cell).find("error")
    assert "\\x00" in err.text and "\\x1b" in err.text
    assert "\\x01" in err.get("message")


def test_times_have_three_decimals_at_most(big_doc):
    for el in parse(big_doc).iter():
        if "time" in el.attrib:
            assert SECONDS.match(el.get("time")), el.get("time")


def test_junk_durations_become_zero(small):
    for cell, value in zip(small["cells"], (float("nan"), float("inf"), None, "x", -5)):
        cell["duration_ms"] = value
    assert structure_errors(parse(small)) == []
    assert [junit.seconds(v) for v in (float("nan"), None, "x", -5, 1234.5678)] == \
        ["0.000", "0.000", "0.000", "0.000", "1.235"]
