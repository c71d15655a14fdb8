"""results.json -> one self-contained HTML page (reports/templates/*.j2).

Needs: a results document, optionally a baseline document, and Jinja2.
Gives: a single file with inline CSS and JS and no network resource, readable
from file://. The header, the matrix, traceability, the Rosetta table and the
changes against a baseline are plain HTML rendered here, so the page is
readable at once; the per-cell drill-down (op table, wire ladder) is drawn by
the page's script from one embedded JSON blob, only when a cell is opened,
which keeps a 1,000-cell page small and quick to open. A large blob is stored
gzip-compressed and base64-encoded; the page unpacks it with the browser's
DecompressionStream on the first drill-down.
Never: lets data from the run reach the page unescaped (templates autoescape;
the blob is JSON with <, > and & written as \\u escapes, so no text of a run
can close the script element).
"""
from __future__ import annotations

import base64
import datetime as _dt
import gzip
import json
import math
import os
import re
from typing import Any

import jinja2

from . import diff as diff_mod
from . import endpoints as endpoints_mod
from . import model, rosetta, traceability

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
STDERR_TAIL = 4000
# Past this many transcript lines a cell keeps its first and last half: a peer
# that logs every record of a filled send buffer must not bloat the page.
WIRE_MAX = 2000
# Past this size the blob is stored gzip-compressed (base64): a transcript
# repeats itself so much that 1,000+ cells shrink about tenfold. Below it the
# blob stays plain JSON, readable with "view source".
PLAIN_MAX = 1_000_000


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.globals.update(SYMBOLS=model.SYMBOLS, VERDICTS=model.VERDICTS)
    return env


def script_json(value: Any) -> str:
    """JSON that is safe inside <script type="application/json">."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


def blob(value: Any) -> tuple[str, str]:
    """(encoding, text) of the embedded data: "json", or "gzip+base64" when large.
    A NaN or an infinity anywhere (json.load accepts them, JSON.parse does
    not) makes the whole value go through _round first; the usual document
    has none, and walking 7,500 cells' every value costs seconds."""
    try:
        text = script_json(value)
    except ValueError:
        text = script_json(_round(value))
    if len(text) <= PLAIN_MAX:
        return "json", text
    packed = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    return "gzip+base64", base64.b64encode(packed).decode("ascii")


def _cap_wire(wire: list) -> list:
    if len(wire) <= WIRE_MAX:
        return wire
    half = WIRE_MAX // 2
    return wire[:half] + [{"ev": "elided", "count": len(wire) - 2 * half}] + wire[-half:]


def _round(value: Any) -> Any:
    """Floats to 2 decimals, recursively: timings need no more in a report.
    NaN and infinities (json.load accepts them) become null, which JSON.parse
    accepts and the page shows as a dash."""
    if isinstance(value, float):
        return round(value, 2) if math.isfinite(value) else None
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _round_ms(lines: list) -> list:
    """The timings of op lines and transcript events (their "ms") to 2 decimals."""
    return [{**x, "ms": round(x["ms"], 2)}
            if isinstance(x, dict) and isinstance(x.get("ms"), float) and math.isfinite(x["ms"])
            else x for x in lines]


def _blob_cell(cell: dict) -> dict:
    """What the drill-down needs of one cell, with long stderr tails cut and
    timings rounded (the floats a cell carries are its timings)."""
    stderr = cell.get("stderr") or {}
    duration = cell.get("duration_ms")
    return {
        "id": model.cell_id(cell), "case": cell["case"], "stack": cell["stack"],
        "tls": cell.get("tls"), "io": cell.get("io"), "role": cell.get("role"),
        "verdict": model.verdict_of(cell), "reason": cell.get("reason") or "",
        "ops": _round_ms(cell.get("ops") or []),
        "wire": _round_ms(_cap_wire(cell.get("wire") or [])),
        "checks": cell.get("checks") or [],
        "duration_ms": _round(duration),
        "command": cell.get("command") or "", "notes": cell.get("notes") or [],
        "stderr": {k: str(v)[-STDERR_TAIL:] for k, v in stderr.items() if v}}


def _columns(results: dict) -> list[dict]:
    """(stack, tls) pairs that have at least one cell, stacks in results order."""
    present = {(c["stack"], str(c.get("tls"))) for c in results["cells"]}
    tls_all = sorted({t for _, t in present})
    return [{"stack": s, "tls": t} for s in model.counts_by_stack(results) for t in tls_all
            if (s, t) in present]


def _axis(cells: list[dict], key: str, order: tuple) -> list[str]:
    seen = {str(c.get(key)) for c in cells}
    return [v for v in order if v in seen] + sorted(seen - set(order))


def _matrix(results: dict) -> dict:
    cells = results["cells"]
    endpoint_cells = {c["case"]: True for c in cells if endpoints_mod.is_endpoint_cell(c)}
    cases_info = results.get("cases") or {}
    ios = _axis(cells, "io", model.IO_MODES)
    roles = _axis(cells, "role", model.ROLES)
    columns = _columns(results)
    by_slot: dict[tuple, list[tuple[int, dict]]] = {}
    for index, cell in enumerate(cells):
        if endpoints_mod.is_endpoint_cell(cell):
            continue                   # the Endpoints section shows them, by rule
        by_slot.setdefault((cell["case"], cell["stack"], str(cell.get("tls"))), []).append(
            (index, cell))
    case_ids = list(dict.fromkeys(
        [cid for cid in cases_info if (cases_info[cid] or {}).get("endpoint") is None]
        + [c["case"] for c in cells if not endpoint_cells.get(c["case"])]))
    rows = [_matrix_row(cid, cases_info.get(cid) or {}, columns, by_slot, ios, roles)
            for cid in case_ids]
    return {"columns": columns, "ios": ios, "roles": roles,
            "groups": _group(rows, traceability.statements(results))}


def _matrix_row(cid, info, columns, by_slot, ios, roles) -> dict:
    slots = []
    for col in columns:
        members = by_slot.get((cid, col["stack"], col["tls"]), [])
        grid = {(str(c.get("io")), str(c.get("role"))): (i, c) for i, c in members}
        slots.append({
            "stack": col["stack"], "tls": col["tls"], "n": len(members),
            "worst": model.worst(model.verdict_of(c) for _, c in members),
            "counts": {v: n for v, n in model.counts(c for _, c in members).items() if n},
            "grid": [[_sub(grid.get((io, role))) for role in roles] for io in ios]})
    return {"id": cid, "title": info.get("title", ""), "cites": list(info.get("cites") or []),
            "proof": info.get("proof"), "slots": slots}


def _sub(entry: tuple[int, dict] | None) -> dict | None:
    if entry is None:
        return None
    index, cell = entry
    return {"index": index, "id": model.cell_id(cell), "verdict": model.verdict_of(cell),
            "reason": cell.get("reason") or ""}


def _group(rows: list[dict], texts: dict[str, str]) -> list[dict]:
    """Rows under the first statement each case cites, in catalogue order."""
    order = {sid: i for i, sid in enumerate(texts)}
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["cites"][0] if row["cites"] else "", []).append(row)
    keys = sorted(groups, key=lambda k: (k == "", order.get(k, len(order)), k))
    return [{"id": k, "text": texts.get(k, ""), "rows": groups[k]} for k in keys]


def _when(iso: Any) -> str:
    try:
        when = _dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso or "")
    return when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def context(results: dict, baseline: dict | None = None) -> dict:
    """Everything the templates show, computed once."""
    model.check_document(results)
    stacks_info = results.get("stacks") or {}
    per_stack = model.counts_by_stack(results)
    stacks = [dict(name=name, counts=c, **{k: (stacks_info.get(name) or {}).get(k, d) for k, d in
               (("title", name), ("api", ""), ("model", ""), ("headline", ""), ("library", ""),
                ("available", True), ("hint", ""), ("endpoint", ""))})
              for name, c in per_stack.items()]
    tool = results.get("tool") or {}
    return {
        "tool": tool, "started": _when(tool.get("started")), "stacks": stacks,
        "duration_ms": model.milliseconds(tool.get("duration_ms")),
        "totals": model.counts(results["cells"]), "ncells": len(results["cells"]),
        "findings": results.get("findings") or [], "rules": results.get("rules") or {},
        "matrix": _matrix(results), "trace": traceability.build(results),
        "endpoints": endpoints_mod.build(results),
        "has_matrix": any(not endpoints_mod.is_endpoint_cell(c) for c in results["cells"]),
        "rosetta": rosetta.build(results),
        "changes": diff_mod.diff(results, baseline) if baseline is not None else None,
        "index_of": {model.cell_id(c): i for i, c in enumerate(results["cells"])},
        "statements": traceability.statements(results),
        "blob": blob({
            "cells": [_blob_cell(c) for c in results["cells"]],
            "cases": results.get("cases") or {},
            "statements": traceability.statements(results),
            "stacks": stacks_info,
            "symbols": model.SYMBOLS}),
    }


def render(results: dict, baseline: dict | None = None) -> str:
    page = _env().get_template("report.html.j2").render(**context(results, baseline))
    # The templates are indented for people; the page need not be. No part
    # of the page is whitespace-sensitive (no <pre> in the markup; the
    # scripts and styles do not care), and the full matrix is a third lighter.
    return re.sub(r"\n[ \t]+", "\n", page)


def write(results: dict, path: str, baseline: dict | None = None) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(render(results, baseline))
