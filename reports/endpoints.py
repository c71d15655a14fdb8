"""The Endpoints section: real clients and servers (`tlsclose endpoints`).

Needs: a results document with an "endpoints" table (docs/results-format.md,
written by the endpoints command) and its cells (io "endpoint").
Gives: `build(results)` -> None when the document has no endpoints, else
  {"clients": [row], "servers": [row], "rules": [group]}
  row: the endpoint's name, title, version, availability, error, skipped
  TLS versions, the answers (each a text), its findings and the command
  that reproduces it; group: one RFC rule with its citation and severity and
  the endpoint cells that checked it (endpoint, scenario, TLS, verdict, the
  cell's index for the drill-down), worst first.
Never: reads anything but the document; never groups endpoint cells under
SSL_shutdown(3) statements, which mean nothing for a black box.
"""
from __future__ import annotations

from . import model

FRAMINGS = ("content-length", "chunked", "close-delimited")


def is_endpoint_cell(cell: dict) -> bool:
    return cell.get("io") == "endpoint"


def _text(answers: dict, key: str) -> str:
    value = answers.get(key)
    return str(value.get("text", "")) if isinstance(value, dict) else ""


def _row(name: str, entry: dict, findings: list[dict]) -> dict:
    answers = entry.get("answers") or {}
    truncation = answers.get("truncation") or {}
    mine = [findings[i] for i in entry.get("findings") or [] if 0 <= i < len(findings)]
    return {
        "name": name, "title": entry.get("title", ""), "version": entry.get("version", ""),
        "available": entry.get("available", True), "hint": entry.get("hint", ""),
        "error": entry.get("error") or entry.get("stopped") or "",
        "skipped_tls": entry.get("skipped_tls") or {},
        "sends": _text(answers, "sends_close_notify"),
        "after_truncation": _text(answers, "after_truncation"),
        "answers": _text(answers, "answers_close_notify"),
        "truncation": {f: str((truncation.get(f) or {}).get("text", "")) for f in FRAMINGS},
        "complete": _text(answers, "complete_responses"),
        "data_after": _text(answers, "data_after_close_notify"),
        "findings": mine, "command": entry.get("command", ""),
    }


def _rule_groups(results: dict) -> list[dict]:
    rules = results.get("rules") or {}
    groups: dict[str, list[dict]] = {}
    for index, cell in enumerate(results.get("cells", [])):
        if not is_endpoint_cell(cell):
            continue
        for rule in dict.fromkeys(k.get("rule") for k in cell.get("checks") or []
                                  if k.get("rule")):
            failed = any(not k.get("ok") for k in cell["checks"] if k.get("rule") == rule)
            verdict = model.verdict_of(cell)
            shown = ("KNOWN" if verdict == "KNOWN" else "FAIL") if failed else "PASS"
            groups.setdefault(rule, []).append(
                {"index": index, "id": model.cell_id(cell), "endpoint": cell["stack"],
                 "scenario": cell["case"], "tls": cell.get("tls"), "verdict": shown})
    order = {"security": 0, "interop": 1, "hygiene": 2}
    out = []
    for rule, cells in groups.items():
        info = rules.get(rule) or {}
        cells.sort(key=lambda c: (-model.SEVERITY.get(c["verdict"], 0), c["endpoint"],
                                  c["scenario"], str(c["tls"])))
        out.append({"rule": rule, "ref": info.get("ref", ""), "key": info.get("key", ""),
                    "severity": info.get("severity", ""), "quote": info.get("quote", ""),
                    "cells": cells, "counts": model.counts({"verdict": c["verdict"]}
                                                           for c in cells)})
    out.sort(key=lambda g: (order.get(g["severity"], 3), g["rule"]))
    return out


def build(results: dict) -> dict | None:
    table = results.get("endpoints")
    if not isinstance(table, dict) or not table:
        return None
    findings = results.get("findings") or []
    rows = [_row(name, entry or {}, findings) for name, entry in table.items()]
    return {"clients": [r for n, r in zip(table, rows) if (table[n] or {}).get("role") == "client"],
            "servers": [r for n, r in zip(table, rows) if (table[n] or {}).get("role") == "server"],
            "rules": _rule_groups(results)}
