"""`tlsclose mutate` (harness/commands/mutate.py) with the fake shim as both
reference stacks (openssl, then gnutls for the cases openssl's variants
cannot show failing): its variants (tests/support/fakes/fake_shim.py
--mutants) are caught, not caught or hang; mutation.json says which; the
exit status follows the coverage, the cases that say why they are unproven,
and cells that broke."""
from __future__ import annotations

import json

import pytest

from support.harness_files import VALID_CASE, write_case, write_stack

# The deadline ends the hanging variant's cells; the others, two Python processes
# each, finish within it even on a loaded machine.
DEADLINE_MS = 3000
SHORT = f"deadline_ms = {DEADLINE_MS}\n\n[applies]\ntls = [\"1.3\"]\n\n[peer]"
# Caught by the variant that makes step 2 'complete' (the model's S10 check).
CAUGHT = VALID_CASE.replace("[peer]", SHORT, 1)
# Checks step 3 only: no variant reaches it.
UNCAUGHT = """\
id = "{id}"
title = "Only the end of the data is checked"
cites = ["R3"]
refs = ["RFC 8446 §6"]
why = "The close_notify is the end of the data."
{unproven}deadline_ms = """ + str(DEADLINE_MS) + """

[applies]
tls = ["1.3"]

[peer]
personality = "well-behaved"

[[steps]]
op = "handshake"

[[steps]]
op = "shutdown"

[[steps]]
op = "read"
until = "close"
label = "drain"

[[expect.rfc]]
rule = "tls13-close-notify-is-end-of-data"
outcomes = {{drain = "closed"}}
"""
WHY = 'unproven = "what the read reports is the only check, and no variant changes it"\n'


@pytest.fixture
def mutate(tmp_path, fake_build, run_cli):
    """Runs `tlsclose mutate` on the given cases with the fake shim as the
    reference stacks `openssl` (these variants) and `gnutls` (`second`);
    returns the exit status, the output and mutation.json."""
    def run(cases: dict[str, str], variants: str, *extra: str, second: str = "harmless"):
        cases_dir = tmp_path / "cases"
        for cid, text in cases.items():
            write_case(cases_dir, text, cid)
        stacks = tmp_path / "stacks"
        write_stack(stacks, name="openssl", env=f'{{FAKE_MUTANTS = "{variants}"}}')
        write_stack(stacks, name="gnutls", env=f'{{FAKE_MUTANTS = "{second}"}}')
        rc, out, err = run_cli("mutate", "--cases-dir", cases_dir, "--stacks-dir", stacks,
                               "--build-dir", fake_build, "-j", "2", "--out", tmp_path / "m",
                               *extra)
        doc = json.loads((tmp_path / "m" / "mutation.json").read_text())
        return rc, out + err, doc
    return run


def test_caught_uncaught_and_hung(mutate):
    rc, out, doc = mutate({"caught": CAUGHT.replace("example-case", "caught"),
                           "uncaught": UNCAUGHT.format(id="uncaught", unproven=WHY)},
                          "outcome-2-complete,mode-hang,harmless")
    assert doc["references"] == ["openssl", "gnutls"]
    assert {f"{v['reference']}~{v['mutant']}": v["caught_by"] for v in doc["variants"]} == {
        "openssl~outcome-2-complete": ["caught"], "openssl~mode-hang": [],
        "openssl~harmless": [], "gnutls~harmless": []}
    assert doc["cases"]["caught"] == {"caught": ["openssl~outcome-2-complete"],
                                      "unproven": None}
    assert doc["cases"]["uncaught"]["caught"] == []
    assert doc["unproven"] == ["uncaught"] and doc["coverage"] == 0.5
    # A variant that makes a cell hang ran into the deadline: listed, never a catch.
    assert sorted(doc["hung_cells"]) == ["caught/openssl~mode-hang/tls1.3/blocking/client",
                                         "uncaught/openssl~mode-hang/tls1.3/blocking/client"]
    assert doc["broken_cells"] == [] and doc["corpus"]
    assert "4 variants of openssl, gnutls, 2 cases: 50.0 % caught" in out
    assert "openssl~mode-hang" in out and "(NOT CAUGHT)" in out
    assert "2 cells hung under a variant (TIMEOUT, not a catch)" in out
    assert "unproven: uncaught: what the read reports is the only check" in out
    # Half the cases caught: below the default 0.95.
    assert rc == 1


def test_the_second_reference_runs_what_the_first_did_not_catch(mutate):
    rc, out, doc = mutate({"caught": CAUGHT.replace("example-case", "caught"),
                           "uncaught": UNCAUGHT.format(id="uncaught", unproven=WHY)},
                          "outcome-2-complete", second="outcome-3-truncated")
    assert doc["cases"]["uncaught"]["caught"] == ["gnutls~outcome-3-truncated"]
    assert doc["cases"]["caught"]["caught"] == ["openssl~outcome-2-complete"]
    assert doc["unproven"] == [] and doc["coverage"] == 1.0
    assert rc == 0, out


@pytest.mark.parametrize("min_coverage, code", [("0.5", 0), ("0.51", 1), ("0", 0)])
def test_exit_follows_the_coverage(mutate, min_coverage, code):
    rc, _, doc = mutate({"caught": CAUGHT.replace("example-case", "caught"),
                         "uncaught": UNCAUGHT.format(id="uncaught", unproven=WHY)},
                        "outcome-2-complete", "--min-coverage", min_coverage)
    assert doc["coverage"] == 0.5 and rc == code


def test_an_unproven_case_that_says_nothing_fails_whatever_the_coverage(mutate):
    rc, out, doc = mutate({"caught": CAUGHT.replace("example-case", "caught"),
                           "silent": UNCAUGHT.format(id="silent", unproven="")},
                          "outcome-2-complete", "--min-coverage", "0")
    assert doc["cases"]["silent"] == {"caught": [], "unproven": None}
    assert "unproven: silent: says nothing about why (add `unproven`)" in out
    assert rc == 1


def test_cells_that_break_are_exit_3(mutate):
    rc, out, doc = mutate({"caught": CAUGHT.replace("example-case", "caught")},
                          "outcome-2-complete,mode-crash", "--min-coverage", "0")
    assert [c["verdict"] for c in doc["broken_cells"]] == ["CRASH"]
    assert doc["broken_cells"][0]["id"] == "caught/openssl~mode-crash/tls1.3/blocking/client"
    assert "1 cells broke (ERROR or CRASH)" in out
    assert rc == 3


def test_an_unknown_variant_is_a_usage_error(tmp_path, fake_build, run_cli):
    write_case(tmp_path / "cases", CAUGHT)
    write_stack(tmp_path / "stacks", name="openssl")
    rc, _, err = run_cli("mutate", "--cases-dir", tmp_path / "cases", "--stacks-dir",
                         tmp_path / "stacks", "--build-dir", fake_build, "--variant", "nope",
                         "--out", tmp_path / "m")
    assert rc == 2 and "--variant nope: no such variant" in err
