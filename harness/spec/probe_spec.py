"""Validating a case's [probe] table: may the case run against a black box?

A black-box endpoint (`tlsclose probe`) runs no step script and has no
marker pipes: only what the mock peer does and sees on the wire is known. A
case that declares `[probe]` says that its peer script still makes sense
against such an endpoint and which wire checks then hold for any correct
one (docs/case-format.md, "Probing a black box").

Contract: `check_probe(probs, table, peer, rfc, applies)` records every
problem of the table in `probs` and returns its normal form
  {"why": str, "tls": (versions...), "roles": (roles...), "rfc": [group]}
`roles` are the ENDPOINT's TLS roles (`--connect` probes a server,
`--listen` a client). `rfc` are the check groups a probe cell evaluates, in
the form of harness.spec.expectations with only wire checks (must, must_not,
peer_expects): the table's own [[probe.rfc]] groups when it has them (a
black box may do what the scripted SUT never does, so a probe may state its
checks afresh), else the wire parts of the case's [[expect.rfc]] groups.
Every group of the table states a check and every TLS version the probe
runs has a group that applies to it, or the table is a problem: a probe cell
with nothing to check would pass on nothing. Patterns are left as written
(harness.spec.patterns). It reads no file and starts no process.
"""
from __future__ import annotations

from harness.spec.expectations import check_event_pattern
from harness.base.problems import Problems
from harness.spec import rules

# An endpoint has no marker pipe and the peer gets one connection.
BLACKBOX_UNUSABLE = ("signal_sut", "wait_marker", "next_connection")
WIRE_KEYS = ("must", "must_not", "peer_expects")


def _has_check(group: dict) -> bool:
    return any(group.get(k) for k in WIRE_KEYS)


def _narrowing(probs: Problems, table: dict, key: str, applies: dict) -> tuple[str, ...]:
    allowed = applies[key]
    chosen = table.get(key)
    if not isinstance(chosen, list):
        return allowed
    for value in chosen:
        if isinstance(value, str) and value not in allowed:
            probs.add(("probe", key), f"{value!r} is not in applies.{key} ({', '.join(allowed)})")
    return tuple(v for v in allowed if v in chosen)


def _groups(probs: Problems, table: dict, rfc: list[dict], applies: dict) -> list[dict]:
    """The probe's own wire groups, else the wire parts of the case's rfc
    groups (outcomes and byte counts need the endpoint's steps)."""
    if "rfc" not in table:
        return [{**g, "outcomes": {}, "bytes": {}} for g in rfc if _has_check(g)]
    out = []
    for i, group in enumerate(table["rfc"] if isinstance(table["rfc"], list) else []):
        rule = rules.RULES.get(group.get("rule")) if isinstance(group, dict) else None
        if rule is None:
            continue
        wanted = group.get("tls") if isinstance(group.get("tls"), list) else list(rule.tls)
        path = ("probe", "rfc", i)
        if not _has_check(group):
            probs.add(path, f"states no check ({', '.join(WIRE_KEYS)})")
        for key in ("must", "must_not"):
            for j, pat in enumerate(group.get(key) if isinstance(group.get(key), list) else []):
                check_event_pattern(probs, path + (key, j), pat)
        out.append({"rule": rule.id, "severity": rule.severity,
                    "tls": tuple(v for v in rule.tls if v in wanted and v in applies["tls"]),
                    "outcomes": {}, "bytes": {},
                    "must": list(group.get("must") or []),
                    "must_not": list(group.get("must_not") or []),
                    "peer_expects": tuple(group.get("peer_expects") or ()),
                    "note": str(group.get("note", "")).strip()})
    return out


def _peer_usable(probs: Problems, peer: dict) -> None:
    for i, action in enumerate(peer.get("actions") or []):
        if isinstance(action, dict) and action.get("do") in BLACKBOX_UNUSABLE:
            probs.add(("peer", "actions", i, "do"), f"{action['do']} cannot run against a "
                      "black-box endpoint (no marker pipe, one connection) but the case "
                      "has a [probe] table")


def check_probe(probs: Problems, table: object, peer: dict, rfc: list[dict],
                applies: dict) -> dict | None:
    if not isinstance(table, dict):
        return None
    out = {"why": str(table.get("why", "")).strip(),
           "tls": _narrowing(probs, table, "tls", applies),
           "roles": _narrowing(probs, table, "roles", applies),
           "rfc": _groups(probs, table, rfc, applies)}
    _peer_usable(probs, peer if isinstance(peer, dict) else {})
    # A probe cell of a version no group applies to would pass on nothing.
    bare = [v for v in out["tls"]
            if not any(v in g["tls"] for g in out["rfc"] if _has_check(g))]
    if bare:
        which = "" if bare == list(out["tls"]) else f" for TLS {', '.join(bare)}"
        probs.add(("probe",), f"leaves no wire check{which}: give [[probe.rfc]] groups with "
                  "must, must_not or peer_expects, or such groups in [[expect.rfc]] (outcomes "
                  "and api checks need the endpoint's steps)")
    return out
