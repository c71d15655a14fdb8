"""`./tlsclose bench` (harness/commands/bench.py) without measuring: its
statistics, a missing build, and what keeps a matrix entry cheap. The quick
measured run is tests/bench/test_bench_quick.py (ctest bench.quick)."""
from __future__ import annotations

import sys

import pytest

from harness.commands import bench, ctest_entries
from support.build import ROOT
from support.front_door import tlsclose


def test_missing_build_is_reported_not_measured(tmp_path):
    done = tlsclose("bench", "--quick", "--out", tmp_path / "out", build=tmp_path / "nowhere",
                    timeout=60)
    assert done.returncode == bench.EXIT_NOT_MEASURED, done.stderr
    assert "not measured" in done.stderr and "not built" in done.stderr
    assert not (tmp_path / "out" / "bench.json").exists()


def test_quantiles_interpolate_between_ranks():
    stats = bench._stats([4.0, 1.0, 3.0, 2.0])
    assert stats["median_ms"] == 2.5 and stats["min_ms"] == 1.0 and stats["max_ms"] == 4.0
    assert stats["p10_ms"] == pytest.approx(1.3) and stats["p90_ms"] == pytest.approx(3.7)
    assert bench._stats([5.0])["p90_ms"] == 5.0


def test_ctest_entries_write_results_only_with_cached_bytecode(tmp_path):
    """What keeps an entry cheap: no report per entry (the matrix job writes
    one), and bytecode cached in the build tree whatever the environment."""
    text, _ = ctest_entries.generate(ROOT, tmp_path, ["openssl"], sys.executable)
    entry = next(line for line in text.splitlines() if f"NAME [=[{bench.BENCH_CASE}@" in line)
    props = text.splitlines()[text.splitlines().index(entry) + 1]
    assert entry.endswith("[=[--no-report]=] WORKING_DIRECTORY " f"[=[{ROOT}]=])")
    assert "ENVIRONMENT_MODIFICATION [=[PYTHONDONTWRITEBYTECODE=unset:;" \
           f"PYTHONPYCACHEPREFIX=set:{tmp_path}/pycache]=]" in props


def test_run_no_report_writes_results_json_only(tmp_path):
    done = tlsclose("run", "--stack", "openssl", "--case", bench.BENCH_CASE, "--tls", "1.3",
                    "--io", "blocking", "--role", "client", "--out", tmp_path, "--no-report",
                    timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def _doc(stacks: dict | None, all_stacks: bool = False) -> dict:
    doc = {"floor": {"median_ms": 10.0, "cpu_ms_per_rep": 10.0},
           "cell": {"median_ms": 12.0},
           "matrix": {"filter": None, "run": 1000, "cells": 1200, "cpu_s": 12.0, "wall_s": 6.0,
                      "entry_median_s": 0.2}}
    if stacks is not None:
        doc["stacks"] = {"stacks": stacks, "wall_s": 70.0, "idle": 0.1, "all": all_stacks}
    return doc


def _stack(cpu_ms: float, wall_s: float = 2.0) -> dict:
    return {"cells": 10, "run": 10, "cpu_ms_per_cell": cpu_ms, "wall_s": wall_s}


def test_targets_are_the_issue_targets_against_the_same_runs_floor():
    targets = bench.judge_targets(_doc(None))
    # 12 ms of CPU per run cell against the floor's 10 ms: 1.2 x, missed.
    assert targets["matrix_cpu_x_floor"] == {"target": 1.0, "value": 1.2, "met": False}
    assert targets["matrix_wall_s"]["met"] is False          # 6 s against 5 s
    assert targets["ratio"]["met"] and targets["entry_median_s"]["met"]
    assert targets["matrix_cells"] == {"target": 600, "value": 1200, "met": True,
                                       "at_least": True}


def test_stack_targets_default_stacks_against_floor_managed_against_native_median():
    stacks = {"openssl": _stack(8.0), "gnutls": _stack(11.0), "wolfssl": _stack(6.0),
              "java": _stack(30.0), "python-ssl": _stack(15.0),
              "node": {"cells": 5, "run": 0, "cpu_ms_per_cell": None, "wall_s": 0.1}}
    targets = bench.judge_targets(_doc(stacks, all_stacks=True))
    assert targets["run_cpu_x_floor.openssl"]["met"] is True
    assert targets["run_cpu_x_floor.gnutls"]["met"] is False
    assert "run_cpu_x_floor.wolfssl" not in targets           # not a default stack
    assert targets["run_wall_s"]["value"] == 4.0              # openssl + gnutls
    # The native median is 8 ms (6, 8, 11): Java 3.75 x, Python 1.875 x; Node ran nothing.
    assert targets["managed_cpu_x_native.java"]["met"] is False
    assert targets["managed_cpu_x_native.python-ssl"]["value"] == 1.875
    assert "managed_cpu_x_native.node" not in targets
    assert targets["all_wall_s"]["met"] is False and targets["all_idle"]["met"] is True


def test_whole_run_targets_only_when_every_stack_ran():
    targets = bench.judge_targets(_doc({"openssl": _stack(8.0)}))
    assert "all_wall_s" not in targets and "all_idle" not in targets
    assert not any(name.startswith("managed") for name in targets)
