"""Problems found in case and stack files, reported as `file:line: field: problem`.

Contract: a loader collects every problem of a file in a `Problems` list
(it does not stop at the first) and raises `InvalidInput` with them once the
file is read; callers print `str(problem)` lines and exit 2. Field paths are
shown the way a reader finds them in the file: `steps[3].bytes`, where the
index is 1-based, like the step numbers the shim prints.
"""
from __future__ import annotations

import dataclasses

from harness.base.tomlpos import line_of


@dataclasses.dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.problem}"


class InvalidInput(Exception):
    """One or more files are not valid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class UsageError(Exception):
    """A command line that asks for something that does not exist."""


class ResultsError(ValueError):
    """A results document (results.json) is missing, unreadable or not of a
    format this version reads. The one error type of results.json, used by
    the harness and the report writers alike."""


def field_name(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(file)"


class Problems:
    """Collects the problems of one file, placing each at a line."""

    def __init__(self, file: str, lines: dict[tuple, int]):
        self.file = file
        self.lines = lines
        self.items: list[Problem] = []

    def add(self, path: tuple, problem: str) -> None:
        self.items.append(Problem(self.file, line_of(self.lines, path), field_name(path), problem))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(list(self.items))
