"""`tlsclose probe --connect HOST:PORT | --listen PORT --client-cmd CMD`: the
mock peer against an endpoint nobody scripts; only the wire checks of cases
with a [probe] table apply (docs/case-format.md). Exit codes as `run`."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.base import vocabulary as V
from harness.base.paths import ROOT
from harness.base.problems import UsageError
from harness.commands import options
from harness.output import results, writer
from harness.run import blackbox, runner
from harness.spec import corpus

NAME = "probe"
HELP = "black-box mode: the mock peer against a running endpoint; only wire checks apply"
NEEDS_BUILD = True


def add_parser(sub):
    prb = sub.add_parser(NAME, help=HELP, description=HELP)
    where = prb.add_mutually_exclusive_group(required=True)
    where.add_argument("--connect", metavar="HOST:PORT", help="a running TLS server")
    where.add_argument("--listen", type=int, metavar="PORT",
                       help="listen on 127.0.0.1:PORT (0: a free port) for the client command")
    prb.add_argument("--client-cmd", metavar="CMD", help="with --listen: the TLS client, run "
                     "with /bin/sh once per cell; {port} is replaced by the port")
    prb.add_argument("--case", action="append", default=[], metavar="ID_OR_GLOB")
    prb.add_argument("--tls", choices=V.TLS_VERSIONS)
    prb.add_argument("--out", type=Path, default=ROOT / "out")
    options.dirs(prb, stacks=False)
    return prb


def run(args, argv: list[str]) -> int:
    started, t0 = results.now_iso(), time.monotonic()
    cases = corpus.load_cases(corpus.select_files(args.cases_dir, args.case), ROOT)
    target = blackbox.open_target(args.connect, args.listen, args.client_cmd)
    try:
        cells = blackbox.probe_cells(cases, target, (args.tls,) if args.tls else V.TLS_VERSIONS)
        if not cells:
            raise UsageError(f"no selected case has a [probe] table for a "
                             f"{target.endpoint_role} endpoint (docs/case-format.md)")
        if target.mode == "listen":
            print(f"tlsclose: listening on {target.address}; each cell runs: {target.command}",
                  file=sys.stderr)
        env = runner.Environment(ROOT, args.build_dir.resolve())
        outcome = blackbox.run_probe(cells, target, env, runner.Progress(len(cells)))
    finally:
        target.close()
    tool = results.tool_entry(ROOT, started, (time.monotonic() - t0) * 1000, argv,
                              outcome.interrupted)
    used = {c.case.id: c.case for c in cells}
    doc = results.build(tool, {target.name: blackbox.stack_entry(target)},
                        {cid: results.case_entry(c) for cid, c in used.items()}, outcome.results)
    return writer.finish(doc, args.out, True, outcome.interrupted)
