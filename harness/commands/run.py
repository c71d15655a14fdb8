"""`tlsclose run`: run the selected cells and write results.json and the reports.

Exit codes: 0 every cell PASS, SKIP or KNOWN; 1 some FAIL; 2 bad usage or a
bad case/stack file; 3 some ERROR, TIMEOUT or CRASH (3 wins over 1; a passed
`--deadline` is 3); 130 interrupted (partial results are written, marked
incomplete).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.base import vocabulary as V
from harness.base.paths import ROOT
from harness.base.problems import InvalidInput, UsageError
from harness.commands import options
from harness.output import results, writer
from harness.run import runner, shard
from harness.run.detect import detect
from harness.run.matrix import Selection, expand
from harness.spec import corpus
from harness.spec.stack import select_stacks

NAME = "run"
HELP = "run cells (case x stack x TLS x IO x role) and write results.json, junit.xml, index.html"
NEEDS_BUILD = True


def add_parser(sub) -> argparse.ArgumentParser:
    run = sub.add_parser(NAME, help=HELP, description=HELP)
    run.add_argument("--stack", action="append", default=[], metavar="NAME",
                     help="a stack file NAME.toml under stacks/, or all of them with 'all' (repeatable; "
                          "default: openssl, gnutls)")
    run.add_argument("--stack-file", action="append", default=[], metavar="FILE",
                     help="a stack file anywhere (repeatable)")
    run.add_argument("--case", action="append", default=[], metavar="ID_OR_GLOB")
    run.add_argument("--tls", choices=V.TLS_VERSIONS)
    run.add_argument("--io", choices=V.IO_MODES)
    run.add_argument("--role", choices=V.ROLES)
    run.add_argument("-j", "--jobs", type=int, default=runner.default_jobs())
    run.add_argument("--out", type=Path, default=ROOT / "out")
    run.add_argument("--deadline", type=options.seconds, metavar="SECONDS",
                     help="bound the whole run: cells still running then are cut short "
                          "(TIMEOUT), the results are marked incomplete, exit 3")
    run.add_argument("--mode", choices=runner.MODES, default="persistent",
                     help="persistent (default): cells run through long-lived shim and peer "
                          "servers where the shim supports it; per-process: two processes "
                          "per cell")
    run.add_argument("--no-report", action="store_true",
                     help="results.json only (the ctest entries: the matrix job reports once)")
    run.add_argument("--shard", type=options.shard, metavar="K/N",
                     help="run only shard K of N: a deterministic, balanced part of the "
                          "selected cells (harness/run/shard.py); `merge` joins the N results")
    options.dirs(run, stacks=True)
    return run


def selection(args) -> Selection:
    return Selection(tls=(args.tls,) if args.tls else V.TLS_VERSIONS,
                     io=(args.io,) if args.io else V.IO_MODES,
                     roles=(args.role,) if args.role else V.ROLES)


def packages(args) -> list[str]:
    """The Debian packages of the selected stacks (`--stack all`: every
    stack the project ships), installed before the build."""
    try:
        stacks = select_stacks(args.stack, args.stack_file, args.stacks_dir, None)
    except (UsageError, InvalidInput):
        return []               # run() reports the problem with its position
    return sorted({p for s in stacks for p in s.packages})


def run(args, argv: list[str]) -> int:
    return execute(args, argv)


def execute(args, argv: list[str], out=None, pool=None, limiter=None) -> int:
    """The run: `out` receives the summary (default: standard output);
    `pool` and `limiter` are a daemon's shared servers and its bound on
    cells in flight (harness.commands.daemon)."""
    started, t0 = results.now_iso(), time.monotonic()
    stacks = select_stacks(args.stack, args.stack_file, args.stacks_dir, args.build_dir)
    cases = corpus.load_cases(corpus.select_files(args.cases_dir, args.case), ROOT)
    env = runner.Environment(ROOT, args.build_dir.resolve())
    infos = {s.name: detect(s, env.bin_dir, env.root) for s in stacks}
    cells = expand(cases, stacks, infos, selection(args))
    if not cells:
        raise UsageError("no cell matches the selection (cases, stacks, --tls/--io/--role and "
                         "the cases' [applies])")
    part = None
    if args.shard:
        # An empty shard is not an error: N may exceed the number of cells.
        part = shard.describe([c.id for c in cells], *args.shard)
        cells = [cells[i] for i in shard.select([c.id for c in cells], *args.shard)]
    outcome = runner.run_cells(cells, env, infos, args.jobs,
                               runner.Progress(len(cells)) if out is None else None,
                               args.deadline, args.mode, pool, limiter)
    tool = results.tool_entry(ROOT, started, (time.monotonic() - t0) * 1000, argv,
                              outcome.incomplete)
    tool["corpus"] = results.corpus_digest(corpus.case_files(args.cases_dir))
    if part:
        tool["shard"] = part
    doc = results.build(tool, {s.name: results.stack_entry(s, infos[s.name]) for s in stacks},
                        {c.id: results.case_entry(c, ROOT) for c in cases}, outcome.results)
    return writer.finish(doc, args.out, not args.no_report, outcome.interrupted,
                         stream=out)

