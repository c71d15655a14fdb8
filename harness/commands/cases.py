"""`tlsclose cases`: list the cases with their citations; `--check` validates
the corpus and the stack files (exit 2 on any problem, each printed as
`file:line: field: problem`)."""
from __future__ import annotations

import sys

from harness.base.paths import ROOT
from harness.base.problems import InvalidInput
from harness.commands import options
from harness.spec import corpus
from harness.spec.stack import load_stack, stack_files

NAME = "cases"
HELP = "list the cases with their citations; --check validates cases and stack files"
NEEDS_BUILD = False
EXIT_USAGE = 2


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("--check", action="store_true", help="validate every case and stack file")
    options.dirs(p, stacks=True, build=False)
    return p


def _load_all(args) -> tuple[list, list]:
    problems, cases = [], []
    for path in corpus.case_files(args.cases_dir):
        try:
            cases += corpus.load_cases([path], ROOT)
        except InvalidInput as exc:
            problems += exc.problems
    return cases, problems


def run(args, argv: list[str]) -> int:
    cases, problems = _load_all(args)
    if not args.check:
        width = max([len(c.id) for c in cases] + [0])
        for case in cases:
            print(f"{case.id:<{width}}  {', '.join(case.cites):<16}  {case.title}")
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE if problems else 0
    stacks = []
    for path in stack_files(args.stacks_dir):
        try:
            stacks.append(load_stack(path, ROOT))
        except InvalidInput as exc:
            problems += exc.problems
    problems += corpus.check_corpus(cases, stacks, coverage=True, root=ROOT)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    print(f"{len(cases)} cases, {len(stacks)} stack files: OK")
    return 0
