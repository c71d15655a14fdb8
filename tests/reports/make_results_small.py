"""Writes tests/reports/results-small.json, the report writers' fixture, from
real runs of this build: nothing in it is typed by hand.

    python3 -m tests.reports.make_results_small [--build-dir BUILD]

Five `tlsclose run`s, merged with `tlsclose merge` into one results.json as
the harness writes it (format 2, packed check definitions):

- openssl and gnutls on eleven cases, TLS 1.2 and 1.3, blocking client cells,
  and a quiet peer in a nonblocking one: PASS, KNOWN (both stacks'
  documented deviations) and SKIP (GnuTLS has no quiet shutdown), model
  differences on GnuTLS;
- two deliberately broken variants of the OpenSSL shim (tests/reports/stacks:
  hides-truncation, delivers-data-after-close): security FAILs;
- the OpenSSL shim behind tests/support/fakes/broken_shim.py, one cell per IO
  mode: ERROR, TIMEOUT and CRASH;
- a stack whose shim is not built: SKIP with its install hint.

The one change made to what the harness wrote ("trimmed"): absolute paths of
this machine (the tree, the build, the temporary output) become relative
ones, so the file names nothing outside the repository. The TIMEOUT cell
waits out its case's deadline, so a run takes about half a minute.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = HERE / "results-small.json"
STACKS = HERE / "stacks"

REAL_CASES = ["sut-closes-first-shutdown-returns-zero", "peer-closes-first-shutdown-returns-one",
              "peer-fin-without-close-notify-is-truncation",
              "peer-data-after-own-close-notify-ignored",
              "truncation-by-reset-is-not-a-clean-close",
              "waiting-shutdown-fails-when-peer-sends-no-close-notify",
              "quiet-shutdown-sends-no-close-notify",
              "tls12-fragmented-close-notify-is-a-close",
              "tls13-close-notify-with-fatal-level-is-closure",
              "truncation-mid-record-is-not-a-clean-close", "user-canceled-alone-is-not-fatal"]
# A quiet peer: the case applies to event-driven IO only.
QUIET_CASE = "silent-peer-shutdown-does-not-have-to-wait"
BROKEN_CASES = ["peer-fin-without-close-notify-is-truncation",
                "peer-data-after-own-close-notify-ignored"]
CLIENT = ["--role", "client"]


def cases(ids: list[str]) -> list[str]:
    return [word for cid in ids for word in ("--case", cid)]


RUNS = [
    ["--stack", "openssl", "--stack", "gnutls", *cases(REAL_CASES), "--io", "blocking", *CLIENT],
    ["--stack", "openssl", "--stack", "gnutls", *cases([QUIET_CASE]), "--tls", "1.3",
     "--io", "nonblocking", *CLIENT],
    ["--stack-file", STACKS / "hides-truncation.toml",
     "--stack-file", STACKS / "delivers-data-after-close.toml", *cases(BROKEN_CASES),
     "--tls", "1.3", "--io", "blocking", *CLIENT],
    ["--stack-file", STACKS / "unstable.toml", *cases(REAL_CASES[:1]), "--tls", "1.3", *CLIENT],
    ["--stack-file", STACKS / "absent.toml", *cases(BROKEN_CASES), "--tls", "1.3",
     "--io", "blocking", *CLIENT],
]


def tlsclose(*args) -> subprocess.CompletedProcess:
    argv = [sys.executable, str(ROOT / "tlsclose"), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600)


# The per-cell directory of the scripts (harness/run/processes.py run_cell).
CELL_DIR = re.compile(re.escape(tempfile.gettempdir()) + r"/tlsclose-cell-[^/\"]+")


def trim(text: str, build: Path, tmp: Path) -> str:
    """Paths of this machine out: the build, the tree, the temporary
    directories (longest first, as JSON strings spell them)."""
    text = CELL_DIR.sub("cell", text)
    for path, shown in ((tmp, "out"), (build, "build"), (ROOT, ".")):
        text = text.replace(str(path) + "/", shown + "/").replace(str(path), shown)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    build = args.build_dir.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="tlsclose-fixture-"))
    try:
        parts = []
        for i, run in enumerate(RUNS, start=1):
            out = tmp / f"part{i}"
            done = tlsclose("run", "--no-build", "--build-dir", build, "--no-report", "-j", "2",
                            "--out", out, *run)
            if not (out / "results.json").is_file():
                print(f"run {i} wrote no results (exit {done.returncode}):\n{done.stderr}",
                      file=sys.stderr)
                return 1
            parts.append(out / "results.json")
        merged = tmp / "merged"
        done = tlsclose("merge", "--no-build", *parts, "--out", merged)
        if not (merged / "results.json").is_file():
            print(f"merge failed (exit {done.returncode}):\n{done.stderr}", file=sys.stderr)
            return 1
        text = trim((merged / "results.json").read_text(), build, tmp)
        OUT.write_text(text)
        print(done.stdout, end="")
        print(f"wrote {OUT.relative_to(ROOT)}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
