"""`tlsclose endpoints [--endpoint NAME]... --out DIR`: real TLS clients and
servers (curl, nginx, ...) through the HTTP/1.1 scenarios of
endpoints/scenarios; writes results.json with the endpoint table, junit.xml
and index.html (docs/endpoints.md).

Exit status as `run` (0 every cell PASS, SKIP or KNOWN; 1 some FAIL; 2 bad
usage or a bad endpoint or scenario file; 3 some ERROR, TIMEOUT or CRASH;
130 interrupted), and 77 when exactly one endpoint was asked for and it is
not installed (a ctest entry's SKIP; the install command is printed).
`--check` only validates the files.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time
from pathlib import Path

from harness.base import vocabulary as V
from harness.base.paths import ENDPOINTS_DIR, ROOT
from harness.base.problems import UsageError
from harness.commands import options
from harness.output import endpoint_table, results, writer
from harness.run import endpoint_run
from harness.run.interrupt import Interrupt
from harness.run.runner import Environment
from harness.spec.endpoint import load_endpoint, load_endpoints, packages_of
from harness.spec.scenario import load_scenarios

NAME = "endpoints"
HELP = "real clients and servers (curl, nginx, ...) through HTTP/1.1 closure scenarios"
NEEDS_BUILD = True
EXIT_UNAVAILABLE = 77


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("--endpoint", action="append", default=[], metavar="NAME",
                   help="an endpoint of endpoints/ (default: all)")
    p.add_argument("--endpoint-file", action="append", default=[], type=Path, metavar="FILE",
                   help="an endpoint file of your own (docs/endpoints.md)")
    p.add_argument("--scenario", action="append", default=[], metavar="ID_OR_GLOB",
                   help="only these scenarios (the preflight always runs)")
    p.add_argument("--tls", choices=V.TLS_VERSIONS)
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each cell N times and flag cells whose verdict changes")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="endpoints run at the same time (each endpoint's cells run in turn)")
    p.add_argument("--out", type=Path, default=ROOT / "out-endpoints")
    p.add_argument("--check", action="store_true", help="only validate the files (exit 2 on "
                   "a problem)")
    p.add_argument("--endpoints-dir", type=Path, default=ENDPOINTS_DIR, help=argparse.SUPPRESS)
    options.dirs(p, stacks=False)
    return p


def packages(args) -> list[str]:
    """The Debian packages of the endpoints asked for (all by default): a
    user who asks for curl and nginx gets curl and nginx, like `run` does for
    stacks. A file that does not load adds nothing; the run reports it."""
    every = not (args.endpoint or args.endpoint_file)
    paths = [p for p in sorted(Path(args.endpoints_dir).glob("*.toml"))
             if every or p.stem in args.endpoint] + list(args.endpoint_file)
    return packages_of(paths, ROOT)


def _select(args, scenarios):
    every = load_endpoints(args.endpoints_dir, ROOT, scenarios)
    by_name = {e.name: e for e in every}
    unknown = [n for n in args.endpoint if n not in by_name]
    if unknown:
        raise UsageError(f"unknown endpoint {', '.join(unknown)} (known: "
                         f"{', '.join(by_name)})")
    chosen = [by_name[n] for n in dict.fromkeys(args.endpoint)]
    chosen += [load_endpoint(f, ROOT) for f in args.endpoint_file]
    return chosen if (args.endpoint or args.endpoint_file) else every


def _say(outcome) -> None:
    ep = outcome.endpoint
    if not outcome.available:
        print(f"tlsclose: {ep.name}: unavailable: {outcome.hint}", file=sys.stderr, flush=True)
        return
    counts = {}
    for c in outcome.cells:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    text = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    extra = f"; {outcome.error or outcome.stopped}" if outcome.error or outcome.stopped else ""
    print(f"tlsclose: {ep.name} ({outcome.version}): {len(outcome.cells)} cells: {text}{extra}",
          file=sys.stderr, flush=True)


def _run_all(endpoints, scenarios, env, opts, jobs):
    outcomes = []
    with Interrupt() as interrupt:
        if jobs <= 1:
            for ep in endpoints:
                outcomes.append(endpoint_run.run_endpoint(ep, scenarios, env, opts, interrupt))
                _say(outcomes[-1])
                if outcomes[-1].interrupted:
                    break
            return outcomes
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(endpoint_run.run_endpoint, ep, scenarios, env, opts, interrupt)
                       for ep in endpoints]
            for f in futures:
                outcomes.append(f.result())
                _say(outcomes[-1])
    return outcomes


def _document(argv, started, t0, outcomes, scenarios) -> dict:
    cells = [c for o in outcomes for c in o.cells]
    interrupted = any(o.interrupted for o in outcomes)
    tool = results.tool_entry(ROOT, started, (time.monotonic() - t0) * 1000, argv, interrupted)
    stacks = {o.endpoint.name: {"title": o.endpoint.title, "api": "native", "model": "none",
                                "file": o.endpoint.file, "library": o.version or None,
                                "available": o.available, "hint": o.hint,
                                "endpoint": o.endpoint.role} for o in outcomes}
    used = {c["case"] for c in cells}
    cases = {s.id: {"title": s.title, "cites": [], "refs": s.refs, "why": s.why, "file": s.file,
                    "rules": s.rules, "question": s.question, "framing": s.framing,
                    "endpoint": s.endpoint} for s in scenarios if s.id in used}
    doc = results.build(tool, stacks, cases, cells)
    doc["findings"] += endpoint_table.flaky_findings(cells)
    doc["endpoints"] = {o.endpoint.name: endpoint_table.entry(o, cells, cases, doc["findings"])
                        for o in outcomes}
    return doc


def run(args, argv: list[str]) -> int:
    started, t0 = results.now_iso(), time.monotonic()
    scenarios = load_scenarios(args.endpoints_dir / "scenarios", ROOT)
    endpoints = _select(args, scenarios)
    if args.check:
        print(f"{len(endpoints)} endpoint files and {len(scenarios)} scenarios are valid")
        return 0
    if args.repeat < 1 or args.jobs < 1:
        raise UsageError("--repeat and -j take a number of at least 1")
    env = Environment(ROOT, args.build_dir.resolve())
    problem = env.setup_problem()
    if problem:
        raise UsageError(problem)
    opts = endpoint_run.Options(tls=(args.tls,) if args.tls else V.TLS_VERSIONS,
                                scenarios=args.scenario, repeat=args.repeat)
    outcomes = _run_all(endpoints, scenarios, env, opts, args.jobs)
    doc = _document(argv, started, t0, outcomes, scenarios)
    status = writer.finish(doc, args.out, True, any(o.interrupted for o in outcomes))
    if len(endpoints) == 1 and not outcomes[0].available:
        print(f"tlsclose: SKIP {endpoints[0].name}: unavailable: {outcomes[0].hint}",
              file=sys.stderr)
        return EXIT_UNAVAILABLE
    return status
