"""`tlsclose cases`: list the cases with their citations; `--check` validates
the corpus and the stack files (exit 2 on any problem, each printed as
`file:line: field: problem`)."""
from __future__ import annotations

import sys

from harness.base.paths import ROOT
from harness.base.problems import InvalidInput
from harness.commands import options
from harness.spec import corpus
from harness.spec.rules import RULES
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


def describe_checks(case) -> list[str]:
    """One line per check group: its level, rule or statements, severity."""
    lines = []
    for g in case.expect_rfc:
        rule = RULES[g["rule"]]
        lines.append(f"rfc   {g['severity']:<8} {g['rule']} ({rule.cite()}; TLS "
                     f"{', '.join(g['tls'])}): {_checks_of(g)}")
    for g in case.expect_model:
        lines.append(f"model {'':<8} {', '.join(g['statements'])} (TLS {', '.join(g['tls'])}): "
                     f"{_checks_of(g)}")
    api = case.expect_api
    if api["steps"] or api["versions"]:
        labels = sorted({*api["steps"], *(k for v in api["versions"] for k in v["steps"])})
        lines.append(f"api   {'':<8} OpenSSL values of {', '.join(labels)}"
                     + (f" ({len(api['versions'])} version ranges)" if api["versions"] else ""))
    return lines


def _checks_of(group: dict) -> str:
    parts = [f"{k} {', '.join(group[k])}" for k in ("outcomes", "bytes", "flags", "wants")
             if group.get(k)]
    parts += [f"{len(group[k])} {k}" for k in ("must", "must_not") if group.get(k)]
    if group.get("peer_expects"):
        parts.append("peer expects " + ", ".join(group["peer_expects"]))
    return "; ".join(parts)


def run(args, argv: list[str]) -> int:
    cases, problems = _load_all(args)
    if not args.check:
        for case in cases:
            print(f"{case.id}  ({', '.join(case.cites)})  {case.title}")
            for line in describe_checks(case):
                print(f"    {line}")
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
