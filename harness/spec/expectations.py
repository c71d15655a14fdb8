"""What a case's [expect] table means beyond its shape (docs/case-format.md,
"Expectations"); the shape is the schema's (harness.spec.schema).

Contract: `check_expectations(probs, expect, steps, labels, applies)` records
in `probs` what no schema can tell — labels that name no step, outcome
patterns no outcome of the step's op can match, event patterns that name no
event field, version ranges that do not parse, a case with nothing to check,
api expectations in a case that excludes api = "openssl" stacks — and
returns (rfc, api), the two levels in a normal form the evaluator relies on:
  rfc = {"outcomes": {label: pattern}, "bytes": {label: int}, "must": [pattern],
         "must_not": [pattern], "peer_expects_ok": bool}
  api = {"steps": {label: {field: value}},
         "versions": [{"range": str, "steps": {label: {field: value}}, "note": str}]}
Patterns are left as written (harness.spec.patterns interprets them).
`check_event_pattern(probs, path, pattern)` is the event-pattern check the
[probe] table shares.
"""
from __future__ import annotations

from harness.base import versions
from harness.base import vocabulary as V
from harness.base.problems import Problems
from harness.spec import patterns as P


def _table(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _label_op(probs: Problems, path: tuple, label: str, steps: list[dict],
              labels: dict[str, int]) -> str | None:
    if label not in labels:
        known = ", ".join(labels) or "none: add label = \"...\" to a step"
        probs.add(path, f"no step has label {label!r} (labels: {known})")
        return None
    return steps[labels[label] - 1].get("op")


def _outcome_pattern(probs: Problems, path: tuple, value: object, op: str | None) -> None:
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        where = path + (i,) if isinstance(value, list) else path
        problem = P.outcome_problem(op, item) if op in V.OUTCOMES and isinstance(item, str) \
            else None
        if problem:
            probs.add(where, problem)


def check_event_pattern(probs: Problems, path: tuple, pattern: object) -> None:
    """An event pattern must name at least one event field (its modifiers
    and values are the schema's), and so must its anchors."""
    if not isinstance(pattern, dict):
        return
    if not any(k in V.EVENT_FIELDS for k in pattern):
        probs.add(path, "names no event field (e.g. ev = \"record\")")
    for key in ("after", "before"):
        if isinstance(pattern.get(key), dict):
            check_event_pattern(probs, path + (key,), pattern[key])


def _rfc(probs: Problems, rfc: dict, steps: list[dict], labels: dict[str, int]) -> dict:
    path = ("expect", "rfc")
    outcomes, sizes = _table(rfc.get("outcomes")), _table(rfc.get("bytes"))
    for label, value in outcomes.items():
        op = _label_op(probs, path + ("outcomes", label), label, steps, labels)
        _outcome_pattern(probs, path + ("outcomes", label), value, op)
    for label in sizes:
        _label_op(probs, path + ("bytes", label), label, steps, labels)
    for key in ("must", "must_not"):
        for i, pat in enumerate(_list(rfc.get(key))):
            check_event_pattern(probs, path + (key, i), pat)
    return {"outcomes": outcomes, "bytes": sizes, "must": _list(rfc.get("must")),
            "must_not": _list(rfc.get("must_not")),
            "peer_expects_ok": rfc.get("peer_expects_ok", True) is not False}


def _api_steps(probs: Problems, path: tuple, table: object, steps: list[dict],
               labels: dict[str, int]) -> dict:
    table = _table(table)
    for label in table:
        _label_op(probs, path + (label,), label, steps, labels)
    return {label: fields for label, fields in table.items() if isinstance(fields, dict)}


def _api(probs: Problems, api: dict, steps: list[dict], labels: dict[str, int]) -> dict:
    path = ("expect", "api")
    base = _api_steps(probs, path + ("steps",), api.get("steps"), steps, labels)
    out = []
    for i, entry in enumerate(_list(api.get("versions"))):
        where = path + ("versions", i)
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("range"), str):
            try:
                versions.parse_range(entry["range"])
            except ValueError as exc:
                probs.add(where + ("range",), str(exc))
        out.append({"range": entry.get("range"),
                    "steps": _api_steps(probs, where + ("steps",), entry.get("steps"), steps,
                                        labels),
                    "note": entry.get("note", "")})
    return {"steps": base, "versions": out}


def check_expectations(probs: Problems, expect: object, steps: list[dict],
                       labels: dict[str, int], applies: dict) -> tuple[dict, dict]:
    if not isinstance(expect, dict):
        return {}, {}
    rfc = _rfc(probs, _table(expect.get("rfc")), steps, labels)
    api = _api(probs, _table(expect.get("api")), steps, labels)
    has_api = bool(api["steps"]) or any(v["steps"] for v in api["versions"])
    has_rfc = any(rfc.get(k) for k in ("outcomes", "bytes", "must", "must_not"))
    if not has_api and not has_rfc:
        probs.add(("expect",), "states no expectation (outcomes, bytes, must, must_not or api "
                  "steps)")
    if has_api and "openssl" not in applies["api"]:
        probs.add(("expect", "api"), "api expectations apply only to api = \"openssl\" stacks "
                  "but applies.api excludes them")
    return rfc, api
