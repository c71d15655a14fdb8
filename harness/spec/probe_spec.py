"""Validating a case's [probe] table: may the case run against a black box?

A black-box endpoint (`tlsclose probe`) runs no step script and has no
marker pipes: only what the mock peer does and sees on the wire is known. A
case that declares `[probe]` says that its peer script still makes sense
against such an endpoint and which wire checks then hold for any correct
one (docs/case-format.md, "Probing a black box").

Contract: `check_probe(probs, table, peer, rfc, applies)` records every
problem of the table in `probs` and returns its normal form
  {"why": str, "tls": (versions...), "roles": (roles...),
   "must": [pattern], "must_not": [pattern], "peer_expects_ok": bool}
`roles` are the ENDPOINT's TLS roles (`--connect` probes a server,
`--listen` a client). `must`, `must_not` and `peer_expects_ok` are what a
probe cell checks: the table's own when it has the key (a black box may do
what the scripted SUT never does, so a probe may state its checks afresh),
else the case's [expect.rfc] ones. Patterns are left as written (harness.spec.patterns). It reads
no file and starts no process.
"""
from __future__ import annotations

from harness.spec.expectations import check_event_pattern
from harness.base.problems import Problems

# An endpoint has no marker pipe and the peer gets one connection.
BLACKBOX_UNUSABLE = ("signal_sut", "wait_marker", "next_connection")


def _narrowing(probs: Problems, table: dict, key: str, applies: dict) -> tuple[str, ...]:
    allowed = applies[key]
    chosen = table.get(key)
    if not isinstance(chosen, list):
        return allowed
    for value in chosen:
        if isinstance(value, str) and value not in allowed:
            probs.add(("probe", key), f"{value!r} is not in applies.{key} ({', '.join(allowed)})")
    return tuple(v for v in allowed if v in chosen)


def _patterns(probs: Problems, table: dict, key: str, rfc: dict) -> list:
    if key not in table:
        return list(rfc.get(key) or [])
    pats = table[key] if isinstance(table[key], list) else []
    for i, pat in enumerate(pats):
        check_event_pattern(probs, ("probe", key, i), pat)
    return pats


def _peer_usable(probs: Problems, peer: dict) -> None:
    for i, action in enumerate(peer.get("actions") or []):
        if isinstance(action, dict) and action.get("do") in BLACKBOX_UNUSABLE:
            probs.add(("peer", "actions", i, "do"), f"{action['do']} cannot run against a "
                      "black-box endpoint (no marker pipe, one connection) but the case "
                      "has a [probe] table")


def check_probe(probs: Problems, table: object, peer: dict, rfc: dict,
                applies: dict) -> dict | None:
    if not isinstance(table, dict):
        return None
    peer_ok = table.get("peer_expects_ok", rfc.get("peer_expects_ok", True))
    out = {"why": str(table.get("why", "")).strip(),
           "tls": _narrowing(probs, table, "tls", applies),
           "roles": _narrowing(probs, table, "roles", applies),
           "must": _patterns(probs, table, "must", rfc),
           "must_not": _patterns(probs, table, "must_not", rfc),
           "peer_expects_ok": peer_ok is not False}
    _peer_usable(probs, peer if isinstance(peer, dict) else {})
    if not out["must"] and not out["must_not"]:
        probs.add(("probe",), "leaves no wire check: give must or must_not here or in "
                  "[expect.rfc] (outcomes and api checks need the endpoint's steps)")
    return out
