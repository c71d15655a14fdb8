"""No flakes: the default matrix gives identical verdicts and native results
run after run, idle and with every core busy (stability.py).

TLSCLOSE_STABILITY_RUNS (default 3) sets the number of runs and
TLSCLOSE_STABILITY_LOADED (default: half, rounded down, at least 1 when
there are 2 runs or more) how many of them run under load, and
TLSCLOSE_STABILITY_MODES (comma-separated `run --mode` values, default: the
run's own default) the modes the runs take in turns. ctest has a quick entry
(3 runs, one loaded, persistent / per-process / persistent: the
mode-equivalence check on the whole default matrix, in the default test run)
and the full check (20 runs, 10 loaded, both modes, label `stability`)."""
from __future__ import annotations

import os

from stability import check


def test_matrix_is_identical_run_after_run(build, tmp_path):
    runs = int(os.environ.get("TLSCLOSE_STABILITY_RUNS", "3"))
    loaded = int(os.environ.get("TLSCLOSE_STABILITY_LOADED", str(max(1, runs // 2))))
    modes = [m for m in os.environ.get("TLSCLOSE_STABILITY_MODES", "").split(",") if m]
    lines: list[str] = []
    runs, cells, problems = check(runs, loaded, build, tmp_path, os.cpu_count() or 2,
                                  say=lines.append, modes=modes or None)
    print("\n".join(lines))
    print(f"stability: {runs} runs x {cells} cells, differences = {len(problems)}")
    assert cells > 0
    assert not problems, "\n".join(lines + problems)
