"""`tlsclose selftest`: the project's own tests — every ctest entry but the
long ones (stability, fuzz-long); the README's test command and CI's. The
packages of every stack the project ships are installed first, so every
shim is built and tested."""
from __future__ import annotations

import argparse
import subprocess

from harness import prepare
from harness.base.paths import ROOT, STACKS_DIR
from harness.base.problems import InvalidInput
from harness.spec.stack import load_stack, stack_files

NAME = "selftest"
HELP = "the project's own tests: install, build, then every ctest entry but the long ones"
NEEDS_BUILD = True


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("ctest_args", nargs=argparse.REMAINDER, metavar="CTEST_ARG",
                   help="more ctest arguments, e.g. -R harness")
    return p


def packages(args) -> list[str]:
    """Every stack the project ships is built and tested: their packages."""
    stacks = []
    for path in stack_files(STACKS_DIR):
        try:
            stacks.append(load_stack(path, ROOT))
        except InvalidInput:
            continue            # the corpus test reports it
    return sorted({p for s in stacks for p in s.packages})


def run(args, argv: list[str]) -> int:
    return subprocess.call(["ctest", "--test-dir", prepare.BUILD, "--output-on-failure",
                            "-j", prepare.JOBS, "-LE", "stability|fuzz-long", *args.ctest_args])
