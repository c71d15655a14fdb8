"""The harness's command line: `tlsclose run | cases | report | merge | bench | probe`.

Contract: `main(argv) -> int` takes the arguments after the program name
(argparse style) and returns the exit status; it never calls sys.exit and
lets no exception out for bad input. Exit codes: 0 every cell PASS, SKIP or
KNOWN; 1 some FAIL; 2 bad usage or a bad case/stack/results file; 3 some
ERROR, TIMEOUT or CRASH (3 wins over 1, and `run --deadline` passing is 3);
130 interrupted by SIGINT, SIGTERM or SIGHUP (partial results are still
written, marked incomplete).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from harness import bench, corpus, results, runner, shard
from harness import vocabulary as V
from harness.matrix import Selection, expand
from harness.problems import InvalidInput, UsageError
from harness.stack import load_stack, probe

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACKS = ("openssl", "gnutls")
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tlsclose", description="TLS close_notify conformance")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run cells and write results.json")
    run.add_argument("--stack", action="append", default=[], metavar="NAME",
                     help="a stack of stacks/NAME.toml, or all of them with 'all' (repeatable; "
                          "default: openssl, gnutls)")
    run.add_argument("--stack-file", action="append", default=[], metavar="FILE",
                     help="a stack file anywhere (repeatable)")
    run.add_argument("--case", action="append", default=[], metavar="ID_OR_GLOB")
    run.add_argument("--tls", choices=V.TLS_VERSIONS)
    run.add_argument("--io", choices=V.IO_MODES)
    run.add_argument("--role", choices=V.ROLES)
    run.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    run.add_argument("--out", type=Path, default=ROOT / "out")
    run.add_argument("--no-build", action="store_true", help="accepted; the front door uses it")
    run.add_argument("--deadline", type=_seconds, metavar="SECONDS",
                     help="bound the whole run: cells still running then are cut short "
                          "(TIMEOUT), the results are marked incomplete, exit 3")
    run.add_argument("--no-report", action="store_true",
                     help="results.json only (the ctest entries: the matrix job reports once)")
    run.add_argument("--shard", type=_shard, metavar="K/N",
                     help="run only shard K of N: a deterministic, balanced part of the "
                          "selected cells (harness/shard.py); `merge` joins the N results")
    _dirs(run, stacks=True)
    cases = sub.add_parser("cases", help="list the cases; --check validates the corpus")
    cases.add_argument("--check", action="store_true")
    _dirs(cases, stacks=True, build=False)
    report = sub.add_parser("report", help="junit.xml and index.html from a results.json")
    report.add_argument("results", type=Path)
    report.add_argument("--baseline", type=Path)
    report.add_argument("--out", type=Path, required=True)
    merge = sub.add_parser("merge", help="merge results.json files into one")
    merge.add_argument("inputs", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, required=True)
    _probe_parser(sub)
    _dirs(bench.add_parser(sub), stacks=True)
    return p


def _probe_parser(sub) -> None:
    prb = sub.add_parser("probe", help="black-box mode: the mock peer against a running "
                         "endpoint; only wire checks apply")
    where = prb.add_mutually_exclusive_group(required=True)
    where.add_argument("--connect", metavar="HOST:PORT", help="a running TLS server")
    where.add_argument("--listen", type=int, metavar="PORT",
                       help="listen on 127.0.0.1:PORT (0: a free port) for the client command")
    prb.add_argument("--client-cmd", metavar="CMD", help="with --listen: the TLS client, run "
                     "with /bin/sh once per cell; {port} is replaced by the port")
    prb.add_argument("--case", action="append", default=[], metavar="ID_OR_GLOB")
    prb.add_argument("--tls", choices=V.TLS_VERSIONS)
    prb.add_argument("--out", type=Path, default=ROOT / "out")
    prb.add_argument("--no-build", action="store_true", help="accepted; the front door uses it")
    _dirs(prb, stacks=False)


def _shard(text: str) -> tuple[int, int]:
    try:
        return shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds in (0, 86400]")
    return value


def _dirs(p: argparse.ArgumentParser, stacks: bool, build: bool = True) -> None:
    p.add_argument("--cases-dir", type=Path, default=ROOT / "cases", help=argparse.SUPPRESS)
    if stacks:
        p.add_argument("--stacks-dir", type=Path, default=ROOT / "stacks", help=argparse.SUPPRESS)
    if build:
        p.add_argument("--build-dir", type=Path,
                       default=Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build"),
                       help="build tree with bin/ and credentials/ (default: "
                            "$TLSCLOSE_BUILD_DIR or build/)")


def _err(*lines: object) -> None:
    for line in lines:
        print(line, file=sys.stderr)


# -- run -------------------------------------------------------------------------

def _stack_dirs(args) -> list[Path]:
    """Where --stack NAME (and 'all') looks: the tree's stacks/, then the
    stack files the build generated (BUILD/stacks/, e.g. one per
    TLSCLOSE_OPENSSL_ROOTS entry, docs/your-stack.md). A substitute for
    stacks/ (--stacks-dir, for tests) is taken alone."""
    build = getattr(args, "build_dir", None)
    own = Path(args.stacks_dir).resolve() == ROOT / "stacks"
    return [args.stacks_dir] + ([Path(build) / "stacks"] if build is not None and own else [])


def _load_stacks(args) -> list:
    names = args.stack or ([] if args.stack_file else list(DEFAULT_STACKS))
    if "all" in names:
        # Every stack file, the default stacks first as everywhere else.
        found = sorted({p.stem for d in _stack_dirs(args) for p in d.glob("*.toml")})
        every = [n for n in DEFAULT_STACKS if n in found] + [n for n in found
                                                             if n not in DEFAULT_STACKS]
        names = list(dict.fromkeys(n for name in names
                                   for n in (every if name == "all" else [name])))
    stacks = []
    for name in names:
        path = next((d / f"{name}.toml" for d in _stack_dirs(args)
                     if (d / f"{name}.toml").is_file()), args.stacks_dir / f"{name}.toml")
        if not path.is_file():
            raise UsageError(f"--stack {name}: no stack file {path}")
        stacks.append(load_stack(path, ROOT))
    for file in args.stack_file:
        stack = load_stack(Path(file), ROOT)
        stack.source = "file"
        stacks.append(stack)
    seen = set()
    for stack in stacks:
        if stack.name in seen:
            raise UsageError(f"stack {stack.name} is selected twice")
        seen.add(stack.name)
    return stacks


def _write_reports(doc: dict, out_dir: Path) -> None:
    """junit.xml and index.html when the report writer exists; silent when
    it does not (it is built separately)."""
    try:
        reports = importlib.import_module("reports")
    except ImportError as exc:
        if exc.name and not exc.name.startswith("reports"):
            _err(f"tlsclose: note: no HTML/JUnit report: {exc}")
        return
    write_all = getattr(reports, "write_all", None)
    if write_all is None:
        return
    try:
        write_all(doc, out_dir)
    except Exception as exc:  # results.json is written; the report is a view of it
        _err(f"tlsclose: warning: the report writer failed: {exc}")


def cmd_run(args, argv: list[str]) -> int:
    started, t0 = results.now_iso(), time.monotonic()
    stacks = _load_stacks(args)
    cases = corpus.load_cases(corpus.select_files(args.cases_dir, args.case), ROOT)
    select = Selection(tls=(args.tls,) if args.tls else V.TLS_VERSIONS,
                       io=(args.io,) if args.io else V.IO_MODES,
                       roles=(args.role,) if args.role else V.ROLES)
    env = runner.Environment(ROOT, args.build_dir.resolve())
    infos = {s.name: probe(s, env.bin_dir, env.root) for s in stacks}
    cells = expand(cases, stacks, infos, select)
    if not cells:
        raise UsageError("no cell matches the selection (cases, stacks, --tls/--io/--role and "
                         "the cases' [applies])")
    if args.shard:
        # An empty shard is not an error: N may exceed the number of cells.
        part = shard.describe([c.id for c in cells], *args.shard)
        cells = [cells[i] for i in shard.select([c.id for c in cells], *args.shard)]
    progress = runner.Progress(len(cells))
    outcome = runner.run_cells(cells, env, infos, args.jobs, progress, args.deadline)
    tool = results.tool_entry(ROOT, started, (time.monotonic() - t0) * 1000, argv,
                              outcome.incomplete)
    tool["corpus"] = results.corpus_digest(corpus.case_files(args.cases_dir))
    if args.shard:
        tool["shard"] = part
    doc = results.build(tool, {s.name: results.stack_entry(s, infos[s.name]) for s in stacks},
                        {c.id: results.case_entry(c, ROOT) for c in cases}, outcome.results)
    path = results.write(doc, args.out)
    if not args.no_report:
        _write_reports(doc, args.out)
    print("\n".join(results.summary_lines(doc, path)))
    return EXIT_INTERRUPTED if outcome.interrupted else results.exit_code(doc)


# -- probe -----------------------------------------------------------------------

def cmd_probe(args, argv: list[str]) -> int:
    # Imported here: every ctest entry starts this module, and only probe runs need it.
    from harness import probe as blackbox
    started, t0 = results.now_iso(), time.monotonic()
    cases = corpus.load_cases(corpus.select_files(args.cases_dir, args.case), ROOT)
    target = blackbox.open_target(args.connect, args.listen, args.client_cmd)
    try:
        cells = blackbox.probe_cells(cases, target, (args.tls,) if args.tls else V.TLS_VERSIONS)
        if not cells:
            raise UsageError(f"no selected case has a [probe] table for a "
                             f"{target.endpoint_role} endpoint (docs/case-format.md)")
        if target.mode == "listen":
            _err(f"tlsclose: listening on {target.address}; each cell runs: {target.command}")
        env = runner.Environment(ROOT, args.build_dir.resolve())
        outcome = blackbox.run_probe(cells, target, env, runner.Progress(len(cells)))
    finally:
        target.close()
    tool = results.tool_entry(ROOT, started, (time.monotonic() - t0) * 1000, argv,
                              outcome.interrupted)
    used = {c.case.id: c.case for c in cells}
    doc = results.build(tool, {target.name: blackbox.stack_entry(target)},
                        {cid: results.case_entry(c) for cid, c in used.items()}, outcome.results)
    path = results.write(doc, args.out)
    _write_reports(doc, args.out)
    print("\n".join(results.summary_lines(doc, path)))
    return EXIT_INTERRUPTED if outcome.interrupted else results.exit_code(doc)


# -- cases -----------------------------------------------------------------------

def cmd_cases(args) -> int:
    files = corpus.case_files(args.cases_dir)
    problems, cases, stacks = [], [], []
    for path in files:
        try:
            cases += corpus.load_cases([path], ROOT)
        except InvalidInput as exc:
            problems += exc.problems
    if not args.check:
        width = max([len(c.id) for c in cases] + [0])
        for case in cases:
            print(f"{case.id:<{width}}  {', '.join(case.cites):<16}  {case.title}")
        _err(*problems)
        return EXIT_USAGE if problems else 0
    for path in sorted(args.stacks_dir.glob("*.toml")) if args.stacks_dir.is_dir() else []:
        try:
            stacks.append(load_stack(path, ROOT))
        except InvalidInput as exc:
            problems += exc.problems
    problems += corpus.check_corpus(cases, stacks, coverage=True, root=ROOT)
    if problems:
        _err(*problems)
        return EXIT_USAGE
    print(f"{len(cases)} cases, {len(stacks)} stack files: OK")
    return 0


# -- report, merge ------------------------------------------------------------------

def cmd_report(args) -> int:
    doc = results.load(args.results)
    baseline = results.load(args.baseline) if args.baseline else None
    try:
        reports = importlib.import_module("reports")
        write_all = reports.write_all
    except (ImportError, AttributeError):
        raise UsageError("the report writer (reports/) is not available in this tree")
    if baseline is None:
        write_all(doc, args.out)
    else:
        write_all(doc, args.out, baseline=results.align_baseline(doc, baseline))
    print(f"report written to {args.out}")
    return 0


def cmd_merge(args, argv: list[str]) -> int:
    docs = [(str(p), results.load(p)) for p in args.inputs]
    doc = results.merge(docs, argv, ROOT, DEFAULT_STACKS)
    path = results.write(doc, args.out)
    _write_reports(doc, args.out)
    print("\n".join(results.summary_lines(doc, path)))
    return results.exit_code(doc)


def _strip_program(argv: list[str]) -> list[str]:
    """Tolerates being handed sys.argv whole."""
    if argv and os.path.basename(argv[0]) in ("tlsclose", "cli.py"):
        return argv[1:]
    return argv


def main(argv: list[str] | None = None) -> int:
    argv = _strip_program(list(sys.argv[1:] if argv is None else argv))
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:          # argparse: --help (0) or bad usage (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "run":
            return cmd_run(args, argv)
        if args.command == "cases":
            return cmd_cases(args)
        if args.command == "probe":
            return cmd_probe(args, argv)
        if args.command == "bench":
            return bench.run(args)
        if args.command == "report":
            return cmd_report(args)
        return cmd_merge(args, argv)
    except InvalidInput as exc:
        _err(*exc.problems)
        return EXIT_USAGE
    except (UsageError, results.ResultsError) as exc:
        _err(f"tlsclose: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("tlsclose: interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
