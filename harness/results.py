"""results.json: building, writing, reading, merging (docs/results-format.md).

Contract:
- `build(...)` assembles the document from the run's parts; `write(doc, dir)`
  writes DIR/results.json atomically (a reader never sees half a file).
- `load(path)` returns a document or raises ResultsError naming the file and
  what is wrong; `merge(docs)` combines per-entry documents into one and
  raises ResultsError on two results for the same cell.
- `exit_code(doc)`: 0 all PASS/SKIP/KNOWN, 1 some FAIL, 3 some ERROR,
  TIMEOUT or CRASH (3 wins).
"""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
from pathlib import Path

from harness import files, vocabulary as V

FORMAT = 1
VERDICTS = ("PASS", "FAIL", "KNOWN", "SKIP", "ERROR", "TIMEOUT", "CRASH")
BROKEN = ("ERROR", "TIMEOUT", "CRASH")


class ResultsError(Exception):
    pass


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def project_version(root: Path) -> str:
    """The version in the top-level CMakeLists.txt, the one place it lives."""
    try:
        text = (root / "CMakeLists.txt").read_text()
    except OSError:
        return "unknown"
    m = re.search(r"project\s*\(\s*tlsclose\b[^)]*\bVERSION\s+([0-9.]+)", text)
    return m.group(1) if m else "unknown"


def git_state(root: Path) -> str | None:
    """Commit and dirtiness, without ever writing to the repository (no
    index refresh: the optional locks are off)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, env=env)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def summary(cells: list[dict]) -> dict:
    out = {"total": len(cells)}
    for verdict in VERDICTS:
        out[verdict] = sum(1 for c in cells if c.get("verdict") == verdict)
    return out


def exit_code(doc: dict) -> int:
    counts = summary(doc["cells"])
    if any(counts[v] for v in BROKEN):
        return 3
    return 1 if counts["FAIL"] else 0


def case_entry(case) -> dict:
    return {"title": case.title, "cites": case.cites, "refs": case.refs, "why": case.why,
            "file": case.file}


def stack_entry(stack, info) -> dict:
    entry = {"title": stack.title, "api": stack.api, "file": stack.file,
             "library": info.library if info else None,
             "available": bool(info.available) if info else False,
             "hint": info.hint if info and not info.available else ""}
    if info and info.error:
        entry["error"] = info.error
    return entry


def build(tool: dict, stacks: dict, cases: dict, cells: list[dict]) -> dict:
    return {"format": FORMAT, "tool": tool, "stacks": stacks, "cases": cases, "cells": cells,
            "summary": summary(cells)}


def tool_entry(root: Path, started: str, duration_ms: float, argv: list[str],
               incomplete: bool) -> dict:
    return {"name": "tlsclose", "version": project_version(root), "git": git_state(root),
            "started": started, "duration_ms": round(duration_ms, 1), "argv": list(argv),
            "incomplete": incomplete}


def write(doc: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    files.write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())
    return path


def load(path: Path) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        raise ResultsError(f"{path}: not JSON: {exc}")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ResultsError(f"{path}: not a results.json of format {FORMAT}")
    for key, kind in (("tool", dict), ("stacks", dict), ("cases", dict), ("cells", list)):
        if not isinstance(doc.get(key), kind):
            raise ResultsError(f"{path}: field {key!r} is missing or not "
                               f"{'an array' if kind is list else 'a table'}")
    for i, cell in enumerate(doc["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("id"), str):
            raise ResultsError(f"{path}: cells[{i + 1}] has no id")
    return doc


def _cell_order(doc_stacks: list[str]):
    tls = {v: i for i, v in enumerate(V.TLS_VERSIONS)}
    io = {v: i for i, v in enumerate(V.IO_MODES)}
    role = {v: i for i, v in enumerate(V.ROLES)}
    stack = {v: i for i, v in enumerate(doc_stacks)}
    return lambda c: (c.get("case", ""), stack.get(c.get("stack"), len(stack)),
                      tls.get(c.get("tls"), 9), io.get(c.get("io"), 9), role.get(c.get("role"), 9))


def _merge_table(into: dict, table: dict, prefer_available: bool) -> None:
    """First wins, except that an available stack replaces an unavailable
    one: the run that could use the stack knows its library version."""
    for key, value in table.items():
        if key not in into or (prefer_available and not into[key].get("available")
                               and value.get("available")):
            into[key] = value


def merge(docs: list[tuple[str, dict]], argv: list[str], root: Path,
          stack_order: tuple[str, ...] = ()) -> dict:
    """Merges documents; the same cell in two inputs is an error, whatever
    the verdicts, because silently keeping one would hide the other. Stacks
    named in stack_order come first, the others in order of appearance."""
    stacks: dict = {}
    cases: dict = {}
    cells: list[dict] = []
    seen: dict[str, str] = {}
    for source, doc in docs:
        _merge_table(stacks, doc["stacks"], True)
        _merge_table(cases, doc["cases"], False)
        for cell in doc["cells"]:
            if cell["id"] in seen:
                raise ResultsError(f"cell {cell['id']} is in both {seen[cell['id']]} and "
                                   f"{source}")
            seen[cell["id"]] = source
            cells.append(cell)
    rank = {name: i for i, name in enumerate(stack_order)}
    stacks = dict(sorted(stacks.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    cells.sort(key=_cell_order(list(stacks)))
    tools = [doc["tool"] for _, doc in docs]
    starts = sorted(t.get("started") for t in tools if t.get("started"))
    tool = tool_entry(root, starts[0] if starts else now_iso(),
                      sum(float(t.get("duration_ms") or 0) for t in tools), argv,
                      any(t.get("incomplete") for t in tools))
    tool["merged_from"] = [source for source, _ in docs]
    return build(tool, stacks, cases, cells)


def summary_lines(doc: dict, path: Path, limit: int = 15) -> list[str]:
    """A one-screen summary: counts per stack and verdict, what did not pass."""
    names = list(doc["stacks"]) or sorted({c["stack"] for c in doc["cells"]})
    width = max([len(n) for n in names] + [5])
    lines = ["stack".ljust(width) + "".join(f"{v:>8}" for v in VERDICTS)]
    for name in names:
        mine = [c for c in doc["cells"] if c["stack"] == name]
        counts = summary(mine)
        lines.append(name.ljust(width) + "".join(f"{counts[v]:>8}" for v in VERDICTS))
    bad = [c for c in doc["cells"] if c["verdict"] in ("FAIL",) + BROKEN]
    for c in bad[:limit]:
        lines.append(f"{c['verdict']}: {c['id']}: {c['reason']}")
    if len(bad) > limit:
        lines.append(f"... and {len(bad) - limit} more not passing")
    unavailable = [n for n, s in doc["stacks"].items() if not s.get("available")]
    for name in unavailable:
        lines.append(f"note: stack {name} {doc['stacks'][name].get('hint') or 'unavailable'}")
    if doc["tool"].get("incomplete"):
        lines.append("note: the run was interrupted; results are incomplete")
    lines.append(f"{doc['summary']['total']} cells; results: {path}")
    return lines
