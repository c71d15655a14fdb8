"""The [probe] table of a case: validation, and what the corpus declares."""
from __future__ import annotations

import pytest

from harness.base.problems import InvalidInput
from harness.base.vocabulary import ROLES, TLS_VERSIONS
from harness.spec.case import load_case
from support.build import ROOT

BASE = (ROOT / "cases" / "duplicate-close-notify-is-ignored.toml").read_text()
HEAD = BASE.split("\n[probe]\n")[0]


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "duplicate-close-notify-is-ignored.toml"
    path.write_text(text)
    try:
        load_case(path, tmp_path)
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]
    return []


def test_corpus_case_with_probe_table_loads():
    case = load_case(ROOT / "cases" / "duplicate-close-notify-is-ignored.toml", ROOT)
    assert case.probe["tls"] == TLS_VERSIONS and case.probe["roles"] == ROLES
    assert case.probe["must"] == [] and case.probe["peer_expects_ok"] is False
    assert len(case.probe["must_not"]) == 2


def test_absent_keys_inherit_the_case(tmp_path):
    text = HEAD + '\n[probe]\nwhy = "RFC 8446 §6.1"\n'
    assert problems(tmp_path, text) == []
    case = load_case(tmp_path / "duplicate-close-notify-is-ignored.toml", tmp_path)
    assert case.probe["must"] == case.expect_rfc["must"]
    assert case.probe["must_not"] == case.expect_rfc["must_not"]
    assert case.probe["peer_expects_ok"] is True


@pytest.mark.parametrize("table, field, words", [
    ('[probe]\n', "probe.why", "missing (required)"),
    ('[probe]\nwhy = "x"\nwho = 1\n', "probe.who", "unknown key"),
    ('[probe]\nwhy = "x"\ntls = ["1.4"]\n', "probe.tls", "is not in applies.tls"),
    ('[probe]\nwhy = "x"\nroles = "server"\n', "probe.roles", "must be an array"),
    ('[probe]\nwhy = "x"\nmust = []\nmust_not = []\n', "probe", "leaves no wire check"),
    ('[probe]\nwhy = "x"\nmust = [{ev = "record", dir = "sideways"}]\n', "probe.must[1].dir",
     "unknown value"),
    ('[probe]\nwhy = "x"\npeer_expects_ok = "no"\n', "probe.peer_expects_ok",
     "true or false"),
])
def test_bad_probe_tables(tmp_path, table, field, words):
    found = problems(tmp_path, HEAD + "\n" + table)
    assert any(f": {field}: " in p and words in p for p in found), found
    line = next(p for p in found if f": {field}: " in p).split(":")[1]
    assert int(line) > HEAD.count("\n")                    # points into the [probe] table


def test_marker_actions_cannot_be_probed(tmp_path):
    text = HEAD.replace('{do = "close"},',
                        '{do = "wait_marker", marker = "m"},\n  {do = "close"},')
    text = text.replace('[[steps]]\nop = "handshake"', '[[steps]]\nop = "handshake"\n\n'
                        '[[steps]]\nop = "signal_peer"\nmarker = "m"', 1)
    found = problems(tmp_path, text + '\n[probe]\nwhy = "x"\n')
    assert any("peer.actions[4].do: wait_marker cannot run against a black-box" in p
               for p in found), found


def test_corpus_probe_cases_are_wire_only():
    from harness.spec import corpus
    cases = corpus.load_cases(corpus.case_files(ROOT / "cases"), ROOT)
    probed = [c for c in cases if c.probe]
    assert len(probed) >= 15
    for case in probed:
        assert case.probe["must"] or case.probe["must_not"], case.id
        assert case.probe["why"], case.id
        actions = case.peer.get("actions") or []
        assert not any(a.get("do") in ("signal_sut", "wait_marker", "next_connection")
                       for a in actions), case.id
