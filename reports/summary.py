"""The end-of-run summary for a terminal: one screen, plain text.

Needs: a results document; optionally the path of the HTML report.
Gives: a table of verdict counts per stack, the ids of the cells that need a
look (FAIL, ERROR, TIMEOUT, CRASH; the first MAX_IDS of them, then a count of
the rest), and where the report is. At most about 24 lines whatever the size
of the run, so that the ids never scroll the counts away.
Never: colours or other terminal escapes; the caller may be writing to a file.
"""
from __future__ import annotations

from . import model

MAX_IDS = 12
WIDTH = 120


def _table(results: dict) -> list[str]:
    per_stack = model.counts_by_stack(results)
    shown = [v for v in model.VERDICTS
             if v in ("PASS", "FAIL") or any(c[v] for c in per_stack.values())]
    width = max([len("stack")] + [len(s) for s in per_stack]) + 2
    lines = ["stack".ljust(width) + "".join(v.rjust(8) for v in shown) + "total".rjust(8)]
    for stack, c in per_stack.items():
        lines.append(stack.ljust(width) + "".join(str(c[v]).rjust(8) for v in shown)
                     + str(sum(c.values())).rjust(8))
    total = model.counts(results.get("cells", []))
    lines.append("all".ljust(width) + "".join(str(total[v]).rjust(8) for v in shown)
                 + str(sum(total.values())).rjust(8))
    return lines


def _problem_lines(results: dict) -> list[str]:
    bad = model.problems(results)
    if not bad:
        return []
    lines = [f"{len(bad)} cell(s) need a look:"]
    for cell in bad[:MAX_IDS]:
        reason = str(cell.get("reason") or "").splitlines()[0] if cell.get("reason") else ""
        line = f"  {model.verdict_of(cell):<7} {model.cell_id(cell)}"
        if reason:
            line += f"  \u2014 {reason}"
        lines.append(line[:WIDTH])
    if len(bad) > MAX_IDS:
        lines.append(f"  ... and {len(bad) - MAX_IDS} more (see the report)")
    return lines


def format_summary(results: dict, report_path: str | None = None) -> str:
    """The summary as one string ending with a newline."""
    model.check_document(results)
    tool = results.get("tool") or {}
    total = len(results.get("cells", []))
    head = f"tlsclose {tool.get('version', '')}: {total} cell(s)"
    duration = model.milliseconds(tool.get("duration_ms"))
    if duration is not None:
        head += f" in {duration / 1000:.1f} s"
    if tool.get("incomplete"):
        head += " (INCOMPLETE run)"
    lines = [head, ""] + _table(results)
    problem_lines = _problem_lines(results)
    if problem_lines:
        lines += [""] + problem_lines
    if report_path:
        lines += ["", f"report: {report_path}"]
    return "\n".join(lines) + "\n"
