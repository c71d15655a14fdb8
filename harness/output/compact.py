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
"""
from __future__ import annotations

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
