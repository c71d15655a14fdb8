"""`./tlsclose COMMAND` run as a user runs it: a subprocess of
/usr/bin/python3 with this build (--no-build --build-dir, nothing
installed or built), from the repository root.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from harness.output.results import load as load_results

from .build import BUILD, PYTHON, ROOT

RUN_S = 600           # the longest front-door run a test waits for


def argv(command: str, *args, build: Path | None = BUILD) -> list[str]:
    """The front door's command line for COMMAND with this build (build
    None: no --build-dir, for commands that read no build)."""
    build_dir = ["--build-dir", str(build)] if build is not None else []
    return [PYTHON, str(ROOT / "tlsclose"), command, "--no-build", *build_dir, *map(str, args)]


def tlsclose(command: str, *args, build: Path | None = BUILD, env: dict | None = None,
             timeout: float = RUN_S) -> subprocess.CompletedProcess:
    return subprocess.run(argv(command, *args, build=build), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def results(out: Path) -> dict | None:
    """out/results.json as readers see it (harness.output.results.load:
    checked, check definitions resolved), or None when the run wrote none."""
    path = Path(out) / "results.json"
    return load_results(path) if path.exists() else None


def run_out(command: str, out: Path, *args, timeout: float = RUN_S,
            **kw) -> tuple[int, dict | None, str]:
    """COMMAND with --out OUT: its exit status, the results.json it wrote
    (None when none) and its output, stdout then stderr."""
    done = tlsclose(command, "--out", out, *args, timeout=timeout, **kw)
    return done.returncode, results(out), done.stdout + done.stderr
