"""Detecting a stack: is its shim built, and which library does it run?

Contract: `detect(stack, bin_dir, root)` runs `prefix + command --version`
(with the stack's `env`, docs/shim-protocol.md §1) and returns a StackInfo.
A missing binary is not an error: the stack is unavailable and its cells are
skipped with an install hint naming the stack's `packages` that dpkg does
not report installed. So is a shim that cannot say its version while some of
its packages are missing (its library is gone). A shim that cannot say its
version although its packages are all there is reported in
`StackInfo.error` and its cells become ERROR.

A successful answer is kept per process, keyed by the command, its
environment and the shim binary's modification: the harness daemon behind
the ctest matrix asks about the same stack for every entry.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

from harness.spec.stack import Stack

VERSION_TIMEOUT_S = 10


@dataclasses.dataclass
class StackInfo:
    available: bool
    library: str | None = None
    reported_api: str | None = None
    serve: bool = False              # the shim has persistent mode (--serve)
    hint: str = ""
    error: str = ""


def _binary(stack: Stack, bin_dir: Path, root: Path) -> str | None:
    first = stack.expand(stack.command[:1], bin_dir, root)[0]
    if "/" in first:
        return first if os.path.isfile(first) and os.access(first, os.X_OK) else None
    return shutil.which(first)


def missing_packages(names: list[str]) -> list[str] | None:
    """The names dpkg does not report installed; None without dpkg."""
    if not names:
        return []
    if not shutil.which("dpkg-query"):
        return None
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n",
                               *names], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    installed = {f[0] for f in map(str.split, done.stdout.splitlines())
                 if len(f) > 1 and f[1].startswith("ii")}
    return [n for n in names if n not in installed]


_KNOWN: dict[tuple, StackInfo] = {}


def detect(stack: Stack, bin_dir: Path, root: Path) -> StackInfo:
    binary = _binary(stack, bin_dir, root)
    if binary is None:
        return StackInfo(False, hint=stack.install_hint(missing_packages(stack.packages)))
    # The prefix too: a wrapper or loader the shim cannot start without.
    argv = stack.argv(bin_dir, root) + ["--version"]
    env = {**os.environ, **stack.env}
    try:
        key = (tuple(argv), tuple(sorted(stack.env.items())), os.stat(binary).st_mtime_ns)
    except OSError:
        key = None
    if key in _KNOWN:
        return dataclasses.replace(_KNOWN[key])
    info = _ask(argv, env, stack)
    if key is not None and info.available and info.library and not info.error:
        _KNOWN[key] = dataclasses.replace(info)
    return info


def _ask(argv: list[str], env: dict, stack: Stack) -> StackInfo:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env,
                              timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return StackInfo(True, error=f"{' '.join(argv)}: {exc}")
    for line in done.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("library"), str) and done.returncode == 0:
            return StackInfo(True, library=obj["library"], reported_api=obj.get("api"),
                             serve=obj.get("serve") is True)
    missing = missing_packages(stack.packages)
    if missing:
        return StackInfo(False, hint=stack.install_hint(missing))
    tail = (done.stderr or done.stdout).strip()[-300:]
    return StackInfo(True, error=f"{' '.join(argv)} exited {done.returncode} without a version "
                                 f"line: {tail}")
