"""`./tlsclose bench --quick` against this build: it runs, measures the three
parts (the floor program of bench/, one cell, the matrix) and writes its
JSON. The numbers themselves are not judged here (the machine running the
tests may be busy); docs/performance.md says how to read them. The parts of
harness/commands/bench.py that need no measurement are tested in
tests/harness/commands/test_bench.py."""
from __future__ import annotations

import json

import pytest

from harness.commands import bench
from support.build import BIN
from support.front_door import tlsclose

TIMEOUT_S = 600


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if not (BIN / bench.FLOOR_PROGRAM).is_file():
        pytest.fail(f"{BIN}/{bench.FLOOR_PROGRAM} is not built (set TLSCLOSE_BUILD_DIR)")
    out = tmp_path_factory.mktemp("bench")
    done = tlsclose("bench", "--quick", "--out", out, timeout=TIMEOUT_S)
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
    assert "stacks" not in doc                # --quick leaves out the whole matrices
    assert doc["targets"]["ratio"]["target"] == 2.0
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == \
        ["machine", "floor", "cell", "ratio", "matrix", f"{doc['matrix']['cells_per_s']}",
         "CPU", "CPU", "written"]
    assert "not judged: partial matrix" in done.stdout
