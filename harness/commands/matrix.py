"""`tlsclose matrix`: the README's main job — the conformance matrix through
ctest, then one results.json and report.

ctest runs one entry per case x stack (cmake/matrix.cmake); each entry
writes its own results.json under BUILD/matrix/. Afterwards the pieces are
merged into one results.json, junit.xml and index.html in the output
directory. Exit status: ctest's when it failed, else the merge's.
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

from harness.base.paths import ROOT, build_dir
from harness.output import results, writer
from harness.spec.stack import DEFAULT_STACKS

NAME = "matrix"
HELP = "the main job: the default conformance matrix through ctest, then one report"
NEEDS_BUILD = True


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("--out", type=Path, default=Path("out"), help="output directory (default: out)")
    p.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 2))
    return p


def run(args, argv: list[str]) -> int:
    build = str(build_dir())
    pieces_dir = os.path.join(build, "matrix")
    for old in glob.glob(os.path.join(pieces_dir, "*", "results.json")):
        os.remove(old)  # a stale piece from an earlier run must not be merged
    ctest_rc = subprocess.call(["ctest", "--test-dir", build, "-L", "conformance",
                                "-j", args.jobs,
                                "--output-junit", os.path.join(build, "ctest-junit.xml")],
                               env=results.git_environment(ROOT))
    pieces = sorted(glob.glob(os.path.join(pieces_dir, "*", "results.json")))
    if not pieces:
        print("tlsclose matrix: no results were written by ctest", file=sys.stderr)
        return results.EXIT_BROKEN
    docs = [(p, results.load(Path(p))) for p in pieces]
    merged = results.merge(docs, ["merge", *pieces, "--out", str(args.out)], ROOT,
                           DEFAULT_STACKS)
    merge_rc = writer.finish(merged, args.out, True)
    return ctest_rc if ctest_rc else merge_rc
