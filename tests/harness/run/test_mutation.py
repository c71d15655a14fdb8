"""The mutation self-test's pure parts (harness/run/mutation.py): which cell
a variant runs per case, the variant's stack, and the tally: caught, not
caught, hung, the coverage. `tlsclose mutate` end to end is in
tests/harness/commands/test_mutate.py."""
from __future__ import annotations

import pytest

from harness.run import mutation
from support.harness_files import VALID_CASE

EVERYWHERE = {"tls": "*", "io": "*", "role": "*"}
UNPROVEN = 'unproven = "records what the documents leave open"\n'


def variant(name, **scope):
    return {"mutant": name, "breaks": f"breaks {name}", "scope": {**EVERYWHERE, **scope}}


def result(case, variant_name, verdict, stack="openssl"):
    name = f"{stack}~{variant_name}" if variant_name else stack
    return {"id": f"{case}/{name}/tls1.3/blocking/client", "case": case, "stack": name,
            "verdict": verdict}


@pytest.fixture
def cases(make_case):
    return [make_case(VALID_CASE.replace("example-case", cid), name=cid)
            for cid in ("c-one", "c-two")] + \
        [make_case(VALID_CASE.replace("example-case", "c-three").replace("[peer]",
                                                                         UNPROVEN + "[peer]"),
                   name="c-three")]


def test_tally_counts_only_fails_as_catches(cases):
    variants = [variant("lies"), variant("hangs"), variant("harmless")]
    cells = [result("c-one", "lies", "FAIL"), result("c-two", "lies", "FAIL"),
             result("c-one", "hangs", "TIMEOUT"), result("c-two", "hangs", "ERROR"),
             result("c-three", "hangs", "CRASH"),
             result("c-one", "harmless", "PASS"), result("c-two", "harmless", "KNOWN"),
             result("c-three", "harmless", "SKIP"), result("c-three", "lies", "PASS"),
             # the reference stack's own cells are never catches
             result("c-three", None, "FAIL")]
    doc = mutation.tally(cases, {"openssl": variants}, cells, ["openssl"])
    assert (doc["reference"], doc["references"]) == ("openssl", ["openssl"])
    assert [(v["reference"], v["mutant"], v["caught_by"]) for v in doc["variants"]] == [
        ("openssl", "lies", ["c-one", "c-two"]), ("openssl", "hangs", []),
        ("openssl", "harmless", [])]
    assert doc["variants"][0]["breaks"] == "breaks lies"
    assert doc["cases"] == {
        "c-one": {"caught": ["openssl~lies"], "unproven": None},
        "c-two": {"caught": ["openssl~lies"], "unproven": None},
        "c-three": {"caught": [], "unproven": "records what the documents leave open"}}
    assert doc["unproven"] == ["c-three"]
    assert doc["coverage"] == round(2 / 3, 4)


def test_a_catch_names_its_reference(cases):
    """The same variant on a second reference library is another proof:
    a case the first reference cannot show failing may be caught there."""
    variants = {"openssl": [variant("lies")], "gnutls": [variant("lies")]}
    cells = [result("c-one", "lies", "FAIL"), result("c-three", "lies", "PASS"),
             result("c-three", "lies", "FAIL", stack="gnutls")]
    doc = mutation.tally(cases, variants, cells, ["openssl", "gnutls"])
    assert [(v["reference"], v["caught_by"]) for v in doc["variants"]] == [
        ("openssl", ["c-one"]), ("gnutls", ["c-three"])]
    assert doc["cases"]["c-three"]["caught"] == ["gnutls~lies"]
    assert doc["unproven"] == ["c-two"] and doc["coverage"] == round(2 / 3, 4)


def test_coverage_of_an_all_caught_and_an_empty_corpus(cases):
    one = {"openssl": [variant("lies")]}
    cells = [result(c.id, "lies", "FAIL") for c in cases]
    assert mutation.tally(cases, one, cells, ["openssl"])["coverage"] == 1.0
    assert mutation.tally([], one, [], ["openssl"])["coverage"] == 1.0
    assert mutation.tally(cases, one, [], ["openssl"])["coverage"] == 0.0


def test_plan_runs_one_cell_per_variant_and_case(cases, make_stack):
    stack = make_stack(name="openssl", extra='[[known]]\ncase = "c-one"\nlevel = "api"\n'
                                             'summary = "s"\nevidence = "e"\n')
    cells = mutation.plan(cases, stack, [variant("lies"), variant("memory-only", io="memory"),
                                         variant("tls12-server", tls="1.2", role="server")])
    where = [(c.stack.name, c.case.id, c.tls, c.io, c.role) for c in cells]
    # TLS 1.3 before 1.2, blocking before nonblocking before memory, client before
    # server, within the variant's scope; cases in id order.
    assert where == [
        ("openssl~lies", "c-one", "1.3", "blocking", "client"),
        ("openssl~lies", "c-three", "1.3", "blocking", "client"),
        ("openssl~lies", "c-two", "1.3", "blocking", "client"),
        ("openssl~memory-only", "c-one", "1.3", "memory", "client"),
        ("openssl~memory-only", "c-three", "1.3", "memory", "client"),
        ("openssl~memory-only", "c-two", "1.3", "memory", "client"),
        ("openssl~tls12-server", "c-one", "1.2", "blocking", "server"),
        ("openssl~tls12-server", "c-three", "1.2", "blocking", "server"),
        ("openssl~tls12-server", "c-two", "1.2", "blocking", "server")]
    mutant = cells[0].stack
    # The reference stack under another name, with the variant chosen and its
    # [[known]] entries kept; the reference itself is unchanged.
    assert mutant.env["TLSCLOSE_MUTANT"] == "lies" and mutant.known == stack.known
    assert mutant.source == "file" and stack.name == "openssl"
    assert "TLSCLOSE_MUTANT" not in stack.env


def test_plan_skips_what_neither_the_case_nor_the_stack_can_do(make_case, make_stack):
    tls12_only = make_case(VALID_CASE.replace("[peer]", '[applies]\ntls = ["1.2"]\n\n[peer]')
                           .replace('rule = "tls13-close-notify-is-end-of-data"\n'
                                    'outcomes = {drain = "closed"}',
                                    'rule = "nothing-after-own-close-notify"\n'
                                    'must_not = [{ev = "record", dir = "recv", after = '
                                    '{ev = "record", dir = "recv", alert = "close_notify"}}]'))
    native_only = make_case(VALID_CASE.replace("example-case", "native-only")
                            .replace("[peer]", '[applies]\napi = ["native"]\n\n[peer]')
                            .split("[expect.api.steps]")[0], name="native-only")
    stack = make_stack(name="openssl")
    stack.io = ("nonblocking",)
    cells = mutation.plan([tls12_only, native_only], stack,
                          [variant("v"), variant("tls13-only", tls="1.3")])
    # The case's TLS 1.2 only, the stack's nonblocking only; a variant scoped to TLS 1.3
    # has no cell of it; a case for native stacks none at all.
    assert [(c.stack.name, c.case.id, c.tls, c.io) for c in cells] == [
        ("openssl~v", "example-case", "1.2", "nonblocking")]
