"""Preparing the machine for a command: Debian packages and the build.

The README promises commands that work on a fresh Debian 12 machine as root:
each command that needs the build (harness.cli asks this module first)
installs what is missing, configures when there is no build tree yet and
builds incrementally otherwise. `--no-build` skips this for callers that just
built (the ctest entries).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from harness.base.paths import ROOT as _ROOT

ROOT = str(_ROOT)
BUILD = os.path.join(ROOT, "build")

# Debian packages the build, the default stacks and the tests need. One list,
# installed by both README commands.
PACKAGES = [
    "gcc", "libc6-dev", "cmake", "ninja-build", "pkg-config",
    "openssl", "libssl-dev", "libgnutls28-dev", "libjson-c-dev",
    "python3", "python3-pytest", "python3-jinja2", "python3-jsonschema",
    # pytest as the matrix driver: `pytest cases/ -n 2` (tests/harness/commands/test_pytest_plugin.py)
    "python3-pytest-xdist",
    # report tests: workflow YAML, JUnit schema validation, the headless browser
    "python3-yaml", "python3-lxml", "python3-selenium", "chromium", "chromium-driver",
    # probe tests: gnutls-serv as a black-box endpoint (openssl s_server/s_client come with openssl)
    "gnutls-bin",
    # reliability tests: memcheck over the peer and the shims
    "valgrind",
    # every preset builds in the tests (cmake/presets.cmake): clang and libFuzzer
    "clang", "libclang-rt-14-dev", "libfuzzer-14-dev",
]

JOBS = str(os.cpu_count() or 2)


def say(msg: str) -> None:
    print(f"tlsclose: {msg}", file=sys.stderr, flush=True)


def missing_packages(names: list[str]) -> list[str]:
    """The packages of names that dpkg does not report as installed."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n", *names],
        capture_output=True, text=True).stdout
    installed = {line.split()[0] for line in out.splitlines()
                 if len(line.split()) > 1 and line.split()[1].startswith("ii")}
    return [n for n in names if n not in installed]


def _apt(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(["apt-get", *args], env=env, capture_output=True, text=True)


def _install(missing: list[str], optional: bool) -> list[str]:
    """Installs the packages; returns those that are now installed. A
    required package that fails ends the command; an optional one (a stack
    the user asked for) is left out with a note, and its cells say why."""
    say("installing " + " ".join(missing))
    update = _apt(["update", "-qq"])
    if update.returncode != 0 and not optional:
        raise SystemExit(f"tlsclose: apt-get update failed:\n{update.stdout}{update.stderr}")
    done = _apt(["install", "-y", "-qq", "--no-install-recommends", *missing])
    if done.returncode == 0:
        return missing
    if not optional:
        raise SystemExit(f"tlsclose: apt-get install {' '.join(missing)} failed:\n"
                         f"{done.stdout}{done.stderr}")
    ok = [name for name in missing
          if _apt(["install", "-y", "-qq", "--no-install-recommends", name]).returncode == 0]
    for name in sorted(set(missing) - set(ok)):
        say(f"note: package {name} could not be installed; its stack's cells will say so")
    return ok


def ensure_packages(names: list[str] = PACKAGES, optional: list[str] = ()) -> list[str]:
    """Installs what is missing of `names` (required) and of `optional`
    (the packages of the stacks a command was asked for); silent when
    everything is there. Returns the packages it installed."""
    wanted = list(dict.fromkeys([*names, *optional]))
    if not shutil.which("dpkg-query"):
        say("not a Debian system: install the equivalents of " + " ".join(wanted) + " yourself")
        return []
    missing = missing_packages(wanted)
    if not missing:
        return []
    if os.geteuid() != 0:
        required = [n for n in missing if n in names]
        hint = (f"tlsclose: missing Debian packages: {' '.join(missing)}\n"
                f"  install them with: apt-get install {' '.join(missing)}")
        if required:
            raise SystemExit(hint)
        say(hint.removeprefix("tlsclose: "))
        return []
    installed = _install([n for n in missing if n in names], False) \
        if any(n in names for n in missing) else []
    rest = [n for n in missing if n not in names]
    return installed + (_install(rest, True) if rest else [])


def ensure_build(build_dir: str = BUILD, extra_args: list[str] | None = None,
                 reconfigure: bool = False) -> None:
    """Configures when there is no build yet (or again, after packages were
    installed: the optional stacks look for their libraries at configure
    time), then brings it up to date."""
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        run_or_exit(["cmake", "-S", ROOT, "-B", build_dir, *gen, *(extra_args or [])],
                    quiet=True)
    elif reconfigure:
        run_or_exit(["cmake", build_dir], quiet=True)
    run_or_exit(["cmake", "--build", build_dir, "-j", JOBS], quiet=True)


def run_or_exit(cmd: list[str], quiet: bool = False) -> None:
    """Runs a build command; its output is shown only when it fails."""
    done = subprocess.run(cmd, capture_output=quiet, text=True)
    if done.returncode != 0:
        if quiet:
            sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"tlsclose: {' '.join(cmd)} failed (exit {done.returncode})")
