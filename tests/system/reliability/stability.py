"""The stability check: the default matrix run again and again, part of the
time while every core is kept busy, must give the same verdict, the same
notes and the same native results (per op: outcome and the library's error
name) every time.

    /usr/bin/python3 tests/system/reliability/stability.py [--runs 20] [--loaded 10]
                     [--build-dir build] [--out DIR] [--stack all]
                     [--verdicts-only] [--modes persistent,per-process]

--stack selects the stacks as `./tlsclose run --stack` does (default: the
default matrix). --verdicts-only compares verdicts and notes alone: the op
lines of cells whose verdict and notes agree are listed when they differ, but
do not count (with every stack, some native stacks report a step differently
from run to run in checks that decide nothing, e.g. a model difference).
--modes takes turns between `./tlsclose run --mode` values, run after run:
with both modes it is the mode-equivalence check (persistent servers and
one process per cell must give the same results).

Runs alternate idle and loaded so that both conditions meet the same code
and the same machine state. The CPU load is this module's own: one busy
process per core, each ending by itself after a bounded time and killed
when the run ends, whatever happens. Prints one line per run and the
differences; exit 0 when there are none.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PYTHON = "/usr/bin/python3"
# One matrix run takes ~15 s idle on 2 cores; a loaded one about twice that.
RUN_TIMEOUT_S = 900
LOAD_MAX_S = RUN_TIMEOUT_S + 60
BUSY = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


# A native error text may name the connection's ephemeral ports (Python's and
# Go's messages do) and its descriptor (Python's, which differs between the
# two run modes), and persistent cells have a loopback address each: the same
# error, another port, descriptor or loopback address.
PORT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})(:|', )\d+")
DESCRIPTOR = re.compile(r"\bfd=\d+")
LOOPBACK = re.compile(r"\b127(?:\.\d{1,3}){3}\b")


def _error(op: dict) -> object:
    error = (op.get("native") or {}).get("error")
    if not isinstance(error, str):
        return error
    error = PORT.sub(r"\1\2<port>", error)
    return LOOPBACK.sub("<loopback>", DESCRIPTOR.sub("fd=<n>", error))


def fingerprint(doc: dict) -> dict[str, tuple]:
    """Per cell: the verdict, the notes and, per op line, (step, op, outcome,
    native error name). Timings, byte counts and want lists are left out:
    they may vary without any verdict or native result changing."""
    out = {}
    for cell in doc["cells"]:
        ops = tuple((o.get("step"), o.get("op"), o.get("outcome"), _error(o))
                    for o in cell.get("ops", []) if "step" in o and "end" not in o)
        out[cell["id"]] = (cell["verdict"], tuple(cell.get("notes", [])), ops)
    return out


def differences(base: dict, other: dict, ops_count: bool = True) -> tuple[list[str], list[str]]:
    """(differences, op-only differences that do not count: with ops_count
    False, cells whose verdict and notes agree but whose op lines differ)."""
    lines, ignored = [], []
    for cid in sorted(set(base) | set(other)):
        a, b = base.get(cid), other.get(cid)
        if a == b:
            continue
        if a is None or b is None:
            lines.append(f"{cid}: only in {'the first run' if b is None else 'this run'}")
            continue
        text = f"{cid}: {a[0]} -> {b[0]}" if a[0] != b[0] else f"{cid}: {a[0]}"
        notes = [f"    note - {' '.join(x.split())[:160]}" for x in a[1] if x not in b[1]]
        notes += [f"    note + {' '.join(x.split())[:160]}" for x in b[1] if x not in a[1]]
        ops = [f"    {x} -> {y}" for x, y in zip(a[2], b[2]) if x != y]
        if len(a[2]) != len(b[2]):
            ops.append(f"    {len(a[2])} op lines -> {len(b[2])}")
        counts = ops_count or a[:2] != b[:2]
        (lines if counts else ignored).append("\n".join([text, *notes, *ops]))
    return lines, ignored


@contextmanager
def cpu_load(cores: int):
    """Keeps `cores` cores busy until the block ends (bounded either way)."""
    procs = [subprocess.Popen([PYTHON, "-c", BUSY.format(s=LOAD_MAX_S)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              start_new_session=True) for _ in range(cores)]
    try:
        yield
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait()


def run_matrix(build: Path, out: Path, jobs: int, stack: str | None = None,
               mode: str | None = None) -> dict:
    """One run of the matrix: the default stacks, or `stack` ('all', a
    name), every case; in `mode` (run's --mode) when given."""
    argv = [PYTHON, str(ROOT / "tlsclose"), "run", "--no-build", "--build-dir", str(build),
            "-j", str(jobs), "--no-report", "--out", str(out)]
    if stack:
        argv += ["--stack", stack]
    if mode:
        argv += ["--mode", mode]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=ROOT)
    path = out / "results.json"
    if not path.is_file():
        raise RuntimeError(f"run wrote no results (exit {done.returncode}):\n{done.stderr}")
    doc = json.loads(path.read_text())
    if doc["tool"].get("incomplete"):
        raise RuntimeError("run was incomplete")
    return doc


def schedule(runs: int, loaded: int) -> list[bool]:
    """Which runs are loaded: spread evenly, the first run idle."""
    loaded = max(0, min(loaded, runs - 1 if runs > 1 else runs))
    return [(i * loaded) // runs != ((i + 1) * loaded) // runs for i in range(runs)]


def check(runs: int, loaded: int, build: Path, out_dir: Path, jobs: int,
          say=print, stack: str | None = None, verdicts_only: bool = False,
          modes: list[str] | None = None) -> tuple[int, int, list[str]]:
    """Returns (runs, cells per run, differences). With verdicts_only, op
    lines that differ in cells whose verdict and notes agree are said, not
    returned."""
    base, problems, cells = None, [], 0
    for i, busy in enumerate(schedule(runs, loaded), start=1):
        t0 = time.monotonic()
        out = out_dir / f"run{i:02d}"
        mode = modes[(i - 1) % len(modes)] if modes else None
        if busy:
            with cpu_load(os.cpu_count() or 2):
                doc = run_matrix(build, out, jobs, stack, mode)
        else:
            doc = run_matrix(build, out, jobs, stack, mode)
        fp = fingerprint(doc)
        counts = doc["summary"]
        diff, ignored = ([], []) if base is None else differences(base, fp, not verdicts_only)
        problems += [f"run {i}: {d}" for d in diff]
        base = base or fp
        cells = len(fp)
        say(f"run {i:2d}/{runs} {'loaded' if busy else 'idle  '} "
            + (f"{mode:<11} " if mode else "")
            + f"{time.monotonic() - t0:6.1f}s {cells} cells "
            + " ".join(f"{k}={v}" for k, v in counts.items() if k != "total" and v)
            + f"  differences: {len(diff)}"
            + (f" (op lines only, not counted: {len(ignored)})" if ignored else ""))
        for line in ignored:
            say(f"  op lines only: {line}")
    return runs, cells, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--loaded", type=int, default=None, help="default: half of the runs")
    ap.add_argument("--build-dir", type=Path,
                    default=Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build"))
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "stability")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--stack", default=None,
                    help="as ./tlsclose run --stack ('all'); default: the default matrix")
    ap.add_argument("--verdicts-only", action="store_true",
                    help="compare verdicts and notes; list other op differences without counting")
    ap.add_argument("--modes", default=None,
                    help="comma-separated run --mode values, taken in turns run after run")
    args = ap.parse_args(argv)
    loaded = args.runs // 2 if args.loaded is None else args.loaded
    runs, cells, problems = check(args.runs, loaded, args.build_dir.resolve(), args.out,
                                  args.jobs, say=lambda line: print(line, flush=True),
                                  stack=args.stack, verdicts_only=args.verdicts_only,
                                  modes=args.modes.split(",") if args.modes else None)
    print("\n".join(problems))
    print(f"stability: {runs} runs x {cells} cells, differences = {len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
