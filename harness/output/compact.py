"""What results.json keeps of a cell: everything the reports and `merge`
need, nothing repeated (docs/results-format.md, "Size").

Contract: `compact_cell(cell)` returns the cell as results.json stores it:
- a run of application-data records the peer logged back to back in one
  direction (the bulk-data cells send thousands) becomes its first record
  with `count` (records in the run), `len_total` and `last_seq`; every other
  event stays as it was;
- the peer's script is not repeated per cell: it is the case's (`cases` in
  results.json);
- the process command lines (`argv`) are kept only for cells that did not
  pass: the `command` field reproduces any cell;
- fields at their default value (an empty notes list, an unexcused check's
  `known: false`) are left out.
Pure; the evaluation has already seen the whole transcript.

`pack(doc)` / `unpack(doc)`: in the file, what a check IS (its level, step,
what, expected, rule, severity, statements) is written once in the
document's `check_defs` and each cell's check keeps only a reference and
what it FOUND (actual, ok, known, difference): the same expectation is
checked in many cells. `results.write` packs, `results.load` unpacks, so
everything in memory sees whole check records.
"""
from __future__ import annotations

import json

KEEP_ARGV = ("FAIL", "KNOWN", "ERROR", "TIMEOUT", "CRASH")
RUN_KEYS = ("ev", "dir", "by", "conn", "type", "epoch")


def _same_run(a: dict, b: dict) -> bool:
    return b.get("type") == "application_data" and \
        all(a.get(k) == b.get(k) for k in RUN_KEYS) and "takeover" not in b


def summarize_wire(events: list[dict]) -> list[dict]:
    out: list[dict] = []
    for event in events:
        last = out[-1] if out else None
        if last is not None and last.get("type") == "application_data" and \
                last.get("ev") == "record" and _same_run(last, event):
            last["count"] = last.get("count", 1) + 1
            last["len_total"] = last.get("len_total", last.get("len", 0)) + event.get("len", 0)
            last["last_seq"] = event.get("seq")
            continue
        out.append(dict(event))
    return out


def _check(check: dict) -> dict:
    return {k: v for k, v in check.items() if not (k == "known" and v is False)}


def compact_cell(cell: dict) -> dict:
    out = dict(cell)
    out.pop("peer", None)
    if out.get("verdict") not in KEEP_ARGV:
        out.pop("argv", None)
    if not out.get("notes"):
        out.pop("notes", None)
    out["wire"] = summarize_wire(cell.get("wire") or [])
    out["checks"] = [_check(c) for c in cell.get("checks") or []]
    return out


DEF_KEYS = ("level", "step", "what", "expected", "rule", "severity", "statements")


def pack(doc: dict) -> dict:
    index: dict[str, int] = {}
    defs: list[dict] = []
    cells = []
    for cell in doc["cells"]:
        packed = []
        for check in cell.get("checks") or []:
            definition = {k: check[k] for k in DEF_KEYS if k in check}
            key = json.dumps(definition, sort_keys=True)
            if key not in index:
                index[key] = len(defs)
                defs.append(definition)
            packed.append({"def": index[key],
                           **{k: v for k, v in check.items() if k not in DEF_KEYS}})
        cells.append({**cell, "checks": packed})
    return {**doc, "check_defs": defs, "cells": cells}


def is_ref(value: object) -> bool:
    """An index into check_defs: a JSON integer >= 0 (true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def unpack(doc: dict) -> dict:
    defs = doc.get("check_defs")
    if not isinstance(defs, list):
        return doc
    cells = []
    for cell in doc["cells"]:
        checks = []
        for check in cell.get("checks") or []:
            ref = check.get("def") if isinstance(check, dict) else None
            base = defs[ref] if is_ref(ref) and ref < len(defs) else {}
            checks.append({**base, **{k: v for k, v in check.items() if k != "def"}})
        cells.append({**cell, "checks": checks}) if isinstance(cell, dict) else cells.append(cell)
    out = {k: v for k, v in doc.items() if k != "check_defs"}
    out["cells"] = cells
    return out
