"""The shim protocol's output and exit codes (docs/shim-protocol.md §3, §6).

Needs: nothing but the standard library.
Gives: `emit` (one JSON object per line on stdout, flushed at once),
`ShimExit` (how a run ends early: exit code, message, step to blame),
`Report` (the line of one step) and the deadline helpers.
Never: writes anything to stdout that is not a JSON object.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_FAILURE = 4
EXIT_SKIP = 77

MAX_WANTS = 64
END_KIND = {EXIT_USAGE: "error", EXIT_TIMEOUT: "timeout", EXIT_FAILURE: "error",
            EXIT_SKIP: "skip"}


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class ServeCell:
    """Persistent mode (pyshim/serve.py): the cell this process runs. While
    `active`, end lines carry "exit" and "cell", and `ended` (a page shared
    with the server) records that the cell's end line is out."""
    active = False
    cell: str | None = None
    ended = None


SERVE = ServeCell()


def end_fields(line: dict, code: int | None, signal: str | None = None) -> dict:
    """A cell's end line gets "signal" (when given), "exit" and "cell"."""
    if SERVE.active:
        if signal is not None:
            line["signal"] = signal
        line.update({"exit": code, "cell": SERVE.cell})
    return line


def emit_end(line: dict, code: int) -> None:
    """Prints the run's end line and tells the server it is out."""
    emit(end_fields(line, code))
    if SERVE.active and SERVE.ended is not None:
        SERVE.ended[0] = 1


class ShimExit(Exception):
    """Ends the run: the end line, then the exit code. step 0 = the run as a
    whole (a skip always names its step, 0 included)."""

    def __init__(self, code: int, message: str, step: int = 0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.step = step

    def end_line(self) -> dict:
        line = {"end": END_KIND.get(self.code, "error")}
        if self.step > 0 or self.code == EXIT_SKIP:
            line["step"] = self.step
        line["message"] = self.message
        return line


class StepDeadline(Exception):
    """A wait inside a step met the step's (or the run's) deadline."""


def now() -> float:
    return time.monotonic()


def left(deadline: float) -> float:
    """Seconds left until deadline, never negative."""
    return max(0.0, deadline - time.monotonic())


def check_deadline(deadline: float, what: str) -> None:
    if left(deadline) == 0.0:
        raise StepDeadline(f"deadline passed {what}")


@dataclasses.dataclass
class Report:
    """What one step prints (docs/shim-protocol.md §3)."""
    step: int
    op: str
    outcome: str = ""
    wants: list = dataclasses.field(default_factory=list)
    wants_dropped: int = 0
    calls: int = 0
    native: dict | None = None
    flags: dict | None = None
    bytes: int = 0
    ms: float = 0.0
    extras: dict = dataclasses.field(default_factory=dict)

    def add_want(self, want: str) -> None:
        if len(self.wants) < MAX_WANTS:
            self.wants.append(want)
        else:
            self.wants_dropped += 1

    def line(self) -> dict:
        out = {"step": self.step, "op": self.op, "outcome": self.outcome, "wants": self.wants}
        if self.wants_dropped:
            out["wants_dropped"] = self.wants_dropped
        out.update(calls=self.calls, native=self.native, flags=self.flags, bytes=self.bytes,
                   ms=round(self.ms, 2))
        out.update(self.extras)
        return out
