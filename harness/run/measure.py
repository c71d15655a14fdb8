"""Measuring whole matrices: CPU and wall per cell per stack, how busy the
cores were, the slowest cells (`tlsclose bench`, part d; docs/performance.md).

Contract: `stack_matrices(cases, stacks, env, jobs, mode)` runs every cell of
each stack (one run per stack, cells in parallel as `tlsclose run` runs them,
persistent servers where the shim has them) and returns
  {"stacks": {name: {"cells", "run", "wall_s", "cpu_s", "cpu_ms_per_cell",
                     "wall_ms_median", "verdicts": {...}}},
   "wall_s", "cpu_s", "idle": fraction of core time not used,
   "slowest": [{"id", "duration_ms", "verdict"} x10]}
CPU is this process's and its reaped children's (the servers are reaped at
the end of each stack's run), so it includes the harness itself. Starts
processes; raises nothing for a cell that fails (its verdict is counted).
"""
from __future__ import annotations

import os
import resource
import time
from collections import Counter

from harness.run import runner
from harness.run.detect import detect
from harness.run.matrix import expand
from harness.spec.case import Case
from harness.spec.stack import Stack

SLOWEST = 10


def _cpu_s() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def stack_matrices(cases: list[Case], stacks: list[Stack], env: runner.Environment,
                   jobs: int, mode: str = "persistent") -> dict:
    per_stack, every = {}, []
    t0, cpu0 = time.monotonic(), _cpu_s()
    for stack in stacks:
        info = detect(stack, env.bin_dir, env.root)
        cells = expand(cases, [stack], {stack.name: info})
        start, cpu = time.monotonic(), _cpu_s()
        outcome = runner.run_cells(cells, env, {stack.name: info}, jobs, mode=mode)
        wall, used = time.monotonic() - start, _cpu_s() - cpu
        ran = [r for r in outcome.results if r["verdict"] != "SKIP"]
        every += ran
        per_stack[stack.name] = {
            "cells": len(cells), "run": len(ran), "wall_s": round(wall, 2),
            "cpu_s": round(used, 2),
            "cpu_ms_per_cell": round(used * 1000 / len(ran), 2) if ran else None,
            "wall_ms_median": _median([r["duration_ms"] for r in ran]),
            "verdicts": dict(Counter(r["verdict"] for r in outcome.results))}
    wall, cpu = time.monotonic() - t0, _cpu_s() - cpu0
    cores = os.cpu_count() or 1
    slowest = sorted(every, key=lambda r: -(r.get("duration_ms") or 0))[:SLOWEST]
    return {"stacks": per_stack, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "idle": round(max(0.0, 1 - cpu / (wall * cores)), 3) if wall > 0 else None,
            "slowest": [{"id": r["id"], "duration_ms": r["duration_ms"],
                         "verdict": r["verdict"]} for r in slowest]}
