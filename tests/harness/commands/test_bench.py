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
