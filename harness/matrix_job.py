"""The README's main job: the conformance matrix through ctest, then one report.

ctest runs one entry per case x stack (cmake/matrix.cmake); each entry writes
its own results.json under build/matrix/. Afterwards the pieces are merged into
one results.json (plus junit.xml and index.html when the report writers are
present) in the output directory.
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys


def ctest_environment() -> dict:
    """The environment for the matrix's ctest: git is asked about the tree
    once here, not once per entry."""
    from harness import results
    env = dict(os.environ)
    state = results.git_state(results.Path(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    if state:
        env[results.GIT_STATE_ENV] = state
    return env


def run(build_dir: str, argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="tlsclose matrix",
                                 description="Run the default conformance matrix through ctest "
                                             "and write results.json and the report.")
    ap.add_argument("--out", default="out", help="output directory (default: out)")
    ap.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 2))
    args = ap.parse_args(argv)
    pieces_dir = os.path.join(build_dir, "matrix")
    for old in glob.glob(os.path.join(pieces_dir, "*", "results.json")):
        os.remove(old)  # a stale piece from an earlier run must not be merged
    ctest_rc = subprocess.call(["ctest", "--test-dir", build_dir, "-L", "conformance",
                                "-j", args.jobs,
                                "--output-junit", os.path.join(build_dir, "ctest-junit.xml")],
                               env=ctest_environment())
    pieces = sorted(glob.glob(os.path.join(pieces_dir, "*", "results.json")))
    if not pieces:
        print("tlsclose matrix: no results were written by ctest", file=sys.stderr)
        return 3
    from harness import cli
    merge_rc = cli.main(["merge", *pieces, "--out", args.out])
    return ctest_rc if ctest_rc else merge_rc
