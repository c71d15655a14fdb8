"""`tlsclose selftest`: the project's own tests — every ctest entry but the
long ones (stability, fuzz-long); the README's test command and CI's."""
from __future__ import annotations

import argparse
import subprocess

from harness import prepare

NAME = "selftest"
HELP = "the project's own tests: install, build, then every ctest entry but the long ones"
NEEDS_BUILD = True


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("ctest_args", nargs=argparse.REMAINDER, metavar="CTEST_ARG",
                   help="more ctest arguments, e.g. -R harness")
    return p


def run(args, argv: list[str]) -> int:
    return subprocess.call(["ctest", "--test-dir", prepare.BUILD, "--output-on-failure",
                            "-j", prepare.JOBS, "-LE", "stability|fuzz-long", *args.ctest_args])
