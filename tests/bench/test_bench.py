"""`./tlsclose bench --quick`: it runs, measures the three parts and writes its
JSON. The numbers themselves are not judged here (the machine running the
tests may be busy); docs/performance.md says how to read them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.commands import bench  # noqa: E402

BUILD = Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build")
TIMEOUT_S = 600


def tlsclose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tlsclose"), "bench", "--no-build",
                           "--build-dir", str(BUILD), *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if not (BUILD / "bin" / bench.FLOOR_PROGRAM).is_file():
        pytest.fail(f"{BUILD}/bin/{bench.FLOOR_PROGRAM} is not built (set TLSCLOSE_BUILD_DIR)")
    out = tmp_path_factory.mktemp("bench")
    done = tlsclose("--quick", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return done, json.loads((out / "bench.json").read_text())


def test_floor_and_cell_are_measured_in_alternating_rounds(quick):
    _, doc = quick
    floor, cell = doc["floor"], doc["cell"]
    assert floor["reps"] == cell["reps"] == bench.QUICK_REPS
    for part in (floor, cell):
        assert 0 < part["min_ms"] <= part["p10_ms"] <= part["median_ms"] <= part["p90_ms"] \
            <= part["max_ms"]
        assert part["cpu_ms_per_rep"] > 0
    assert floor["library"].startswith("OpenSSL 3")
    assert cell["id"] == f"{bench.BENCH_CASE}/openssl/tls1.3/blocking/client"
    # The cell's processes cannot take longer than the whole cell.
    assert cell["process_median_ms"] <= cell["max_ms"]
    assert doc["ratio"] == pytest.approx(cell["median_ms"] / floor["median_ms"], abs=1e-3)


def test_quick_matrix_runs_only_the_bench_case_entries(quick):
    _, doc = quick
    matrix = doc["matrix"]
    assert matrix["filter"] == f"^{bench.BENCH_CASE}@"
    assert matrix["entries"] == 2            # openssl and gnutls
    assert matrix["cells"] > 0 and matrix["run"] > 0 and matrix["wall_s"] > 0
    assert set(matrix["verdicts"]) <= {"PASS", "KNOWN", "SKIP"}, matrix["verdicts"]
    assert matrix["cells_per_s"] == pytest.approx(matrix["cells"] / matrix["wall_s"], rel=0.01)


def test_targets_are_judged_only_where_measured_in_full(quick):
    done, doc = quick
    assert set(doc["targets"]) == {"ratio"}  # a partial matrix is not judged
    assert doc["targets"]["ratio"]["target"] == 2.0
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == \
        ["machine", "floor", "cell", "ratio", "matrix", f"{doc['matrix']['cells_per_s']}",
         "CPU", "written"]
    assert "not judged: partial matrix" in done.stdout


def test_missing_build_is_reported_not_measured(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tlsclose"), "bench", "--no-build",
                           "--build-dir", str(tmp_path / "nowhere"), "--quick",
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=60)
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
    from harness.commands import ctest_entries
    text, _ = ctest_entries.generate(ROOT, tmp_path, ["openssl"], sys.executable)
    entry = next(line for line in text.splitlines() if f"NAME [=[{bench.BENCH_CASE}@" in line)
    props = text.splitlines()[text.splitlines().index(entry) + 1]
    assert entry.endswith("[=[--no-report]=] WORKING_DIRECTORY " f"[=[{ROOT}]=])")
    assert "ENVIRONMENT_MODIFICATION [=[PYTHONDONTWRITEBYTECODE=unset:;" \
           f"PYTHONPYCACHEPREFIX=set:{tmp_path}/pycache]=]" in props


def test_run_no_report_writes_results_json_only(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tlsclose"), "run", "--no-build",
                           "--build-dir", str(BUILD), "--stack", "openssl", "--case",
                           bench.BENCH_CASE, "--tls", "1.3", "--io", "blocking", "--role",
                           "client", "--out", str(tmp_path), "--no-report"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
