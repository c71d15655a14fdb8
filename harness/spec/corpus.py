"""The case corpus as a whole: finding, selecting and cross-checking cases.

Contract:
- `case_files(cases_dir)`: the *.toml files, sorted by name.
- `select_files(cases_dir, patterns)`: files whose name (= case id) matches
  any id or glob; raises UsageError naming a pattern that matches nothing.
- `load_cases(files, root)`: every file loaded; raises InvalidInput with the
  problems of all bad files together.
- `check_corpus(cases, stacks, coverage)`: what no single file can tell:
  unique ids, every catalogue statement cited by at least one case (when
  `coverage`), every [[known]] entry of a stack file matching some case.
  Returns problems; never raises.
"""
from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from harness.spec import catalogue
from harness.spec.case import Case, load_case
from harness.base.problems import InvalidInput, Problem, UsageError
from harness.spec.stack import Stack


def case_files(cases_dir: Path) -> list[Path]:
    if not cases_dir.is_dir():
        return []
    return sorted(p for p in cases_dir.iterdir() if p.suffix == ".toml" and p.is_file())


def select_files(cases_dir: Path, patterns: list[str] | None) -> list[Path]:
    files = case_files(cases_dir)
    if not patterns:
        return files
    chosen = []
    for pattern in patterns:
        hits = [f for f in files if fnmatch.fnmatchcase(f.stem, pattern)]
        if not hits:
            raise UsageError(f"--case {pattern}: no case in {cases_dir} matches")
        chosen += [f for f in hits if f not in chosen]
    return sorted(chosen)


def load_cases(files: list[Path], root: Path | None) -> list[Case]:
    cases, problems = [], []
    for path in files:
        try:
            cases.append(load_case(path, root))
        except InvalidInput as exc:
            problems += exc.problems
    if problems:
        raise InvalidInput(problems)
    return cases


def _catalogue_lines() -> dict[str, int]:
    """Line of each statement in catalogue.py, so a coverage gap points at
    the statement nobody cites."""
    path = Path(catalogue.__file__)
    lines = {}
    for n, text in enumerate(path.read_text().splitlines(), start=1):
        m = re.match(r'\s*"([SR]\d+)":', text)
        if m:
            lines.setdefault(m.group(1), n)
    return lines


def _coverage(cases: list[Case], root: Path | None) -> list[Problem]:
    cited = {c for case in cases for c in case.cites}
    path = Path(catalogue.__file__)
    shown = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    lines = _catalogue_lines()
    return [Problem(shown, lines.get(sid, 1), sid, "cited by no case (every statement needs "
                    "at least one case that checks it)")
            for sid in catalogue.STATEMENTS if sid not in cited]


def _duplicates(cases: list[Case]) -> list[Problem]:
    first: dict[str, Case] = {}
    problems = []
    for case in cases:
        if case.id in first:
            problems.append(Problem(case.file, 1, "id", f"duplicate id {case.id!r} (also "
                                    f"{first[case.id].file})"))
        else:
            first[case.id] = case
    return problems


def _known_entries(cases: list[Case], stacks: list[Stack]) -> list[Problem]:
    ids = [c.id for c in cases]
    problems = []
    for stack in stacks:
        for entry in stack.known:
            if not any(fnmatch.fnmatchcase(i, entry.case) for i in ids):
                problems.append(Problem(stack.file, entry.line, f"known[{entry.number}].case",
                                        f"{entry.case!r} matches no case"))
    return problems


def check_corpus(cases: list[Case], stacks: list[Stack] = (), coverage: bool = True,
                 root: Path | None = None) -> list[Problem]:
    problems = _duplicates(cases)
    if coverage:
        problems += _coverage(cases, root)
    problems += _known_entries(cases, list(stacks))
    return problems
