"""The one top of the harness: `./tlsclose COMMAND ...`.

Every command is a module of harness.commands that exports NAME, HELP (one
line), NEEDS_BUILD, `add_parser(subparsers)` and `run(args, argv) -> int`,
and optionally `packages(args)`: the Debian packages of the stacks it was
asked for, installed (quietly, when missing) before the build.
COMMANDS below is the table; only the chosen command's module is imported,
so a short command (a ctest entry's `run`) pays for nothing else. Before a
command that NEEDS_BUILD, harness.prepare installs missing Debian packages
and brings the build up to date, unless `--no-build` is given.

Contract: `main(argv) -> int` takes the arguments after the program name and
returns the exit status; it never calls sys.exit and lets no exception out
for bad input: bad usage or a bad case/stack/results file is 2 (the message
names `file:line: field: problem`), an interruption 130.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from harness.base.problems import InvalidInput, ResultsError, UsageError

# name -> (module, one-line help), in the order --help lists them.
COMMANDS = {
    "matrix": ("harness.commands.matrix",
               "the main job: the default conformance matrix through ctest, then one report"),
    "selftest": ("harness.commands.selftest",
                 "the project's own tests: install, build, then every ctest entry"),
    "run": ("harness.commands.run",
            "run cells (case x stack x TLS x IO x role); write results.json and the reports"),
    "cases": ("harness.commands.cases",
              "list the cases with their citations; --check validates cases and stack files"),
    "report": ("harness.commands.report",
               "junit.xml and index.html from a results.json; --baseline shows what changed"),
    "merge": ("harness.commands.merge",
              "merge the results.json files of one run (ctest entries, shards) into one"),
    "probe": ("harness.commands.probe",
              "black-box mode: the mock peer against a running endpoint; wire checks only"),
    "endpoints": ("harness.commands.endpoints",
                  "real clients and servers (curl, nginx, ...) through HTTP/1.1 closure scenarios"),
    "mutate": ("harness.commands.mutate",
               "mutation self-test: which case catches which broken variant of the reference"),
    "daemon": ("harness.commands.daemon",
               "a warm harness for the ctest entries (daemon start|stop --socket PATH)"),
    "bench": ("harness.commands.bench",
              "the performance benchmark: the floor, cells against it, the matrix"),
}
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: tlsclose COMMAND [ARGS...]   (tlsclose COMMAND --help for its arguments)",
             "", "TLS close_notify conformance suite. Commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def _parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tlsclose", add_help=False)
    sub = parser.add_subparsers(dest="command", required=True)
    command = module.add_parser(sub)
    # Every command takes it, so a caller (a ctest entry, a test) need not
    # know which commands build.
    command.add_argument("--no-build", action="store_true",
                         help="do not install packages or build first (the build is current)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else EXIT_USAGE
    if argv[0] not in COMMANDS:
        print(f"tlsclose: unknown command {argv[0]!r}\n{usage()}", file=sys.stderr)
        return EXIT_USAGE
    module = importlib.import_module(COMMANDS[argv[0]][0])
    try:
        args = _parse(module, argv)
    except SystemExit as exc:          # argparse: --help (0) or bad usage (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = getattr(args, "out", None)
    if out is not None and out.exists() and not out.is_dir():
        # Caught before any work: a long run must not end in a traceback.
        print(f"tlsclose: --out {out}: exists and is not a directory", file=sys.stderr)
        return EXIT_USAGE
    if module.NEEDS_BUILD and not getattr(args, "no_build", False):
        from harness import prepare
        wanted = getattr(module, "packages", lambda _: [])(args)
        installed = prepare.ensure_packages(prepare.PACKAGES, wanted)
        prepare.ensure_build(reconfigure=bool(installed))
    try:
        return module.run(args, argv)
    except InvalidInput as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, ResultsError) as exc:
        print(f"tlsclose: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tlsclose: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
