"""Validating a case's [peer] table: the mock peer's script (docs/peer.md).

Contract: `check_peer(probs, peer, steps, applies, deadline_ms)` records
the problems the schema (harness.spec.schema) cannot see in `probs` and
returns (script, cipher): the JSON
object the peer gets (harness-only keys removed) and the cipher suite per
TLS version the peer is restricted to. It also checks what only makes sense
together with the SUT steps: markers each side waits for must be sent by the
other side, and a `resume` step needs a `next_connection` action.
"""
from __future__ import annotations

import re
from collections import Counter

from harness.base import vocabulary as V
from harness.base.problems import Problems

MARKER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _actions(peer: dict) -> list[dict]:
    actions = peer.get("actions")
    return [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []


def _action(probs: Problems, i: int, action: dict, applies: dict, deadline: int) -> None:
    """What the schema cannot tell of one action: TLS 1.3-only actions in a
    case that applies to 1.2, record sizes that do not add up, a timeout
    longer than the case's deadline."""
    path = ("peer", "actions", i)
    do = action.get("do")
    if do in V.TLS13_ONLY_ACTIONS and "1.2" in applies["tls"]:
        probs.add(path + ("do",), f"{do} exists only in TLS 1.3 but applies.tls includes 1.2")
    records, size = action.get("records"), action.get("bytes")
    if isinstance(records, list) and _is_int(size) and 0 <= size <= V.MAX_BYTES \
            and records and all(map(_is_int, records)) and sum(records) != size:
        probs.add(path + ("records",), f"record sizes add up to {sum(records)}, "
                  f"not bytes = {size}")
    t = action.get("timeout_ms")
    if _is_int(t) and t > deadline:
        probs.add(path + ("timeout_ms",), f"{t} ms is longer than the case's deadline_ms "
                  f"({deadline})")
    if do == "send_raw" and isinstance(action.get("hex"), str):
        size = len(action["hex"].replace(" ", "")) // 2
        if size > V.MAX_HEX_BYTES:
            probs.add(path + ("hex",), f"{size} bytes is more than {V.MAX_HEX_BYTES}")


def _cipher(probs: Problems, value: object, applies: dict) -> dict[str, str]:
    """The suite per TLS version; a suite of one version in a case that
    applies to another too, or under the wrong version's key, is a problem."""
    path = ("peer", "cipher")
    if isinstance(value, str):
        versions = [v for v, names in V.CIPHERS.items() if value in names]
        if not versions:
            return {}
        others = [t for t in applies["tls"] if t not in versions]
        if others:
            probs.add(path, f"{value} is a TLS {versions[0]} suite but applies.tls includes "
                      f"{', '.join(others)}; use a table keyed by version")
        return {versions[0]: value}
    out = {}
    for tls, name in (value.items() if isinstance(value, dict) else ()):
        if tls in V.CIPHERS and name not in V.CIPHERS[tls]:
            probs.add(path + (tls,), f"{name!r} is not a TLS {tls} suite the peer knows "
                      f"({', '.join(V.CIPHERS[tls])})")
        elif tls in V.CIPHERS:
            out[tls] = name
    return out


def _marker(item: dict) -> str | None:
    """A well-formed marker, or None (a bad one is reported on its own)."""
    m = item.get("marker")
    return m if isinstance(m, str) and MARKER_RE.match(m) else None


def _unmatched_waits(items: list[dict], key: str, wait: str, sent: Counter):
    """Indexes of waits with no matching signal left from the other side."""
    waits: Counter = Counter()
    for i, item in enumerate(items):
        m = _marker(item)
        if item.get(key) == wait and m is not None:
            waits[m] += 1
            if waits[m] > sent[m]:
                yield i, m


def _markers(probs: Problems, steps: list[dict], actions: list[dict]) -> None:
    """Every wait needs a matching signal from the other side, or the cell
    would only end at its deadline."""
    sut_sent = Counter(_marker(s) for s in steps if s.get("op") == "signal_peer")
    peer_sent = Counter(_marker(a) for a in actions if a.get("do") == "signal_sut")
    for i, m in _unmatched_waits(steps, "op", "wait_peer", peer_sent):
        probs.add(("steps", i, "marker"), f"the peer never sends marker {m!r} (a signal_sut "
                  "action) for this wait")
    for i, m in _unmatched_waits(actions, "do", "wait_marker", sut_sent):
        probs.add(("peer", "actions", i, "marker"), f"the SUT never sends marker {m!r} (a "
                  "signal_peer step) for this wait")


def _connections(probs: Problems, steps: list[dict], actions: list[dict]) -> None:
    resume = next((i for i, s in enumerate(steps) if s.get("op") == "resume"), None)
    nexts = [i for i, a in enumerate(actions) if a.get("do") == "next_connection"]
    if resume is not None and not nexts:
        probs.add(("steps", resume, "op"), "resume needs a next_connection action in "
                  "peer.actions")
    if nexts and resume is None:
        probs.add(("peer", "actions", nexts[0], "do"), "next_connection needs a resume step "
                  "in steps")
    for i in nexts[1:]:
        probs.add(("peer", "actions", i, "do"), "only one next_connection (two connections)")


def check_peer(probs: Problems, peer: object, steps: list[dict], applies: dict,
               deadline: int) -> tuple[dict, dict[str, str]]:
    if not isinstance(peer, dict):
        return {}, {}
    actions = _actions(peer)
    for i, action in enumerate(peer.get("actions") if isinstance(peer.get("actions"), list)
                               else []):
        if isinstance(action, dict):
            _action(probs, i, action, applies, deadline)
    _markers(probs, steps, actions)
    _connections(probs, steps, actions)
    cipher = _cipher(probs, peer["cipher"], applies) if "cipher" in peer else {}
    script = {k: v for k, v in peer.items() if k not in V.PEER_HARNESS_ONLY}
    return script, cipher
