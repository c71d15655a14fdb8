"""The read-only view of a results.json that every report writer shares.

Needs: a results document as loaded from results.json (docs/results-format.md).
Gives: verdict order and counts, stable names for cells, one-line renderings of
native results and failed checks. Never changes the document, never trusts the
document's own `summary` (counts are recomputed from the cells), and never
raises on a missing optional field: a partial run must still be reportable.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Iterable

from harness.base.problems import ResultsError
from harness.base.vocabulary import IO_MODES, ROLES, TLS_VERSIONS  # noqa: F401 (the axes' order)

VERDICTS = ("PASS", "KNOWN", "SKIP", "FAIL", "ERROR", "TIMEOUT", "CRASH")
PROBLEMS = ("FAIL", "ERROR", "TIMEOUT", "CRASH")
# How bad a verdict is when several cells are shown as one: the worst wins.
# SKIP ranks lowest so that one skipped mode never hides a passing row.
SEVERITY = {"SKIP": 0, "PASS": 1, "KNOWN": 2, "FAIL": 3, "TIMEOUT": 4, "ERROR": 5, "CRASH": 6}
# A shape per verdict so that colour is never the only signal.
SYMBOLS = {"PASS": "\u2713", "KNOWN": "\u25c6", "SKIP": "\u25cb", "FAIL": "\u2717",
           "ERROR": "!", "TIMEOUT": "\u25f7", "CRASH": "\u2620"}


# The results.json format the writers read (docs/results-format.md): 2 has check
# levels, rules, findings and stack headlines, which format 1 lacks.
FORMAT = 2


def check_document(results: Any) -> None:
    """Raises ResultsError unless results has the shape every writer relies on."""
    if not isinstance(results, dict):
        raise ResultsError("results: expected a JSON object")
    fmt = results.get("format")
    if fmt != FORMAT:
        raise ResultsError(f"results: format {fmt!r} is not supported (expected {FORMAT})")
    for key in ("tool", "stacks", "cases"):
        if not isinstance(results.get(key, {}), dict):
            raise ResultsError(f"results: '{key}' must be an object")
    cells = results.get("cells")
    if not isinstance(cells, list):
        raise ResultsError("results: 'cells' must be a list")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise ResultsError(f"results: cells[{i}] is not an object")
        for key in ("case", "stack", "verdict"):
            if not isinstance(cell.get(key), str):
                raise ResultsError(f"results: cells[{i}].{key} must be a string")


def cell_id(cell: dict) -> str:
    """The cell's id as results.json spells it, rebuilt when absent."""
    if cell.get("id"):
        return str(cell["id"])
    parts = [cell.get("case"), cell.get("stack"), f"tls{cell.get('tls') or '?'}",
             cell.get("io"), cell.get("role")]
    return "/".join(str(p) if p is not None else "?" for p in parts)


def _token(value: Any) -> str:
    # A dot inside a value would read as a package separator in JUnit viewers.
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value if value is not None else "none"))


def classname(cell: dict) -> str:
    """stack.tlsX_Y.io.role, e.g. openssl.tls1_3.nonblocking.client."""
    return ".".join([_token(cell.get("stack")), "tls" + _token(cell.get("tls")),
                     _token(cell.get("io")), _token(cell.get("role"))])


def verdict_of(cell: dict) -> str:
    v = cell.get("verdict")
    return v if v in SEVERITY else "ERROR"


def worst(verdicts: Iterable[str]) -> str | None:
    vs = list(verdicts)
    return max(vs, key=lambda v: SEVERITY.get(v, SEVERITY["ERROR"])) if vs else None


def counts(cells: Iterable[dict]) -> dict[str, int]:
    """Verdict -> number of cells, every verdict present (0 when none)."""
    c = Counter(verdict_of(cell) for cell in cells)
    return {v: c.get(v, 0) for v in VERDICTS}


def counts_by_stack(results: dict) -> dict[str, dict[str, int]]:
    """Stack -> verdict counts, stacks in results order then any extra seen in cells."""
    names = list((results.get("stacks") or {}).keys())
    for cell in results.get("cells", []):
        if cell["stack"] not in names:
            names.append(cell["stack"])
    return {s: counts(c for c in results.get("cells", []) if c["stack"] == s) for s in names}


def problems(results: dict) -> list[dict]:
    return [c for c in results.get("cells", []) if verdict_of(c) in PROBLEMS]


def milliseconds(value: Any) -> float | None:
    """A duration from the document; None for junk, NaN or a negative value."""
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return None
    return ms if math.isfinite(ms) and ms >= 0 else None


def format_native(op: dict | None) -> str:
    """One line for what the library said: error name, ret, queue, errno."""
    if not op or not isinstance(op.get("native"), dict):
        return ""
    nat = op["native"]
    parts = [str(nat.get("error") or "(no error)"), f"ret {nat.get('ret')}"]
    queue = nat.get("queue") or []
    if queue:
        parts.append("; ".join(str(q) for q in queue))
    if nat.get("errno"):
        parts.append(f"errno {nat.get('errno')}")
    return ", ".join(parts)


def format_flags(flags: Any) -> str:
    if not isinstance(flags, dict):
        return "n/a"
    on = [name for name in ("sent", "received") if flags.get(name)]
    return "+".join(on) if on else "none"


def format_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " | ".join(value)
    import json
    return json.dumps(value, sort_keys=True)


def check_line(check: dict) -> str:
    """`[api] step 4 native.ret: expected 1, actual 0` for one check record."""
    step = check.get("step")
    where = f"step {step} " if step is not None else ""
    return (f"[{check.get('level', '?')}] {where}{check.get('what', '')}: "
            f"expected {format_value(check.get('expected'))}, "
            f"actual {format_value(check.get('actual'))}")


def failed_checks(cell: dict) -> list[dict]:
    return [c for c in cell.get("checks") or [] if isinstance(c, dict) and not c.get("ok")]


def expectation_diff(cell: dict) -> str:
    """The failed checks of a cell, one per line; the reason when there are none."""
    lines = [check_line(c) + (" (known)" if c.get("known") else "") for c in failed_checks(cell)]
    return "\n".join(lines) if lines else str(cell.get("reason") or "")


def ops_by_step(cell: dict) -> dict[int, dict]:
    return {op["step"]: op for op in cell.get("ops") or []
            if isinstance(op, dict) and isinstance(op.get("step"), int)}
