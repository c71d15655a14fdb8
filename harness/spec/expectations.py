"""Validating a case's [expect] table (docs/case-format.md, "Expectations").

Contract: `check_expectations(probs, expect, steps, labels, applies)` records
every problem in `probs` and returns (rfc, api), the two levels in a normal
form the evaluator relies on:
  rfc = {"outcomes": {label: pattern}, "bytes": {label: int}, "must": [pattern],
         "must_not": [pattern], "peer_expects_ok": bool}
  api = {"steps": {label: {field: value}},
         "versions": [{"range": str, "steps": {label: {field: value}}}]}
Patterns are left as written (harness.spec.patterns interprets them).
"""
from __future__ import annotations

import re

from harness.spec import fields as F
from harness.spec import patterns as P
from harness.base import versions
from harness.base import vocabulary as V
from harness.base.problems import Problems

RFC_KEYS = ("outcomes", "bytes", "must", "must_not", "peer_expects_ok")
API_KEYS = ("steps", "versions")
VERSION_KEYS = ("range", "steps", "note")
RET_RE = re.compile(r"^(<|<=|>|>=|==|!=)\s*-?\d+$")
ERROR_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
EVENT_ENUMS = {"ev": V.PEER_EVENTS, "dir": ("sent", "recv"), "by": ("peer", "library", "sut")}


def _label_op(probs: Problems, path: tuple, label: str, steps: list[dict],
              labels: dict[str, int]) -> str | None:
    if label not in labels:
        known = ", ".join(labels) or "none: add label = \"...\" to a step"
        probs.add(path, f"no step has label {label!r} (labels: {known})")
        return None
    return steps[labels[label] - 1].get("op")


def _outcome_pattern(probs: Problems, path: tuple, value: object, op: str | None) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        probs.add(path, "must not be empty")
    for i, item in enumerate(items):
        where = path + (i,) if isinstance(value, list) else path
        if not F.want_type(probs, where, item, str, "an outcome or a list of outcomes"):
            continue
        problem = P.outcome_problem(op, item) if op in V.OUTCOMES else None
        if problem:
            probs.add(where, problem)


def _pattern_value(probs: Problems, path: tuple, key: str, value: object) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        probs.add(path, "must not be empty")
    for item in items:
        if isinstance(item, (dict, list, float)):
            probs.add(path, f"must be a string, integer or boolean, not {F.type_name(item)}")
        elif key in EVENT_ENUMS and item not in EVENT_ENUMS[key]:
            probs.add(path, f"unknown value {item!r} (known: {', '.join(EVENT_ENUMS[key])})")
        elif key == "alert" and isinstance(item, str) and not item.endswith("*") \
                and item not in V.ALERTS and item != "unknown":
            probs.add(path, f"unknown alert {item!r}")


def check_event_pattern(probs: Problems, path: tuple, pat: object, must: bool, nested: bool) -> None:
    if not F.want_type(probs, path, pat, dict, "an event pattern table"):
        return
    allowed = V.EVENT_FIELDS + (() if nested else ("after", "before")) + \
        (("count",) if must and not nested else ())
    F.unknown_keys(probs, path, pat, allowed)
    if not any(k in V.EVENT_FIELDS for k in pat):
        probs.add(path, "names no event field (e.g. ev = \"record\")")
    for key, value in pat.items():
        if key in ("after", "before") and not nested:
            check_event_pattern(probs, path + (key,), value, False, True)
        elif key == "count" and must and not nested:
            F.int_range(probs, path + (key,), value, 1, 100000)
        elif key in V.EVENT_FIELDS:
            _pattern_value(probs, path + (key,), key, value)


def _rfc(probs: Problems, rfc: dict, steps: list[dict], labels: dict[str, int]) -> dict:
    path = ("expect", "rfc")
    F.unknown_keys(probs, path, rfc, RFC_KEYS)
    outcomes = rfc.get("outcomes", {})
    if F.want_type(probs, path + ("outcomes",), outcomes, dict, "a table of label = outcome"):
        for label, value in outcomes.items():
            op = _label_op(probs, path + ("outcomes", label), label, steps, labels)
            _outcome_pattern(probs, path + ("outcomes", label), value, op)
    sizes = rfc.get("bytes", {})
    if F.want_type(probs, path + ("bytes",), sizes, dict, "a table of label = byte count"):
        for label, value in sizes.items():
            _label_op(probs, path + ("bytes", label), label, steps, labels)
            F.int_range(probs, path + ("bytes", label), value, 0, V.MAX_BYTES)
    for key in ("must", "must_not"):
        pats = rfc.get(key, [])
        if F.want_type(probs, path + (key,), pats, list, "an array of event patterns"):
            for i, pat in enumerate(pats):
                check_event_pattern(probs, path + (key, i), pat, key == "must", False)
    peer_ok = rfc.get("peer_expects_ok", True)
    F.want_type(probs, path + ("peer_expects_ok",), peer_ok, bool, "true or false")
    return {"outcomes": outcomes if isinstance(outcomes, dict) else {},
            "bytes": sizes if isinstance(sizes, dict) else {}, "must": rfc.get("must", []),
            "must_not": rfc.get("must_not", []), "peer_expects_ok": peer_ok is not False}


def _api_value(probs: Problems, path: tuple, key: str, value: object) -> None:
    if key == "ret":
        if isinstance(value, str):
            if not RET_RE.match(value.strip()):
                probs.add(path, "must be an integer or a comparison such as \"<0\" or \"<=0\"")
        else:
            F.want_type(probs, path, value, int, "an integer or a comparison string")
    elif key == "error":
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str) or not (item == "" or ERROR_NAME_RE.match(item)):
                probs.add(path, "must be an error name such as \"SSL_ERROR_ZERO_RETURN\" "
                          "(or a list of them)")
                break
    elif key == "queue":
        F.text(probs, path, value)
    elif key == "errno":
        F.int_range(probs, path, value, 0, 4095)
    else:
        F.want_type(probs, path, value, bool, "true or false")


def _api_steps(probs: Problems, path: tuple, table: object, steps: list[dict],
               labels: dict[str, int]) -> dict:
    if not F.want_type(probs, path, table, dict, "a table of label = {field = value}"):
        return {}
    for label, fields in table.items():
        _label_op(probs, path + (label,), label, steps, labels)
        if not F.want_type(probs, path + (label,), fields, dict, "a table of api fields"):
            continue
        F.unknown_keys(probs, path + (label,), fields, V.API_FIELDS)
        if not fields:
            probs.add(path + (label,), "names no api field")
        for key, value in fields.items():
            if key in V.API_FIELDS:
                _api_value(probs, path + (label, key), key, value)
    return table


def _api(probs: Problems, api: dict, steps: list[dict], labels: dict[str, int]) -> dict:
    path = ("expect", "api")
    F.unknown_keys(probs, path, api, API_KEYS)
    base = _api_steps(probs, path + ("steps",), api.get("steps", {}), steps, labels)
    entries = api.get("versions", [])
    out = []
    if F.want_type(probs, path + ("versions",), entries, list, "an array of tables"):
        for i, entry in enumerate(entries):
            where = path + ("versions", i)
            if not F.want_type(probs, where, entry, dict, "a table"):
                continue
            F.unknown_keys(probs, where, entry, VERSION_KEYS)
            F.missing_keys(probs, where, entry, ("range", "steps"))
            if "note" in entry:
                F.text(probs, where + ("note",), entry["note"])
            try:
                versions.parse_range(entry.get("range", ">=0"))
            except ValueError as exc:
                probs.add(where + ("range",), str(exc))
            entry_steps = _api_steps(probs, where + ("steps",), entry.get("steps", {}),
                                     steps, labels)
            out.append({"range": entry.get("range"), "steps": entry_steps,
                        "note": entry.get("note", "")})
    return {"steps": base, "versions": out}


def check_expectations(probs: Problems, expect: object, steps: list[dict],
                       labels: dict[str, int], applies: dict) -> tuple[dict, dict]:
    if not F.want_type(probs, ("expect",), expect, dict, "a table"):
        return {}, {}
    F.unknown_keys(probs, ("expect",), expect, ("rfc", "api"))
    rfc_in, api_in = expect.get("rfc", {}), expect.get("api", {})
    rfc = _rfc(probs, rfc_in, steps, labels) if F.want_type(
        probs, ("expect", "rfc"), rfc_in, dict, "a table") else {}
    api = _api(probs, api_in, steps, labels) if F.want_type(
        probs, ("expect", "api"), api_in, dict, "a table") else {}
    has_api = bool(api.get("steps")) or any(v["steps"] for v in api.get("versions", []))
    has_rfc = any(rfc.get(k) for k in ("outcomes", "bytes", "must", "must_not"))
    if not has_api and not has_rfc:
        probs.add(("expect",), "states no expectation (outcomes, bytes, must, must_not or api "
                  "steps)")
    if has_api and "openssl" not in applies["api"]:
        probs.add(("expect", "api"), "api expectations apply only to api = \"openssl\" stacks "
                  "but applies.api excludes them")
    return rfc, api
