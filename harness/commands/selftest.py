"""`tlsclose selftest`: the project's own tests — every ctest entry but the
long ones (stability, fuzz-long); the README's test command and CI's. The
packages of every stack the project ships are installed first, so every
shim is built and tested."""
from __future__ import annotations

import argparse
import os
import subprocess

from harness.base.paths import ENDPOINTS_DIR, ROOT, STACKS_DIR, build_dir
from harness.base.problems import InvalidInput
from harness.spec.endpoint import packages_of
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
    """Every stack and endpoint the project ships is built and tested: their
    packages."""
    stacks = []
    for path in stack_files(STACKS_DIR):
        try:
            stacks.append(load_stack(path, ROOT))
        except InvalidInput:
            continue            # the corpus test reports it
    endpoints = packages_of(sorted(ENDPOINTS_DIR.glob("*.toml")), ROOT)
    return sorted({p for s in stacks for p in s.packages} | set(endpoints))


def run(args, argv: list[str]) -> int:
    return subprocess.call(["ctest", "--test-dir", str(build_dir()), "--output-on-failure",
                            "-j", str(os.cpu_count() or 2), "-LE", "stability|fuzz-long",
                            *args.ctest_args])
