"""The [probe] table of a case: validation, and what the corpus declares."""
from __future__ import annotations

import pytest

from harness.base.problems import InvalidInput
from harness.base.vocabulary import ROLES, TLS_VERSIONS
from harness.spec.case import load_case
from support.build import ROOT

BASE = (ROOT / "cases" / "duplicate-close-notify-is-ignored.toml").read_text()
HEAD = BASE.split("\n[probe]\n")[0]
# The case's rfc groups with wire checks, in file order (its outcome group,
# tls13-close-notify-is-end-of-data, needs the endpoint's steps).
WIRE_RULES = ["data-after-closure-alert-not-refused", "tls12-answer-close-notify-at-once",
              "close-notify-before-closing-write", "nothing-after-own-close-notify",
              "tls13-alert-alone-in-its-record"]
OWN_GROUP = """[[probe.rfc]]
rule = "close-notify-before-closing-write"
[[probe.rfc.must_not]]
ev = "tcp"
dir = "recv"
what = ["eof", "reset"]
"""


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "duplicate-close-notify-is-ignored.toml"
    path.write_text(text)
    try:
        load_case(path, tmp_path)
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]
    return []


def wire(groups: list[dict]) -> list[tuple]:
    return [(g["rule"], g["tls"], g["must"], g["must_not"], g["peer_expects"]) for g in groups]


def test_corpus_case_with_probe_table_loads():
    case = load_case(ROOT / "cases" / "duplicate-close-notify-is-ignored.toml", ROOT)
    assert case.probe["tls"] == TLS_VERSIONS and case.probe["roles"] == ROLES
    # No [[probe.rfc]]: the wire parts of the case's own rfc groups, never an outcome.
    assert [g["rule"] for g in case.probe["rfc"]] == WIRE_RULES
    assert all(g["outcomes"] == {} and g["bytes"] == {} for g in case.probe["rfc"])
    assert case.probe["rfc"][1]["peer_expects"] == ("close_notify",)
    assert case.probe["rfc"][1]["tls"] == ("1.2",)          # a TLS 1.2 rule stays one


def test_absent_keys_inherit_the_case(tmp_path):
    text = HEAD + '\n[probe]\nwhy = "RFC 8446 §6.1"\n'
    assert problems(tmp_path, text) == []
    case = load_case(tmp_path / "duplicate-close-notify-is-ignored.toml", tmp_path)
    assert wire(case.probe["rfc"]) == wire([g for g in case.expect_rfc
                                            if g["rule"] in WIRE_RULES])


def test_own_groups_replace_the_case_groups(tmp_path):
    text = HEAD + '\n[probe]\nwhy = "x"\ntls = ["1.3"]\n\n' + OWN_GROUP
    assert problems(tmp_path, text) == []
    case = load_case(tmp_path / "duplicate-close-notify-is-ignored.toml", tmp_path)
    (group,) = case.probe["rfc"]
    assert (group["rule"], group["severity"], group["must"]) == \
        ("close-notify-before-closing-write", "interop", [])
    assert group["must_not"] == [{"ev": "tcp", "dir": "recv", "what": ["eof", "reset"]}]
    assert case.probe["tls"] == ("1.3",)


@pytest.mark.parametrize("table, field, words", [
    ('[probe]\n', "probe.why", "missing (required)"),
    ('[probe]\nwhy = "x"\nwho = 1\n', "probe.who", "unknown key"),
    ('[probe]\nwhy = "x"\ntls = ["1.4"]\n', "probe.tls", "is not in applies.tls"),
    ('[probe]\nwhy = "x"\nroles = "server"\n', "probe.roles", "must be an array"),
    # The flat keys of the format before [[probe.rfc]] groups.
    ('[probe]\nwhy = "x"\nmust = []\n', "probe.must", "unknown key"),
    ('[probe]\nwhy = "x"\nrfc = []\n', "probe", "leaves no wire check"),
    ('[probe]\nwhy = "x"\n' + OWN_GROUP.replace('dir = "recv"', 'dir = "sideways"'),
     "probe.rfc[1].must_not[1].dir", "unknown value"),
    ('[probe]\nwhy = "x"\n' + OWN_GROUP.replace("[[probe.rfc.must_not]]",
                                              'peer_expects = "close_notify"\n'
                                              "[[probe.rfc.must_not]]"),
     "probe.rfc[1].peer_expects", "must be an array"),
    ('[probe]\nwhy = "x"\n' + OWN_GROUP.replace("close-notify-before-closing-write", "nope"),
     "probe.rfc[1].rule", "unknown rule 'nope'"),
    # Wire checks only: the endpoint's steps and their outcomes are unknown.
    ('[probe]\nwhy = "x"\n[[probe.rfc]]\nrule = "close-notify-before-closing-write"\n'
     'outcomes = {first = "closed"}\n', "probe.rfc[1].outcomes", "unknown key"),
    ('[probe]\nwhy = "x"\n[[probe.rfc]]\nrule = "close-notify-before-closing-write"\n',
     "probe.rfc[1]", "states no check (must, must_not, peer_expects)"),
    # A TLS 1.2 rule leaves a TLS 1.3 probe cell nothing to check.
    ('[probe]\nwhy = "x"\n[[probe.rfc]]\nrule = "tls12-answer-close-notify-at-once"\n'
     'peer_expects = ["close_notify"]\n', "probe", "leaves no wire check for TLS 1.3"),
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
        assert case.probe["why"], case.id
        for tls in case.probe["tls"]:
            groups = [g for g in case.probe["rfc"] if tls in g["tls"]]
            assert any(g["must"] or g["must_not"] or g["peer_expects"] for g in groups), \
                (case.id, tls)
        assert all(not g["outcomes"] and not g["bytes"] for g in case.probe["rfc"]), case.id
        actions = case.peer.get("actions") or []
        assert not any(a.get("do") in ("signal_sut", "wait_marker", "next_connection")
                       for a in actions), case.id
