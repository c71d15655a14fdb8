"""Scenario files (endpoints/scenarios/ID.toml): one HTTP/1.1 exchange between
the mock peer and a real endpoint, and the rules it checks (docs/endpoints.md).

Contract:
- `load_scenario(path, root)` returns a `Scenario` or raises InvalidInput
  with every problem as `file:line: field: problem`; it starts no process.
- `load_scenarios(dir, root)` loads every *.toml of a directory, sorted by
  id, and checks the set: unique ids, one preflight scenario per endpoint
  role, a TLS version the preflight does not cover is covered by no other.
- `Scenario.expect` holds the groups in a normal form the judge relies on:
  {"rule", "severity", "tls": (versions...), "client": str | None,
   "request": str | None, "must": [pattern], "must_not": [pattern],
   "peer_expects": (what...), "note"}; a group's `tls` is its own, narrowed to
  the scenario's and to its rule's versions.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.base import vocabulary as V
from harness.base.problems import InvalidInput, Problem, Problems
from harness.base.tomlfile import display_path, load_toml
from harness.spec import rules, schema
from harness.spec.expectations import check_event_pattern
from harness.spec.peer_script import check_peer
from harness.spec.probe_spec import BLACKBOX_UNUSABLE

DEFAULT_DEADLINE_MS = 12000
# The action that must carry the HTTP message of each role's scenario.
HTTP_SEND = {"client": "http_send_response", "server": "http_send_request"}
CHECKS = ("client", "request", "must", "must_not", "peer_expects")


@dataclasses.dataclass
class Scenario:
    id: str
    title: str
    endpoint: str                 # the role of the endpoint under test
    question: str                 # vocabulary.SCENARIO_QUESTIONS
    framing: str | None
    refs: list[str]
    why: str
    tls: tuple[str, ...]
    preflight: bool
    deadline_ms: int
    peer: dict                    # the peer's script, as the peer gets it
    expect: list[dict]
    file: str

    @property
    def rules(self) -> list[str]:
        return list(dict.fromkeys(g["rule"] for g in self.expect))


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _group(probs: Problems, i: int, group: dict, role: str, tls: tuple) -> dict | None:
    path = ("expect", i)
    rule = rules.RULES.get(group.get("rule"))
    if rule is None:
        return None                           # the schema named it
    for key, owner in (("client", "client"), ("request", "server")):
        if key in group and role != owner:
            probs.add(path + (key,), f"only a scenario for a {owner} endpoint judges {key!r} "
                      f"(this one is endpoint = {role!r})")
    if not any(k in group for k in CHECKS):
        probs.add(path, f"has no check: give one of {', '.join(CHECKS)}")
    for key in ("must", "must_not"):
        for j, pattern in enumerate(_list(group.get(key))):
            check_event_pattern(probs, path + (key, j), pattern)
    wanted = group.get("tls") if isinstance(group.get("tls"), list) else tls
    return {"rule": rule.id, "severity": rule.severity,
            "tls": tuple(v for v in rule.tls if v in wanted and v in tls),
            "client": group.get("client"), "request": group.get("request"),
            "must": _list(group.get("must")), "must_not": _list(group.get("must_not")),
            "peer_expects": tuple(_list(group.get("peer_expects"))),
            "note": str(group.get("note", "")).strip()}


def _check_actions(probs: Problems, actions: list, role: str) -> None:
    send = HTTP_SEND[role]
    if not any(isinstance(a, dict) and a.get("do") == send for a in actions):
        probs.add(("peer", "actions"), f"a scenario for a {role} endpoint needs a {send} "
                  "action (the HTTP message of the exchange)")
    for i, action in enumerate(actions):
        if not isinstance(action, dict):
            continue
        if action.get("do") in BLACKBOX_UNUSABLE:
            probs.add(("peer", "actions", i, "do"), f"{action['do']} cannot run against a real "
                      "endpoint (no marker pipe, one connection)")
        if action.get("do") == "http_send_request" and "target" in action:
            probs.add(("peer", "actions", i, "target"), "the target is the endpoint file's "
                      "[server].paths: leave it out here")


def load_scenario(path: Path, root: Path | None = None) -> Scenario:
    path = Path(path)
    shown = display_path(path, root)
    data, probs = load_toml(path, shown)
    schema.validate(probs, data, "scenario")
    if isinstance(data.get("id"), str) and data["id"] != path.stem:
        probs.add(("id",), f"{data['id']!r} differs from the file name {path.stem!r}")
    role = data.get("endpoint") if data.get("endpoint") in V.ROLES else "client"
    tls = tuple(v for v in V.TLS_VERSIONS if v in data["tls"]) \
        if isinstance(data.get("tls"), list) and data["tls"] else V.TLS_VERSIONS
    deadline = data.get("deadline_ms", DEFAULT_DEADLINE_MS)
    deadline = deadline if isinstance(deadline, int) else DEFAULT_DEADLINE_MS
    peer, _ = check_peer(probs, data.get("peer"), [], {"tls": tls}, deadline) \
        if isinstance(data.get("peer"), dict) else ({}, {})
    _check_actions(probs, _list(peer.get("actions")), role)
    groups = [_group(probs, i, g, role, tls) for i, g in enumerate(_list(data.get("expect")))
              if isinstance(g, dict)]
    if data.get("question") == "truncation" and "framing" not in data:
        probs.add(("framing",), "a truncation scenario names the framing it cuts (the table "
                  "answers per framing)")
    probs.raise_if_any()
    return Scenario(id=data["id"], title=data["title"].strip(), endpoint=role,
                    question=data["question"], framing=data.get("framing"),
                    refs=list(data["refs"]), why=data["why"].strip(), tls=tls,
                    preflight=bool(data.get("preflight", False)), deadline_ms=deadline,
                    peer=peer, expect=[g for g in groups if g], file=shown)


def _set_problems(scenarios: list[Scenario]) -> list[Problem]:
    out, seen = [], {}
    for s in scenarios:
        if s.id in seen:
            out.append(Problem(s.file, 1, "id", f"duplicate id (also {seen[s.id]})"))
        seen.setdefault(s.id, s.file)
    for role in V.ROLES:
        mine = [s for s in scenarios if s.endpoint == role]
        first = [s for s in mine if s.preflight]
        if mine and len(first) != 1:
            out.append(Problem(mine[0].file, 1, "preflight", f"{len(first)} scenarios for a "
                               f"{role} endpoint say preflight = true; exactly one must (the "
                               "plain exchange run before the others)"))
        elif first:
            for s in mine:
                missing = [v for v in s.tls if v not in first[0].tls]
                if missing:
                    out.append(Problem(s.file, 1, "tls", f"{', '.join(missing)} is not a "
                                       f"version of the preflight scenario {first[0].id}"))
    return out


def load_scenarios(directory: Path, root: Path | None = None) -> list[Scenario]:
    problems, scenarios = [], []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            scenarios.append(load_scenario(path, root))
        except InvalidInput as exc:
            problems += exc.problems
    problems += _set_problems(scenarios)
    if problems:
        raise InvalidInput(problems)
    return sorted(scenarios, key=lambda s: (not s.preflight, s.id))
