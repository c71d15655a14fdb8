"""The `./tlsclose` front door: packages, build, and the two README jobs.

The README promises two commands that work on a fresh Debian 12 machine as
root: `./tlsclose matrix` (the main job) and `./tlsclose selftest` (the
project's tests). Both install what is missing, configure, build and run. The
other subcommands (run, cases, report, merge) belong to harness.cli; this
module only makes sure the build they need exists first.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")

# Debian packages the build, the default stacks and the tests need. One list,
# installed by both README commands.
PACKAGES = [
    "gcc", "libc6-dev", "cmake", "ninja-build", "pkg-config",
    "openssl", "libssl-dev", "libgnutls28-dev", "libjson-c-dev",
    "python3", "python3-pytest", "python3-jinja2",
    # pytest as the matrix driver: `pytest cases/ -n 2` (tests/pytest_plugin)
    "python3-pytest-xdist",
    # report tests: workflow YAML, JUnit schema validation, the headless browser
    "python3-yaml", "python3-lxml", "python3-selenium", "chromium", "chromium-driver",
    # probe tests: gnutls-serv as a black-box endpoint (openssl s_server/s_client come with openssl)
    "gnutls-bin",
    # reliability tests: memcheck over the peer and the shims
    "valgrind",
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


def ensure_packages(names: list[str] = PACKAGES) -> None:
    """Installs what is missing; silent when everything is there."""
    if not shutil.which("dpkg-query"):
        say("not a Debian system: install the equivalents of " + " ".join(names) + " yourself")
        return
    missing = missing_packages(names)
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"tlsclose: missing Debian packages: {' '.join(missing)}\n"
                         f"  install them with: apt-get install {' '.join(missing)}")
    say("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"tlsclose: {' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def ensure_build(build_dir: str = BUILD, extra_args: list[str] | None = None) -> None:
    """Configures when there is no build yet, then brings it up to date."""
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        run_or_exit(["cmake", "-S", ROOT, "-B", build_dir, *gen, *(extra_args or [])],
                    quiet=True)
    run_or_exit(["cmake", "--build", build_dir, "-j", JOBS], quiet=True)


def run_or_exit(cmd: list[str], quiet: bool = False) -> None:
    """Runs a build command; its output is shown only when it fails."""
    done = subprocess.run(cmd, capture_output=quiet, text=True)
    if done.returncode != 0:
        if quiet:
            sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"tlsclose: {' '.join(cmd)} failed (exit {done.returncode})")


def selftest(args: list[str]) -> int:
    """The project's own tests: every ctest entry but the long ones."""
    ensure_packages()
    ensure_build()
    return subprocess.call(["ctest", "--test-dir", BUILD, "--output-on-failure",
                            "-j", JOBS, "-LE", "stability|fuzz-long", *args])


def matrix(args: list[str]) -> int:
    """The main job: the conformance matrix through ctest, merged and reported."""
    ensure_packages()
    ensure_build()
    from harness import matrix_job
    return matrix_job.run(BUILD, args)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip() if __doc__ else "")
        print("\nsubcommands: matrix, selftest, run, cases, report, merge, probe, bench")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "selftest":
        return selftest(rest)
    if cmd == "matrix":
        return matrix(rest)
    if "--no-build" in rest:
        rest = [a for a in rest if a != "--no-build"]
    else:
        ensure_packages()
        ensure_build()
    from harness import cli
    return cli.main([cmd, *rest])
