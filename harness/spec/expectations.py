"""What a case's [expect] table means beyond its shape (docs/case-format.md,
"Expectations"); the shape is the schema's (harness.spec.schema).

Contract: `check_expectations(probs, expect, steps, labels, applies)` records
in `probs` what no schema can tell — labels that name no step, outcome
patterns no outcome of the step's op can match, event patterns that name no
event field, version ranges that do not parse, a case with nothing to check,
api expectations in a case that excludes api = "openssl" stacks — and
returns (rfc, model, api), the three levels in a normal form the evaluator
relies on:
  rfc   = [{"rule", "severity", "tls": (versions...), "outcomes": {label: pattern},
            "bytes": {label: int}, "must": [pattern], "must_not": [pattern],
            "peer_expects": (what...), "note"}]
  model = [{"statements": (S ids...), "tls", "outcomes", "bytes", "flags": {label:
            {sent, received}}, "wants": {label: [want...]}, "must", "must_not",
            "peer_expects", "note"}]
  api   = {"steps": {label: {field: value}},
           "versions": [{"range": str, "steps": {label: {field: value}}, "note": str}]}
A group's `tls` is where it applies: its own `tls` narrowed to the case's
applies.tls and, for rfc groups, to the TLS versions of its rule.
Patterns are left as written (harness.spec.patterns interprets them).
`check_event_pattern(probs, path, pattern)` is the event-pattern check the
[probe] table shares.
"""
from __future__ import annotations

from harness.base import versions
from harness.base import vocabulary as V
from harness.base.problems import Problems
from harness.spec import patterns as P
from harness.spec import rules


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


CHECK_KEYS = ("outcomes", "bytes", "must", "must_not", "peer_expects")
MODEL_CHECK_KEYS = CHECK_KEYS + ("flags", "wants")


def _common(probs: Problems, path: tuple, group: dict, steps: list[dict],
            labels: dict[str, int]) -> dict:
    """The parts every check group has, checked against the steps."""
    outcomes, sizes = _table(group.get("outcomes")), _table(group.get("bytes"))
    for label, value in outcomes.items():
        op = _label_op(probs, path + ("outcomes", label), label, steps, labels)
        _outcome_pattern(probs, path + ("outcomes", label), value, op)
    for label in sizes:
        _label_op(probs, path + ("bytes", label), label, steps, labels)
    for key in ("must", "must_not"):
        for i, pat in enumerate(_list(group.get(key))):
            check_event_pattern(probs, path + (key, i), pat)
    return {"outcomes": outcomes, "bytes": sizes, "must": _list(group.get("must")),
            "must_not": _list(group.get("must_not")),
            "peer_expects": tuple(_list(group.get("peer_expects"))),
            "note": str(group.get("note", "")).strip()}


def _versions(group: dict, allowed: tuple[str, ...]) -> tuple[str, ...]:
    wanted = _list(group.get("tls")) or list(V.TLS_VERSIONS)
    return tuple(v for v in V.TLS_VERSIONS if v in wanted and v in allowed)


def _rfc(probs: Problems, groups: list, steps: list[dict], labels: dict[str, int],
         applies: dict, cites: list[str]) -> list[dict]:
    out = []
    for i, group in enumerate(groups):
        path = ("expect", "rfc", i)
        rule = rules.RULES.get(group.get("rule")) if isinstance(group, dict) else None
        if rule is None:
            continue
        tls = _versions(group, tuple(v for v in applies["tls"] if v in rule.tls))
        if not tls:
            probs.add(path + ("rule",), f"{rule.id} is a rule of TLS {', '.join(rule.tls)} "
                      f"only, and the group applies to none of them (applies.tls, tls)")
        if not set(rule.statements) & set(cites):
            probs.add(path + ("rule",), f"{rule.id} belongs to {', '.join(rule.statements)}, "
                      f"which the case does not cite")
        if not any(group.get(k) for k in CHECK_KEYS):
            probs.add(path, f"states no check ({', '.join(CHECK_KEYS)})")
        out.append({"rule": rule.id, "severity": rule.severity, "tls": tls,
                    **_common(probs, path, group, steps, labels)})
    return out


def _model(probs: Problems, groups: list, steps: list[dict], labels: dict[str, int],
           applies: dict, cites: list[str]) -> list[dict]:
    out = []
    for i, group in enumerate(groups):
        path = ("expect", "model", i)
        if not isinstance(group, dict):
            continue
        statements = tuple(s for s in _list(group.get("statements")) if isinstance(s, str))
        for sid in statements:
            if sid not in cites:
                probs.add(path + ("statements",), f"{sid} is not cited by the case (cites)")
        if not any(group.get(k) for k in MODEL_CHECK_KEYS):
            probs.add(path, f"states no check ({', '.join(MODEL_CHECK_KEYS)})")
        flags, wants = _table(group.get("flags")), _table(group.get("wants"))
        for key, table in (("flags", flags), ("wants", wants)):
            for label in table:
                _label_op(probs, path + (key, label), label, steps, labels)
        out.append({"statements": statements, "tls": _versions(group, applies["tls"]),
                    "flags": flags,
                    "wants": {k: v if isinstance(v, list) else [v] for k, v in wants.items()},
                    **_common(probs, path, group, steps, labels)})
    return out


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
                       labels: dict[str, int], applies: dict,
                       cites: list[str]) -> tuple[list[dict], list[dict], dict]:
    if not isinstance(expect, dict):
        return [], [], {"steps": {}, "versions": []}
    rfc = _rfc(probs, _list(expect.get("rfc")), steps, labels, applies, cites)
    model = _model(probs, _list(expect.get("model")), steps, labels, applies, cites)
    api = _api(probs, _table(expect.get("api")), steps, labels)
    has_api = bool(api["steps"]) or any(v["steps"] for v in api["versions"])
    if not has_api and not rfc and not model:
        probs.add(("expect",), "states no expectation (expect.rfc, expect.model or "
                  "expect.api groups)")
    if has_api and "openssl" not in applies["api"]:
        probs.add(("expect", "api"), "api expectations apply only to api = \"openssl\" stacks "
                  "but applies.api excludes them")
    return rfc, model, api
