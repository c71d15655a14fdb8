"""Validating a case's [peer] table: the mock peer's script (docs/peer.md).

Contract: `check_peer(probs, peer, steps, applies, deadline_ms)` records
every problem of the table in `probs` and returns (script, cipher): the JSON
object the peer gets (harness-only keys removed) and the cipher suite per
TLS version the peer is restricted to. It also checks what only makes sense
together with the SUT steps: markers each side waits for must be sent by the
other side, and a `resume` step needs a `next_connection` action.
"""
from __future__ import annotations

from collections import Counter

from harness.spec import fields as F
from harness.base import vocabulary as V
from harness.base.problems import Problems


def _action(probs: Problems, i: int, action: object, applies: dict, deadline: int) -> None:
    path = ("peer", "actions", i)
    if not F.want_type(probs, path, action, dict, "a table"):
        return
    do = action.get("do")
    if do is None:
        probs.add(path + ("do",), "missing (required)")
        return
    if do not in V.PEER_ACTIONS:
        probs.add(path + ("do",), f"unknown action {do!r} (actions: {', '.join(V.PEER_ACTIONS)})")
        return
    F.check_table(probs, path, action, {**V.ACTION_COMMON, **V.PEER_ACTIONS[do]},
                  V.PEER_REQUIRED.get(do, ()))
    if do in V.TLS13_ONLY_ACTIONS and "1.2" in applies["tls"]:
        probs.add(path + ("do",), f"{do} exists only in TLS 1.3 but applies.tls includes 1.2")
    records, size = action.get("records"), action.get("bytes")
    if isinstance(records, list) and F.is_int(size) and 0 <= size <= V.MAX_BYTES \
            and all(map(F.is_int, records)):
        if sum(records) != size:
            probs.add(path + ("records",), f"record sizes add up to {sum(records)}, "
                      f"not bytes = {size}")
    t = action.get("timeout_ms")
    if F.is_int(t) and t > deadline:
        probs.add(path + ("timeout_ms",), f"{t} ms is longer than the case's deadline_ms "
                  f"({deadline})")


def _personality(probs: Problems, peer: dict) -> None:
    name = peer["personality"]
    if name not in V.PERSONALITIES:
        probs.add(("peer", "personality"),
                  f"unknown personality {name!r} (known: {', '.join(V.PERSONALITIES)})")
        return
    spec = {"personality": "text", **V.PEER_SCRIPT_COMMON, **V.PERSONALITY_COMMON,
            **V.PERSONALITIES[name], **{k: "harness" for k in V.PEER_HARNESS_ONLY}}
    F.unknown_keys(probs, ("peer",), peer, spec)
    for key, value in peer.items():
        if key in spec and spec[key] not in ("text", "harness"):
            F.check_kind(probs, ("peer", key), value, spec[key])


def _actions(probs: Problems, peer: dict, applies: dict, deadline: int) -> list[dict]:
    spec = {"actions": "list", **V.PEER_SCRIPT_COMMON, **V.PEER_ACTIONS_SCRIPT,
            **{k: "harness" for k in V.PEER_HARNESS_ONLY}}
    F.unknown_keys(probs, ("peer",), peer, spec)
    for key in (*V.PEER_SCRIPT_COMMON, *V.PEER_ACTIONS_SCRIPT):
        if key in peer:
            F.check_kind(probs, ("peer", key), peer[key], "bool")
    actions = peer["actions"]
    if not F.want_type(probs, ("peer", "actions"), actions, list, "an array of tables"):
        return []
    if not actions:
        probs.add(("peer", "actions"), "must not be empty")
    for i, action in enumerate(actions):
        _action(probs, i, action, applies, deadline)
    return [a for a in actions if isinstance(a, dict)]


def _cipher(probs: Problems, value: object, applies: dict) -> dict[str, str]:
    path = ("peer", "cipher")
    if isinstance(value, str):
        versions = [v for v, names in V.CIPHERS.items() if value in names]
        if not versions:
            probs.add(path, f"unknown cipher suite {value!r}")
            return {}
        others = [t for t in applies["tls"] if t not in versions]
        if others:
            probs.add(path, f"{value} is a TLS {versions[0]} suite but applies.tls includes "
                      f"{', '.join(others)}; use a table keyed by version")
        return {versions[0]: value}
    if not F.want_type(probs, path, value, dict, "a suite name or a table keyed by version"):
        return {}
    out = {}
    for tls, name in value.items():
        if tls not in V.CIPHERS:
            probs.add(path + (tls,), "must be a TLS version (\"1.2\" or \"1.3\")")
        elif name not in V.CIPHERS[tls]:
            probs.add(path + (tls,), f"{name!r} is not a TLS {tls} suite the peer knows "
                      f"({', '.join(V.CIPHERS[tls])})")
        else:
            out[tls] = name
    return out


def _marker(item: dict) -> str | None:
    """A well-formed marker, or None (a bad one is reported on its own)."""
    m = item.get("marker")
    return m if isinstance(m, str) and F.MARKER_RE.match(m) else None


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
    if not F.want_type(probs, ("peer",), peer, dict, "a table"):
        return {}, {}
    actions: list[dict] = []
    if "personality" in peer and "actions" in peer:
        probs.add(("peer", "actions"), "give either personality or actions, not both")
    elif "personality" in peer:
        if F.text(probs, ("peer", "personality"), peer["personality"]):
            _personality(probs, peer)
    elif "actions" in peer:
        actions = _actions(probs, peer, applies, deadline)
    else:
        probs.add(("peer",), "needs personality or actions")
    _markers(probs, steps, actions)
    _connections(probs, steps, actions)
    cipher = _cipher(probs, peer["cipher"], applies) if "cipher" in peer else {}
    script = {k: v for k, v in peer.items() if k not in V.PEER_HARNESS_ONLY}
    return script, cipher
