"""Memcheck over real cells: the mock peer and the shim each run under
valgrind (--leak-check=full --errors-for-leak-kinds=all), so a leak of any
kind, still-reachable blocks included, or an invalid access in either fails.

    /usr/bin/python3 -m tests.system.reliability.valgrind_cells [--build-dir B] [--all]

(from the repository root: it runs as a module of the tree, beside the harness).

Without --all a sample: every case with one cell per stack (TLS version, IO
mode and role rotating through the cases). The cells keep their verdicts:
valgrind slows the processes, so each gets a larger deadline; cases whose
steps wait on fixed silences are left out of the sample (their timing is
theirs, not memory's). Prints one line per cell; exit 0 when all are clean.
test_valgrind.py runs a small sample of it in the test suite.
"""
from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
from pathlib import Path

from harness.base.vocabulary import IO_MODES, ROLES, TLS_VERSIONS
from harness.run import processes as cellrun, runner
from harness.run.detect import detect
from harness.run.evaluate import judge
from harness.run.matrix import Selection, expand
from harness.spec import corpus
from harness.spec.stack import load_stack

ROOT = Path(__file__).resolve().parents[3]

VALGRIND_EXIT = 99
VALGRIND = ["valgrind", "--quiet", f"--error-exitcode={VALGRIND_EXIT}", "--leak-check=full",
            "--show-leak-kinds=all", "--errors-for-leak-kinds=all", "--track-fds=no"]
DEADLINE_MS = 90_000
STACKS = ("openssl", "gnutls")


def sanitized(program: Path) -> bool:
    """AddressSanitizer builds cannot run under valgrind (both own the
    memory map); their own leak checker covers them instead."""
    try:
        return b"__asan_init" in program.read_bytes()
    except OSError:
        return False


def all_cells(build: Path, patterns: list[str]):
    cases = corpus.load_cases(corpus.select_files(ROOT / "cases", patterns), ROOT)
    stacks = [load_stack(ROOT / "stacks" / name / f"{name}.toml", ROOT) for name in STACKS]
    env = runner.Environment(ROOT, build)
    infos = {s.name: detect(s, env.bin_dir, env.root) for s in stacks}
    cells = [c for c in expand(cases, stacks, infos, Selection()) if not c.skip]
    return cells, env, infos


def sample(cells: list) -> list:
    """One cell per case and stack. The (TLS version, IO mode, role) picked
    steps through all twelve combinations from case to case, and the two
    stacks of one case get opposite roles."""
    # The vocabulary's versions and modes reversed: the order this sample has
    # always stepped through (1.3 and memory first), so it keeps its cells.
    combos = list(itertools.product(TLS_VERSIONS[::-1], IO_MODES[::-1], ROLES))
    n = len(combos)
    by_key: dict[tuple, dict] = {}
    for c in cells:
        by_key.setdefault((c.case.id, c.stack.name), {})[(c.tls, c.io, c.role)] = c
    case_ids = sorted({case for case, _ in by_key})
    picked = []
    for i, case in enumerate(case_ids):
        for j, stack in enumerate(STACKS):
            options = by_key.get((case, stack), {})
            start = 5 * i + j
            hit = next((options[combos[(start + k) % n]] for k in range(n)
                        if combos[(start + k) % n] in options), None)
            if hit:
                picked.append(hit)
    return picked


def run_one(cell, env: runner.Environment, info):
    base = dict(os.environ)
    run = cellrun.run_cell(VALGRIND + runner.peer_argv(cell, env),
                           VALGRIND + runner.sut_argv(cell, env), cell.case.peer,
                           cell.case.sut_script(), cell.case.connections(),
                           max(cell.case.deadline_ms, DEADLINE_MS), env=base,
                           sut_env={**base, **cell.stack.env}, transport=cell.stack.transport)
    problems = []
    for who, proc in (("peer", run.peer), ("shim", run.sut)):
        if proc.returncode == VALGRIND_EXIT or "lost in loss record" in proc.stderr or \
                "still reachable in loss record" in proc.stderr or "Invalid " in proc.stderr:
            problems.append(f"{who}: memcheck:\n{proc.stderr[-4000:]}")
        elif proc.killed:
            problems.append(f"{who}: killed at the deadline, so never leak-checked")
        elif proc.signal:
            problems.append(f"{who}: killed by {proc.signal}")
    verdict = judge(cell, run, info.library if info else None).verdict
    return verdict, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", type=Path,
                    default=Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build"))
    ap.add_argument("--all", action="store_true", help="every cell, not a sample")
    ap.add_argument("--case", action="append", default=[])
    args = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    if sanitized(args.build_dir.resolve() / "bin" / runner.PEER_PROGRAM):
        print(f"{args.build_dir} is a sanitizer build: valgrind cannot run it", file=sys.stderr)
        return 2
    cells, env, infos = all_cells(args.build_dir.resolve(), args.case)
    chosen = cells if args.all else sample(cells)
    bad = 0
    for c in chosen:
        verdict, problems = run_one(c, env, infos.get(c.stack.name))
        bad += bool(problems)
        print(f"{'LEAK/ERROR' if problems else 'clean':10} {verdict:8} {c.id}", flush=True)
        for p in problems:
            print("    " + p.replace("\n", "\n    "))
    print(f"valgrind: {len(chosen)} cells, {len(chosen) - bad} clean, {bad} with errors")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
