"""Findings: the unit above cells — what a stack violates, and how badly.

Contract:
- `findings(cells, stacks)` groups the failed checks that decide verdicts
  (rfc everywhere; model on stacks that declare the SSL_shutdown(3) model;
  api on api = "openssl" stacks) into findings, one per stack and rule (or
  model statements, or api) and per [[known]] entry or, for a failure no
  entry covers, per case and check:
    {"stack", "level", "rule", "cite", "severity", "statements", "what",
     "known", "cells", "cases", "command", "example"}
  ordered worst first: unexcused before KNOWN, security > interop > hygiene
  > model > api.
- `model_match(cells)` tells, per stack, how its model-level checks went per
  SSL_shutdown(3) statement: {"stack": {"checked": [S...], "differs": [S...]}}.
- `headline(stack, info, findings, match)` is the one line a stack gets:
  "2 security, 1 interop violations (all KNOWN); model: matches 17 of 21
  statements".
- `fails(findings, fail_on)` decides the exit status for `--fail-on`.
Pure: reads the cells' check records (docs/results-format.md), nothing else.
"""
from __future__ import annotations

from collections import Counter

from harness.spec.rules import RULES

SEVERITY_ORDER = {"security": 0, "interop": 1, "hygiene": 2}
FAIL_ON = ("security", "interop", "any")


def _decides(check: dict) -> bool:
    return not check.get("ok") and not check.get("difference")


def _show(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _key(cell: dict, check: dict) -> tuple:
    level = check.get("level")
    topic = check.get("rule") if level == "rfc" else ",".join(check.get("statements") or []) \
        if level == "model" else "api"
    if check.get("known"):
        return (cell["stack"], level, topic, "known", check.get("known_summary", ""))
    return (cell["stack"], level, topic, "case", cell["case"], check.get("what", ""))


def _new(cell: dict, check: dict) -> dict:
    level, rule = check.get("level"), RULES.get(check.get("rule"))
    if check.get("known"):
        what = check.get("known_summary", "")
    else:
        step = f"step {check['step']} " if check.get("step") is not None else ""
        what = (f"{cell['case']}: {step}{check.get('what')}: expected "
                f"{_show(check.get('expected'))}, got {_show(check.get('actual'))}")
    return {"stack": cell["stack"], "level": level,
            "rule": check.get("rule") if level == "rfc" else None,
            "cite": rule.cite() if rule else None,
            "severity": check.get("severity") if level == "rfc" else None,
            "statements": check.get("statements") if level == "model" else None,
            "what": what, "known": bool(check.get("known")), "cells": 0, "cases": [],
            "command": cell.get("command", ""), "example": cell.get("id", "")}


def _rank(f: dict) -> tuple:
    level = {"rfc": 0, "model": 1, "api": 2}.get(f["level"], 3)
    return (f["known"], level, SEVERITY_ORDER.get(f["severity"], 3), -f["cells"], f["stack"],
            f["what"])


def findings(cells: list[dict]) -> list[dict]:
    out: dict[tuple, dict] = {}
    for cell in cells:
        if cell.get("verdict") not in ("FAIL", "KNOWN"):
            continue
        seen_here = set()
        for check in cell.get("checks") or []:
            if not _decides(check):
                continue
            key = _key(cell, check)
            finding = out.setdefault(key, _new(cell, check))
            if key not in seen_here:
                finding["cells"] += 1
                seen_here.add(key)
            if cell["case"] not in finding["cases"]:
                finding["cases"].append(cell["case"])
    return sorted(out.values(), key=_rank)


def model_match(cells: list[dict]) -> dict[str, dict]:
    checked: dict[str, set] = {}
    differs: dict[str, set] = {}
    for cell in cells:
        for check in cell.get("checks") or []:
            if check.get("level") != "model":
                continue
            for sid in check.get("statements") or []:
                checked.setdefault(cell["stack"], set()).add(sid)
                if not check.get("ok"):
                    differs.setdefault(cell["stack"], set()).add(sid)
    order = lambda ids: sorted(ids, key=lambda s: int(s[1:]))  # noqa: E731
    return {stack: {"checked": order(ids), "differs": order(differs.get(stack, set()))}
            for stack, ids in checked.items()}


def headline(stack: str, model: str, stack_findings: list[dict], match: dict) -> str:
    rfc = [f for f in stack_findings if f["level"] == "rfc"]
    by = Counter(f["severity"] for f in rfc)
    if rfc:
        parts = ", ".join(f"{by[s]} {s}" for s in SEVERITY_ORDER if by[s])
        known = sum(f["known"] for f in rfc)
        tail = " (all KNOWN)" if known == len(rfc) else f" ({known} KNOWN)" if known else ""
        text = f"{parts} violation{'s' if len(rfc) > 1 else ''}{tail}"
    else:
        text = "no RFC violation seen"
    m = match.get(stack)
    if m:
        ok = len(m["checked"]) - len(m["differs"])
        kind = "model" if model == "ssl_shutdown" else "model (differences only)"
        text += f"; {kind}: matches {ok} of {len(m['checked'])} statements"
    api = [f for f in stack_findings if f["level"] == "api"]
    if api:
        text += f"; api: {len(api)} deviation{'s' if len(api) > 1 else ''}"
    return text


def fails(all_findings: list[dict], fail_on: str) -> bool:
    """Whether unexcused findings reach the --fail-on threshold (KNOWN never
    fails; 'any' is every unexcused finding, model and api included)."""
    open_ = [f for f in all_findings if not f["known"]]
    if fail_on == "any":
        return bool(open_)
    worst = SEVERITY_ORDER[fail_on]
    return any(f["level"] == "rfc" and SEVERITY_ORDER.get(f["severity"], 9) <= worst
               for f in open_)
