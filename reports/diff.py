"""What changed between a baseline run and this run, cell by cell.

Needs: two results documents. Cells are matched by id.
Gives: the cells whose verdict changed or whose library reported something
different at some step (outcome, native ret/error/queue/errno, flags), plus the
cells that exist in only one run. Timing differences are never a change: they
vary from run to run and would bury the real ones.
"""
from __future__ import annotations

from typing import Any

from . import model

# For "did it get worse": a skipped cell that now passes is no regression.
_RANK = {"PASS": 0, "SKIP": 1, "KNOWN": 1, "FAIL": 2, "TIMEOUT": 3, "ERROR": 3, "CRASH": 4}


def native_signature(op: dict) -> dict[str, Any]:
    """The parts of one op line that say what the library did."""
    nat = op.get("native") if isinstance(op.get("native"), dict) else {}
    return {"outcome": op.get("outcome"), "ret": nat.get("ret"), "error": nat.get("error"),
            "queue": list(nat.get("queue") or []), "errno": nat.get("errno"),
            "flags": model.format_flags(op.get("flags")) if "flags" in op else None}


def describe(op: dict | None) -> str:
    if op is None:
        return "(no such step)"
    sig = native_signature(op)
    return (f"{sig['outcome']} \u2014 {model.format_native(op) or 'no native result'}"
            f", flags {sig['flags'] or 'n/a'}")


def native_changes(before: dict, after: dict) -> list[dict]:
    """Steps whose library result differs, in step order."""
    old, new = model.ops_by_step(before), model.ops_by_step(after)
    changes = []
    for step in sorted(set(old) | set(new)):
        a, b = old.get(step), new.get(step)
        if a is not None and b is not None and native_signature(a) == native_signature(b):
            continue
        changes.append({"step": step, "op": (b or a or {}).get("op", ""),
                        "before": describe(a), "after": describe(b)})
    return changes


def diff(results: dict, baseline: dict) -> dict:
    """{"changed": [...], "added": [ids], "removed": [ids], "baseline": tool info}."""
    model.check_document(baseline)
    old = {model.cell_id(c): c for c in baseline["cells"]}
    new = {model.cell_id(c): c for c in results["cells"]}
    changed = []
    for cid, cell in new.items():
        prev = old.get(cid)
        if prev is None:
            continue
        steps = native_changes(prev, cell)
        v_old, v_new = model.verdict_of(prev), model.verdict_of(cell)
        if v_old != v_new or steps:
            changed.append({"id": cid, "case": cell["case"], "stack": cell["stack"],
                            "before": v_old, "after": v_new, "steps": steps,
                            "worse": _RANK[v_new] > _RANK[v_old]})
    # Regressions first, then the rest, each in the run's own order.
    changed.sort(key=lambda c: not c["worse"])
    return {"changed": changed,
            "added": [cid for cid in new if cid not in old],
            "removed": [cid for cid in old if cid not in new],
            "baseline": baseline.get("tool") or {}}
