"""Command-line pieces several commands share (not a command itself).

`dirs(parser, ...)` adds the hidden --cases-dir/--stacks-dir options that
tests use to point a command at another corpus, and --build-dir; `seconds`
and `shard` are argparse types.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.base.paths import CASES_DIR, STACKS_DIR, build_dir
from harness.run import shard as sharding


def dirs(p: argparse.ArgumentParser, stacks: bool, build: bool = True) -> None:
    p.add_argument("--cases-dir", type=Path, default=CASES_DIR, help=argparse.SUPPRESS)
    if stacks:
        p.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help=argparse.SUPPRESS)
    if build:
        p.add_argument("--build-dir", type=Path, default=build_dir(),
                       help="build tree with bin/ and credentials/ (default: "
                            "$TLSCLOSE_BUILD_DIR or build/)")


def shard(text: str) -> tuple[int, int]:
    try:
        return sharding.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds in (0, 86400]")
    return value
