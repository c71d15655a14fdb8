"""Traceability: every statement S1-S21 / R1-R12 -> the cases that check it ->
their verdicts per stack.

Needs: a results document; the statement texts come from its "statements"
table, which the harness writes from its catalogue (a document without one,
from an older run, still lists the ids, with empty texts).
Gives: one row per statement in catalogue order, then any id cited by a case
but missing from the catalogue, flagged as such. A statement no case cites is
listed with no cases, never dropped: a gap must show.
"""
from __future__ import annotations

import re

from . import model


def statements(results: dict) -> dict[str, str]:
    """Statement id -> text, in catalogue order."""
    table = results.get("statements") or {}
    return {sid: str((entry or {}).get("text", "")) for sid, entry in table.items()}


def sources(results: dict) -> dict[str, str]:
    """Statement id -> the document it comes from."""
    table = results.get("statements") or {}
    return {sid: str((entry or {}).get("source", "")) for sid, entry in table.items()}


def _id_order(sid: str) -> tuple:
    m = re.fullmatch(r"([A-Z]+)(\d+)", sid)
    # S before R as in the design notes; unknown shapes last.
    return ({"S": 0, "R": 1}.get(m.group(1), 2), int(m.group(2))) if m else (3, 0, sid)


def case_cites(results: dict) -> dict[str, list[str]]:
    """Case id -> cited ids, for every case of the run (from cases or cells)."""
    cases = {cid: list(info.get("cites") or []) for cid, info in (results.get("cases") or {}).items()}
    for cell in results.get("cells", []):
        cases.setdefault(cell["case"], [])
    return cases


def build(results: dict) -> dict:
    """{"stacks": [...], "rows": [{"id", "text", "source", "in_catalogue", "cases":
    [{"case", "title", "per_stack": {stack: {"worst", "counts"}}}], "per_stack": {...}}]}."""
    texts = statements(results)
    src = sources(results)
    stacks = list(model.counts_by_stack(results))
    cites = case_cites(results)
    titles = {cid: (info or {}).get("title", "") for cid, info in (results.get("cases") or {}).items()}
    cells_of: dict[tuple[str, str], list[dict]] = {}
    for cell in results.get("cells", []):
        cells_of.setdefault((cell["case"], cell["stack"]), []).append(cell)
    ids = list(texts) + sorted({s for cs in cites.values() for s in cs if s not in texts},
                               key=_id_order)
    rows = []
    for sid in ids:
        row_cases = []
        for case in sorted(c for c, cs in cites.items() if sid in cs):
            per = {}
            for stack in stacks:
                mine = cells_of.get((case, stack), [])
                per[stack] = {"worst": model.worst(model.verdict_of(c) for c in mine),
                              "counts": {v: n for v, n in model.counts(mine).items() if n}}
            row_cases.append({"case": case, "title": titles.get(case, ""), "per_stack": per})
        rows.append({"id": sid, "text": texts.get(sid, ""), "source": src.get(sid, ""),
                     "in_catalogue": sid in texts, "cases": row_cases,
                     "per_stack": {s: model.worst(rc["per_stack"][s]["worst"] for rc in row_cases
                                                  if rc["per_stack"][s]["worst"]) for s in stacks}})
    return {"stacks": stacks, "rows": rows}
