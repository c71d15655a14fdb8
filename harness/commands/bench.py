"""`tlsclose bench`: what a cell costs against its floor, and the default matrix.

Contract: `add_parser(subparsers)` declares the subcommand and returns its
parser; `run(args, argv) -> int`
measures, in one run on this machine,
  (a) the floor: bench's tlsclose-floor program, the least a cell cannot
      avoid (two freshly executed processes, loopback TCP with TCP_NODELAY,
      an OpenSSL TLS 1.3 handshake, one record each way, a bidirectional
      close_notify exchange), repeated;
  (b) one cell: BENCH_CASE on openssl, TLS 1.3, blocking, client, run
      repeatedly in this process through harness.run.runner.run_cells, exactly
      as `tlsclose run` runs cells (no interpreter start per cell);
  (c) the default matrix: `ctest -L conformance -j CORES` on the build,
      from a scratch directory so the build's own Testing/ logs stay as
      they were;
  (d) whole matrices per stack (--stacks; default the default stacks), in
      this process: CPU and wall per cell, the idle fraction of the cores,
      the slowest cells;
prints medians, the ratio cell/floor, CPU per cell against the floor's,
cells per second and the wall times against the targets (TARGETS), and writes everything to OUT/bench.json
(docs/performance.md). Floor and cell repetitions alternate in rounds, so
a change of machine load between them shows in both, not in the ratio.
Exit status: 0 measured (targets met or not, unless --check-targets), 1 a
target missed with --check-targets, 3 a measurement could not be taken
(a program missing, the floor failing, the bench cell not passing).
Never changes the build, the cases or the stack files; the matrix step
writes the entries' usual BUILD/matrix/ results, as ctest would.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.spec import corpus
from harness.base.paths import daemon_socket, daemon_stats, ROOT
from harness.commands import options
from harness.output import results
from harness.run import measure, runner, servers
from harness.run.matrix import Selection, expand
from harness.base.problems import UsageError
from harness.run.detect import detect
from harness.spec.stack import DEFAULT_STACKS, select_stacks

FLOOR_PROGRAM = "tlsclose-floor"
BENCH_CASE = "sut-closes-first-shutdown-returns-zero"
BENCH_STACK = "openssl"
BENCH_CELL = Selection(tls=("1.3",), io=("blocking",), roles=("client",))
# The targets (docs/performance.md "Targets"). CPU targets are ratios against
# the floor's CPU per repetition measured in the same run; the wall targets
# are for the 2-core reference machine.
TARGETS = {
    "ratio": 2.0,                    # one cell / the floor, wall medians
    "matrix_cpu_x_floor": 1.0,       # (c) CPU per run cell / the floor's CPU
    "matrix_wall_s": 5.0,            # (c) the default matrix through ctest -j CORES
    "entry_median_s": 0.3,           # (c) one ctest entry
    "matrix_cells": 600,             # (c) the default matrix is the whole matrix
    "run_cpu_x_floor": 1.0,          # (d) each default stack, CPU per run cell / floor
    "run_wall_s": 5.0,               # (d) the default stacks' matrices, wall
    "managed_cpu_x_native": 2.0,     # (d) Python, Java, Node: CPU per cell / native median
    "all_wall_s": 60.0,              # (d) every stack, wall
    "all_idle": 0.15,                # (d) every stack, fraction of core time idle
}
# Shims that run in a managed runtime (an interpreter or a VM); the others are
# native programs (C, Go, Rust).
MANAGED_STACKS = ("python-ssl", "python-ssl-ragged", "java", "node")
FULL_REPS, QUICK_REPS = 200, 20
ROUNDS = 4
FLOOR_DEADLINE_MS = 10000
MATRIX_TIMEOUT_S = 3600       # the entries have their own TIMEOUTs; this bounds ctest itself
EXIT_TARGET_MISSED = 1
EXIT_NOT_MEASURED = 3


class NotMeasured(Exception):
    """A measurement could not be taken; the message says why."""


NAME = "bench"
HELP = "the performance benchmark: the floor, cells against it, the matrix"
NEEDS_BUILD = True


def add_parser(sub) -> argparse.ArgumentParser:
    bench = sub.add_parser(NAME, help=HELP, description=HELP)
    bench.add_argument("--quick", action="store_true",
                       help=f"{QUICK_REPS} repetitions and only the bench case's matrix entries")
    bench.add_argument("--reps", type=int, help=f"repetitions of floor and cell "
                                                f"(default {FULL_REPS}, --quick {QUICK_REPS})")
    bench.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                       help="ctest -j for the matrix (default: the number of cores); part (d) "
                            "runs cells as `tlsclose run` does by default")
    bench.add_argument("--no-matrix", action="store_true", help="skip part (c)")
    bench.add_argument("--stacks", default=None, metavar="NAMES",
                       help="part (d): the stacks whose whole matrix is run and measured, "
                            "comma-separated, or 'all' (default: the default stacks; with "
                            "--quick none); 'none' skips it")
    bench.add_argument("--check-targets", action="store_true",
                       help="exit 1 when a target is missed")
    bench.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    options.dirs(bench, stacks=True)
    return bench


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (statistics' "inclusive"
    method), here so that `tlsclose run` never pays for importing it."""
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"reps": len(samples), "median_ms": round(_quantile(ordered, 0.5), 3),
            "p10_ms": round(_quantile(ordered, 0.1), 3),
            "p90_ms": round(_quantile(ordered, 0.9), 3),
            "min_ms": round(ordered[0], 3), "max_ms": round(ordered[-1], 3)}


def _median(values: list[float]) -> float:
    return _quantile(sorted(values), 0.5)


def _cpu_s(who: int) -> float:
    """CPU seconds (user + system) of this process or of its reaped
    descendants: a busy machine changes it far less than wall time."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# -- (a) the floor -------------------------------------------------------------------

def floor_round(env: runner.Environment, reps: int) -> tuple[list[float], str, float]:
    """Wall time of each repetition in milliseconds, the library, and the
    CPU seconds of the whole round."""
    program = env.bin_dir / FLOOR_PROGRAM
    if not os.access(program, os.X_OK):
        raise NotMeasured(f"{program} is not built (target {FLOOR_PROGRAM})")
    cmd = [str(program), "--reps", str(reps), "--cert", str(env.cert), "--key", str(env.key),
           "--deadline-ms", str(FLOOR_DEADLINE_MS)]
    # Each repetition bounds itself by its deadline; this bounds the lot.
    timeout = 30 + reps * (FLOOR_DEADLINE_MS / 1000 + 2)
    cpu = _cpu_s(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    cpu = _cpu_s(resource.RUSAGE_CHILDREN) - cpu
    if done.returncode != 0:
        raise NotMeasured(f"{FLOOR_PROGRAM} failed (exit {done.returncode}): "
                          f"{done.stderr.strip()[-800:]}")
    try:
        line = json.loads(done.stdout)
        return [float(x) for x in line["samples_ms"]], str(line["library"]), cpu
    except (ValueError, KeyError, TypeError) as exc:
        raise NotMeasured(f"{FLOOR_PROGRAM} printed no usable JSON line: {exc}")


# -- (b) one cell through the runner --------------------------------------------------

def bench_cell(env: runner.Environment, stacks_dir: Path, cases_dir: Path):
    """The one cell of (b), and the stack infos run_cells needs for it."""
    stack = select_stacks([BENCH_STACK], [], stacks_dir)[0]
    cases = corpus.load_cases(corpus.select_files(cases_dir, [BENCH_CASE]), ROOT)
    infos = {stack.name: detect(stack, env.bin_dir, env.root)}
    cells = [c for c in expand(cases, [stack], infos, BENCH_CELL) if not c.skip]
    if len(cells) != 1:
        hint = infos[stack.name].hint or infos[stack.name].error
        raise NotMeasured(f"the bench cell {BENCH_CASE}/{BENCH_STACK}/tls1.3/blocking/client "
                          f"cannot run here: {hint or 'the case no longer applies to it'}")
    return cells[0], infos


def cell_round(cell, env: runner.Environment, infos,
               reps: int) -> tuple[list[float], list[float], float]:
    """Wall time of each run_cells call and the part spent in the two
    processes (the result's duration_ms), in milliseconds, and the CPU
    seconds of the round (the children and this interpreter)."""
    walls, process = [], []
    cpu = _cpu_s(resource.RUSAGE_CHILDREN) + _cpu_s(resource.RUSAGE_SELF)
    pool = servers.Pool()      # as `run` keeps its servers from cell to cell
    for _ in range(reps):
        start = time.perf_counter()
        outcome = runner.run_cells([cell], env, infos, 1, pool=pool)
        walls.append((time.perf_counter() - start) * 1000)
        result = outcome.results[0]
        if result["verdict"] != "PASS":
            raise NotMeasured(f"the bench cell {cell.id} is {result['verdict']}, not PASS: "
                              f"{result['reason']}")
        process.append(result["duration_ms"])
    pool.close()               # reaped: their CPU time is counted below
    cpu = _cpu_s(resource.RUSAGE_CHILDREN) + _cpu_s(resource.RUSAGE_SELF) - cpu
    return walls, process, cpu


def measure_pair(env: runner.Environment, args, reps: int) -> dict:
    """(a) and (b), alternating in rounds."""
    cell, infos = bench_cell(env, args.stacks_dir, args.cases_dir)
    floor, walls, process, library = [], [], [], ""
    floor_cpu = cell_cpu = 0.0
    rounds = min(ROUNDS, reps)
    for i in range(rounds):
        share = reps // rounds + (1 if i < reps % rounds else 0)
        samples, library, cpu = floor_round(env, share)
        floor += samples
        floor_cpu += cpu
        w, p, cpu = cell_round(cell, env, infos, share)
        walls += w
        process += p
        cell_cpu += cpu
    return {"floor": {**_stats(floor), "cpu_ms_per_rep": round(floor_cpu * 1000 / reps, 3),
                      "program": FLOOR_PROGRAM, "library": library},
            "cell": {**_stats(walls), "cpu_ms_per_rep": round(cell_cpu * 1000 / reps, 3),
                     "id": cell.id, "case": BENCH_CASE, "stack": BENCH_STACK,
                     "process_median_ms": round(_median(process), 3),
                     "library": infos[BENCH_STACK].library}}


# -- (c) the default matrix through ctest ---------------------------------------------

def _cmake_bracket(text: str) -> str:
    eq = "="
    while f"]{eq}]" in text:
        eq += "="
    return f"[{eq}[{text}]{eq}]"


def _junit_entries(path: Path) -> list[dict]:
    import xml.etree.ElementTree as ET  # here: cli imports this module on every `run`
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError) as exc:
        raise NotMeasured(f"ctest wrote no readable JUnit file {path}: {exc}")
    entries = []
    for case in tree.iter("testcase"):
        if "@" not in case.get("name", ""):
            continue            # the matrix-daemon fixture, not an entry
        failed = case.find("failure") is not None or case.get("status") not in (None, "run")
        entries.append({"name": case.get("name", ""), "time_s": float(case.get("time", 0)),
                        "failed": failed})
    return entries


def _matrix_cells(build_dir: Path, names: list[str]) -> dict:
    counts = {"cells": 0, "run": 0, "verdicts": {}}
    for name in names:
        try:
            doc = json.loads((build_dir / "matrix" / name / "results.json").read_text())
        except (OSError, ValueError):
            continue
        for cell in doc.get("cells", []):
            verdict = cell.get("verdict")
            counts["cells"] += 1
            counts["run"] += verdict != "SKIP"
            counts["verdicts"][verdict] = counts["verdicts"].get(verdict, 0) + 1
    return counts


def _copy_cost_data(build_dir: Path, scratch: Path) -> None:
    """ctest starts the entries that took longest last time first, from its
    cost data; without it the order is the declaration order and a slow
    entry can end up alone at the end. The build's data, when there is some,
    makes the bench schedule like a `ctest` in the build would."""
    cost = build_dir / "Testing" / "Temporary" / "CTestCostData.txt"
    if cost.is_file():
        (scratch / "Testing" / "Temporary").mkdir(parents=True)
        shutil.copyfile(cost, scratch / "Testing" / "Temporary" / cost.name)


def _daemon_cpu_s(stats: Path) -> float:
    try:
        return float(json.loads(stats.read_text())["cpu_s"])
    except (OSError, ValueError, KeyError, TypeError):
        raise NotMeasured(f"the matrix daemon left no CPU time in {stats}: the matrix's "
                          f"CPU time would be incomplete")


def measure_matrix(build_dir: Path, jobs: int, regex: str | None) -> dict:
    if not (build_dir / "CTestTestfile.cmake").is_file():
        raise NotMeasured(f"{build_dir} has no ctest entries (configure and build it first)")
    with tempfile.TemporaryDirectory(prefix="tlsclose-bench-") as tmp:
        # ctest keeps its logs in the directory it runs in: a scratch one
        # that includes the build's entries leaves the build's logs alone.
        Path(tmp, "CTestTestfile.cmake").write_text(f"subdirs({_cmake_bracket(str(build_dir))})\n")
        _copy_cost_data(build_dir, Path(tmp))
        junit = Path(tmp, "matrix.xml")
        cmd = ["ctest", "--test-dir", tmp, "-L", "conformance", "-j", str(jobs),
               "--output-junit", str(junit)] + (["-R", regex] if regex else [])
        stats = daemon_stats(daemon_socket(build_dir))
        stats.unlink(missing_ok=True)
        start, cpu = time.perf_counter(), _cpu_s(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=MATRIX_TIMEOUT_S,
                              env=results.git_environment(ROOT))
        wall, cpu = time.perf_counter() - start, _cpu_s(resource.RUSAGE_CHILDREN) - cpu
        # The entries hand their cells to the harness daemon (a fixture of
        # the matrix, not a child of ours): its cells' CPU time is in the
        # file it leaves when it stops.
        cpu += _daemon_cpu_s(stats)
        entries = _junit_entries(junit)
    if not entries:
        raise NotMeasured(f"ctest ran no conformance entry: {done.stdout.strip()[-400:]}")
    cells = _matrix_cells(build_dir, [e["name"] for e in entries])
    times = sorted(e["time_s"] for e in entries)
    slowest = sorted(entries, key=lambda e: -e["time_s"])[:5]
    shown = ["ctest", "-L", "conformance", "-j", str(jobs)] + (["-R", regex] if regex else [])
    return {"command": " ".join(shown), "jobs": jobs, "filter": regex,
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "entries": len(entries),
            "entries_failed": sum(e["failed"] for e in entries),
            "entry_median_s": round(_median(times), 3),
            "entry_max_s": round(times[-1], 3),
            "slowest_entries": [{"name": e["name"], "time_s": e["time_s"]} for e in slowest],
            **cells, "cells_per_s": round(cells["cells"] / wall, 1) if wall > 0 else None,
            "cells_run_per_s": round(cells["run"] / wall, 1) if wall > 0 else None}


# -- (d) whole matrices per stack, in this process --------------------------------------

def measure_stacks(env: runner.Environment, args) -> dict:
    names = args.stacks.split(",") if args.stacks != "all" else ["all"]
    stacks = select_stacks(names, [], args.stacks_dir, args.build_dir)
    cases = corpus.load_cases(corpus.select_files(args.cases_dir, None), ROOT)
    # As `tlsclose run` runs them: its default number of cells at once.
    measured = measure.stack_matrices(cases, stacks, env, runner.default_jobs())
    # Every stack, one after the other: the whole-run targets apply (each
    # stack's run ends with a tail of its slowest cells, so this wall time is
    # an upper bound of `tlsclose run --stack all`, which runs them in one pool).
    measured["all"] = args.stacks == "all"
    return measured


# -- verdict on the targets, output ---------------------------------------------------

def _target(name: str, value: float, at_least: bool = False) -> dict:
    limit = TARGETS[name]
    met = value >= limit if at_least else value <= limit
    return {"target": limit, "value": round(value, 3), "met": met,
            **({"at_least": True} if at_least else {})}


def _matrix_targets(matrix: dict, floor_cpu_ms: float) -> dict:
    if not matrix or matrix["filter"] or not matrix["run"]:
        return {}
    return {"matrix_cpu_x_floor": _target("matrix_cpu_x_floor",
                                          matrix["cpu_s"] * 1000 / matrix["run"] / floor_cpu_ms),
            "matrix_wall_s": _target("matrix_wall_s", matrix["wall_s"]),
            "entry_median_s": _target("entry_median_s", matrix["entry_median_s"]),
            "matrix_cells": _target("matrix_cells", matrix["cells"], at_least=True)}


def _stack_targets(stacks: dict, floor_cpu_ms: float) -> dict:
    """Part (d): the default stacks against the floor; with every stack, the
    managed runtimes against the native shims, and the whole run."""
    if not stacks:
        return {}
    per = {name: s for name, s in stacks["stacks"].items() if s["run"]}
    out = {}
    defaults = [name for name in DEFAULT_STACKS if name in per]
    for name in defaults:
        out[f"run_cpu_x_floor.{name}"] = dict(
            _target("run_cpu_x_floor", per[name]["cpu_ms_per_cell"] / floor_cpu_ms))
    if defaults:
        out["run_wall_s"] = _target("run_wall_s", sum(per[n]["wall_s"] for n in defaults))
    native = [s["cpu_ms_per_cell"] for n, s in per.items() if n not in MANAGED_STACKS]
    if native and any(n in MANAGED_STACKS for n in per):
        median = _median(native)
        for name in (n for n in MANAGED_STACKS if n in per):
            out[f"managed_cpu_x_native.{name}"] = _target(
                "managed_cpu_x_native", per[name]["cpu_ms_per_cell"] / median)
    if stacks.get("all"):
        out["all_wall_s"] = _target("all_wall_s", stacks["wall_s"])
        out["all_idle"] = _target("all_idle", stacks["idle"])
    return out


def judge_targets(doc: dict) -> dict:
    ratio = doc["cell"]["median_ms"] / doc["floor"]["median_ms"]
    doc["ratio"] = round(ratio, 3)
    floor_cpu = doc["floor"]["cpu_ms_per_rep"]
    return {"ratio": _target("ratio", ratio),
            **_matrix_targets(doc.get("matrix"), floor_cpu),
            **_stack_targets(doc.get("stacks"), floor_cpu)}


def _mark(target: dict | None) -> str:
    if target is None:
        return "not judged: partial matrix"
    sign = ">=" if target.get("at_least") else "<="
    return f"target {sign} {target['target']:g}: {'met' if target['met'] else 'MISSED'}"


def summary_lines(doc: dict, path: Path) -> list[str]:
    f, c, t = doc["floor"], doc["cell"], doc["targets"]
    lines = [
        f"machine  {doc['machine']['cores']} cores, 1-min load {doc['machine']['load_before']} "
        f"before, {doc['machine']['load_after']} after",
        f"floor    {f['program']} ({f['library']}), {f['reps']} reps: median {f['median_ms']:.2f} "
        f"ms (p10 {f['p10_ms']:.2f}, p90 {f['p90_ms']:.2f})",
        f"cell     {c['id']}, {c['reps']} reps: median {c['median_ms']:.2f} ms "
        f"(p10 {c['p10_ms']:.2f}, p90 {c['p90_ms']:.2f}; in the two processes "
        f"{c['process_median_ms']:.2f})",
        f"ratio    cell/floor {doc['ratio']:.2f}  ({_mark(t['ratio'])}); in CPU time "
        f"{c['cpu_ms_per_rep']:.2f} / {f['cpu_ms_per_rep']:.2f} ms per repetition = "
        f"{c['cpu_ms_per_rep'] / f['cpu_ms_per_rep']:.2f}",
    ]
    m = doc.get("matrix")
    if m:
        lines += [
            f"matrix   {m['command']}: {m['entries']} entries ({m['entries_failed']} not passing), "
            f"{m['cells']} cells ({m['run']} run), wall {m['wall_s']:.2f} s "
            f"({_mark(t.get('matrix_wall_s'))})",
            f"         {m['cells_per_s']} cells/s ({m['cells_run_per_s']} run cells/s); entry "
            f"median {m['entry_median_s']:.3f} s ({_mark(t.get('entry_median_s'))}), "
            f"max {m['entry_max_s']:.2f} s",
            f"         CPU {m['cpu_s']:.2f} s in all, {m['cpu_s'] / doc['machine']['cores']:.2f} s "
            f"per core: the wall time of an idle machine can be no lower",
            f"         CPU per run cell {m['cpu_s'] * 1000 / max(m['run'], 1):.2f} ms = "
            f"{m['cpu_s'] * 1000 / max(m['run'], 1) / f['cpu_ms_per_rep']:.2f} x floor CPU "
            f"({_mark(t.get('matrix_cpu_x_floor'))})",
        ]
    st = doc.get("stacks")
    if st:
        floor_cpu = f["cpu_ms_per_rep"]
        lines.append(f"stacks   whole matrices: wall {st['wall_s']:.1f} s, CPU {st['cpu_s']:.1f} s, "
                     f"cores idle {st['idle'] * 100:.0f} %")
        if st.get("all"):
            lines[-1] += (f" ({_mark(t.get('all_wall_s'))}; idle "
                          f"{_mark(t.get('all_idle'))})")
        elif "run_wall_s" in t:
            lines[-1] += f" (default stacks: {_mark(t['run_wall_s'])})"
        for name, s in st["stacks"].items():
            if not s["run"]:
                lines.append(f"         {name:<18} no cell ran ({s['cells']} cells)")
                continue
            judged = t.get(f"run_cpu_x_floor.{name}") or t.get(f"managed_cpu_x_native.{name}")
            kind = "x native median" if f"managed_cpu_x_native.{name}" in t else "x floor CPU"
            lines.append(f"         {name:<18} {s['run']:>4} cells run: CPU {s['cpu_ms_per_cell']:.1f} "
                         f"ms/cell = {s['cpu_ms_per_cell'] / floor_cpu:.2f} x floor CPU; wall "
                         f"median {s['wall_ms_median']:.1f} ms"
                         + (f" ({judged['value']:.2f} {kind}: {_mark(judged)})" if judged else ""))
        lines.append("         slowest: " + "; ".join(
            f"{c['id']} {c['duration_ms'] / 1000:.2f} s" for c in st["slowest"][:10]))
    lines.append(f"written  {path}")
    return lines


def run(args: argparse.Namespace, argv: list[str]) -> int:
    reps = args.reps or (QUICK_REPS if args.quick else FULL_REPS)
    if args.stacks is None:
        args.stacks = "none" if args.quick else ",".join(DEFAULT_STACKS)
    if reps < 1 or args.jobs < 1:
        raise UsageError("--reps and -j must be at least 1")
    env = runner.Environment(ROOT, args.build_dir.resolve())
    doc = {"tool": "tlsclose bench", "quick": args.quick,
           "machine": {"cores": os.cpu_count(), "load_before": _loadavg(),
                       "python": sys.version.split()[0], "kernel": os.uname().release}}
    try:
        problem = env.setup_problem()
        if problem:
            raise NotMeasured(problem)
        doc.update(measure_pair(env, args, reps))
        if not args.no_matrix:
            regex = f"^{BENCH_CASE}@" if args.quick else None
            doc["matrix"] = measure_matrix(env.build_dir, args.jobs, regex)
        if args.stacks != "none":
            doc["stacks"] = measure_stacks(env, args)
    except (NotMeasured, subprocess.TimeoutExpired) as exc:
        print(f"tlsclose bench: not measured: {exc}", file=sys.stderr)
        return EXIT_NOT_MEASURED
    doc["machine"]["load_after"] = _loadavg()
    doc["targets"] = judge_targets(doc)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print("\n".join(summary_lines(doc, path)))
    missed = [name for name, t in doc["targets"].items() if not t["met"]]
    return EXIT_TARGET_MISSED if args.check_targets and missed else 0
