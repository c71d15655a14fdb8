"""The endpoint table: per endpoint, the answers people ask for, from its
cells (docs/endpoints.md, "The table").

Contract:
- `answers(role, cells)` returns
    {"sends_close_notify", "after_truncation", "answers_close_notify",
     "truncation": {framing: answer}, "complete_responses" (clients),
     "data_after_close_notify"}
  each answer {"text": str, "n": int, "of": int} (n, of: cells that show the
  behaviour, cells that could show it; "of" 0 and a text saying why when no
  cell could). The answers describe behaviour, not verdicts: a KNOWN cell
  counts as what it did.
- `flaky_findings(cells)` are findings (harness.output.findings shape, level
  "flaky") for cells whose verdict changed between repeats.
- `entry(outcome, cells, findings)` is the endpoint's results.json
  "endpoints" entry.
Pure: reads cell records only.
"""
from __future__ import annotations

from collections import Counter

from harness.base import vocabulary as V

TRUNCATION_RULES = ("http-incomplete-response-not-complete",
                    "http-close-delimited-needs-closure-alert",
                    "http-incomplete-request-not-complete")
JUDGED = ("PASS", "FAIL", "KNOWN")


def _count(n: int, of: int, always: str = "always", never: str = "never") -> str:
    if of == 0:
        return "not observed"
    if n == of:
        return f"{always} ({n} of {of})"
    return f"{never} (0 of {of})" if n == 0 else f"{n} of {of}"


def _answer(text: str, n: int = 0, of: int = 0) -> dict:
    return {"text": text, "n": n, "of": of}


def _judged(cells: list[dict]) -> list[dict]:
    return [c for c in cells if c.get("verdict") in JUDGED and c.get("endpoint")]


def _scenario_key(cell: dict) -> str:
    return f"{cell['case']} (TLS {cell['tls']})"


def _by_scenario(cells: list[dict]) -> str:
    """'client-x-fin (TLS 1.2, 1.3), ...': one entry per scenario."""
    versions: dict[str, list[str]] = {}
    for c in cells:
        versions.setdefault(c["case"], []).append(str(c["tls"]))
    return ", ".join(f"{case} (TLS {', '.join(sorted(set(v)))})" for case, v in versions.items())


def _question(cell: dict, scenarios: dict) -> str:
    return (scenarios.get(cell["case"]) or {}).get("question", "")


def _sends(cells: list[dict], scenarios: dict) -> tuple[dict, dict]:
    clean = [c["endpoint"]["closes_with"] for c in cells
             if _question(c, scenarios) != "truncation"
             and c["endpoint"].get("closes_with") is not None]
    n = sum(1 for x in clean if x == "close_notify")
    others = Counter(x for x in clean if x != "close_notify")
    text = _count(n, len(clean))
    if others:
        text += "; otherwise " + ", ".join(f"{k} ({v})" for k, v in others.most_common())
    cut = Counter(c["endpoint"]["closes_with"] for c in cells
                  if _question(c, scenarios) == "truncation"
                  and c["endpoint"].get("closes_with") is not None)
    after = ", ".join(f"{k} ({v})" for k, v in cut.most_common()) or "not observed"
    return _answer(text, n, len(clean)), _answer(after, sum(cut.values()), sum(cut.values()))


def _answers_peer(cells: list[dict]) -> dict:
    seen = [c["endpoint"]["answers_close_notify"] for c in cells
            if c["endpoint"].get("answers_close_notify") is not None]
    n = sum(1 for x in seen if x)
    return _answer(_count(n, len(seen)), n, len(seen))


def _rule_checks(cell: dict, rules: tuple[str, ...]) -> list[dict]:
    return [k for k in cell.get("checks") or [] if k.get("rule") in rules]


def _truncation(cells: list[dict], scenarios: dict, role: str) -> dict:
    out = {}
    for framing in V.HTTP_FRAMING_NAMES:
        if role == "server" and framing == "close-delimited":
            out[framing] = _answer("not applicable (a request is never close-delimited)")
            continue
        mine = [c for c in cells if _question(c, scenarios) == "truncation"
                and (scenarios.get(c["case"]) or {}).get("framing") == framing
                and _rule_checks(c, TRUNCATION_RULES)]
        missed = [c for c in mine if not all(k["ok"] for k in _rule_checks(c, TRUNCATION_RULES))]
        n = len(mine) - len(missed)
        text = _count(n, len(mine), "yes", "no")
        if not mine:
            text = "not observable (no backend or log pattern)" if role == "server" else \
                "not observed"
        elif missed:
            text += "; takes as complete: " + _by_scenario(missed)
        out[framing] = {**_answer(text, n, len(mine)), "missed": [_scenario_key(c) for c in missed]}
    return out


def _complete_responses(cells: list[dict]) -> dict:
    rule = ("http-framed-response-complete-after-incomplete-close",)
    mine = [c for c in cells if _rule_checks(c, rule)]
    refused = [c for c in mine if not all(k["ok"] for k in _rule_checks(c, rule))]
    n = len(mine) - len(refused)
    text = _count(n, len(mine), "yes", "no")
    if refused:
        text += "; rejects: " + _by_scenario(refused)
    return _answer(text, n, len(mine))


def _data_after(cells: list[dict], scenarios: dict) -> dict:
    mine = [c for c in cells if _question(c, scenarios) == "data-after-close-notify"]
    took = [c for c in mine if not all(
        k["ok"] for k in _rule_checks(c, ("data-after-closure-alert-ignored",)))]
    refused = [c for c in mine if not all(
        k["ok"] for k in _rule_checks(c, ("data-after-closure-alert-not-refused",)))]
    if not mine:
        return _answer("not observed")
    if not any(_rule_checks(c, ("data-after-closure-alert-ignored",)) for c in mine):
        return _answer("not observable (no backend, no saved body)")
    if took:
        text = f"yes ({len(took)} of {len(mine)}): " + "; ".join(
            c["endpoint"].get("report") or c["endpoint"].get("request", "") for c in took[:2])
    elif refused:
        text = f"no, but it fails the response ({len(refused)} of {len(mine)})"
    else:
        text = f"no ({len(mine)} of {len(mine)} ignored)"
    return _answer(text, len(took), len(mine))


def answers(role: str, cells: list[dict], scenarios: dict) -> dict:
    judged = _judged(cells)
    sends, after = _sends(judged, scenarios)
    out = {"sends_close_notify": sends, "after_truncation": after,
           "answers_close_notify": _answers_peer(judged),
           "truncation": _truncation(judged, scenarios, role),
           "data_after_close_notify": _data_after(judged, scenarios)}
    if role == "client":
        out["complete_responses"] = _complete_responses(judged)
    return out


def flaky_findings(cells: list[dict]) -> list[dict]:
    out = []
    for c in cells:
        if not c.get("flaky"):
            continue
        out.append({"stack": c["stack"], "level": "flaky", "rule": None, "cite": None,
                    "severity": None, "statements": None,
                    "what": f"{c['case']} (TLS {c['tls']}): the verdict changes between runs: "
                            f"{', '.join(c.get('repeats') or [])}",
                    "known": False, "cells": 1, "cases": [c["case"]],
                    "command": f"{c.get('command', '')} --repeat {len(c.get('repeats') or [])}",
                    "example": c["id"]})
    return out


def entry(outcome, cells: list[dict], scenarios: dict, findings: list[dict]) -> dict:
    ep = outcome.endpoint
    mine = [c for c in cells if c["stack"] == ep.name]
    return {"role": ep.role, "title": ep.title, "file": ep.file, "available": outcome.available,
            "hint": outcome.hint, "version": outcome.version,
            "version_output": outcome.version_output[-2000:], "error": outcome.error,
            "stopped": outcome.stopped, "skipped_tls": outcome.skipped_tls,
            "command": f"./tlsclose endpoints --endpoint {ep.name}",
            "answers": answers(ep.role, mine, scenarios) if outcome.available else {},
            "findings": [i for i, f in enumerate(findings) if f["stack"] == ep.name]}
