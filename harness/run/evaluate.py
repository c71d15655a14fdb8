"""From what the peer and the shim printed to a verdict for one cell.

Contract: `judge(cell, run, library)` takes a cell, the two processes'
results (harness.run.processes.CellRun) and the library version the shim reported;
it returns a `Judgement` (verdict, reason, checks, notes). It starts no
process and never raises on odd output: whatever a process printed or how
it ended is an outcome (ERROR, TIMEOUT, CRASH...), never an exception.

Order of precedence: CRASH (a signal we did not send) > SKIP (shim exit 77)
> TIMEOUT (shim, then peer) > ERROR (exit codes, unparsable or incomplete
output) > the checks (harness.run.checks): PASS, KNOWN (every failed check
that decides is covered by a [[known]] entry of the stack) or FAIL. A failed
model-level check decides only on a stack that declares the SSL_shutdown(3)
model; elsewhere it is marked `"difference": true` and shown, never a FAIL.
Unmet peer expectations that no check claims become notes.
"""
from __future__ import annotations

import dataclasses
import json

from harness.base import versions
from harness.run import checks as C
from harness.run.processes import CellRun, ProcessResult
from harness.run.matrix import Cell
from harness.spec.stack import Stack

SKIP_EXIT = 77
# The first failure a FAIL's reason names: the RFC before the model before the API.
LEVEL_ORDER = {"rfc": 0, "model": 1, "api": 2}
TIMEOUT_EXIT = 3


@dataclasses.dataclass
class Judgement:
    verdict: str
    reason: str
    checks: list[dict] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def tail(text: str, lines: int = 40, chars: int = 4000) -> str:
    return "\n".join(text.splitlines()[-lines:])[-chars:]


# -- where a process was when it ended ----------------------------------------

def _steps_done(sut: ProcessResult) -> list[dict]:
    return [line for line in sut.lines if "step" in line and "end" not in line]


def _end_line(proc: ProcessResult) -> dict | None:
    """The shim's last {"end": ...} line."""
    ends = [line for line in proc.lines if "end" in line]
    return ends[-1] if ends else None


def sut_position(cell: Cell, sut: ProcessResult) -> str:
    end = _end_line(sut)
    if end and isinstance(end.get("step"), int):
        return cell.case.step_name(end["step"])
    done = len(_steps_done(sut))
    if done >= len(cell.case.steps):
        return "after the last step"
    return cell.case.step_name(done + 1)


def peer_position(peer: ProcessResult) -> str:
    actions = [e for e in peer.lines if e.get("ev") == "action"]
    if not actions:
        return "before its first action (handshake)"
    return f"action {actions[-1].get('n', len(actions))} ({actions[-1].get('do')})"


def end_message(proc: ProcessResult) -> str:
    end = _end_line(proc) or next((e for e in reversed(proc.lines) if e.get("ev") == "end"),
                                  None)
    if end and end.get("message"):
        return str(end["message"])
    return tail(proc.stderr, 3, 300).replace("\n", " | ") or "no message"


# -- process-level verdicts -----------------------------------------------------

def last_output(proc: ProcessResult, chars: int = 200) -> str:
    """What a process said last: its last stderr line, else its last stdout
    line (a crash report names it, so the reader sees where it stopped)."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if lines:
        return lines[-1].strip()[-chars:]
    if proc.bad_lines:
        return str(proc.bad_lines[-1])[-chars:]
    return show(proc.lines[-1])[-chars:] if proc.lines else "nothing"


def _crash(cell: Cell, run: CellRun) -> Judgement | None:
    for who, proc, where in (("shim", run.sut, lambda: sut_position(cell, run.sut)),
                             ("peer", run.peer, lambda: peer_position(run.peer))):
        if proc.signal and not proc.killed:
            return Judgement("CRASH", f"{who} killed by {proc.signal} in {where()}; "
                                      f"last output: {last_output(proc)}")
    return None


def _timeout(cell: Cell, run: CellRun) -> Judgement | None:
    """The shim before the peer: a hung shim is usually why the peer waited."""
    for who, proc, where in (("shim", run.sut, lambda: sut_position(cell, run.sut)),
                             ("peer", run.peer, lambda: peer_position(run.peer))):
        if proc.killed:
            return Judgement("TIMEOUT", f"{who} did not end by the deadline "
                                        f"({cell.case.deadline_ms} ms) and was killed in {where()}")
        if proc.returncode == TIMEOUT_EXIT:
            return Judgement("TIMEOUT", f"{who} timed out in {where()}: {end_message(proc)}")
    return None


def exit_error(who: str, proc: ProcessResult) -> Judgement | None:
    if proc.returncode != 0:
        return Judgement("ERROR", f"{who} exited {proc.returncode}: {end_message(proc)}")
    return None


def bad_output(who: str, proc: ProcessResult) -> Judgement | None:
    if proc.bad_lines:
        return Judgement("ERROR", f"{who} printed a line that is not a JSON object: "
                                  f"{str(proc.bad_lines[0])[:200]!r}")
    return None


def peer_end_error(peer: ProcessResult) -> Judgement | None:
    end = next((e for e in reversed(peer.lines) if e.get("ev") == "end"), None)
    if end is None or end.get("status") != "ok":
        return Judgement("ERROR", f"peer transcript does not end with status ok "
                                  f"(last: {show(end) if end else 'none'})")
    return None


def peer_finish_error(peer: ProcessResult) -> Judgement | None:
    """A peer that ended on its own but not well: its exit status, its
    output, its last line (the black-box and endpoint runs share this)."""
    return exit_error("peer", peer) or bad_output("peer", peer) or peer_end_error(peer)


def _exit_error(run: CellRun) -> Judgement | None:
    return exit_error("shim", run.sut) or exit_error("peer", run.peer)


def _output_error(cell: Cell, run: CellRun) -> Judgement | None:
    bad = bad_output("shim", run.sut) or bad_output("peer", run.peer)
    if bad:
        return bad
    end = _end_line(run.sut)
    if end is None or end.get("end") != "ok":
        return Judgement("ERROR", f"shim output has no {{\"end\": \"ok\"}} line "
                                  f"(last: {show(end) if end else 'none'})")
    numbers = [line.get("step") for line in _steps_done(run.sut)]
    if numbers != list(range(1, len(cell.case.steps) + 1)):
        return Judgement("ERROR", f"shim reported steps {numbers}, expected 1.."
                                  f"{len(cell.case.steps)} in order")
    return peer_end_error(run.peer)


# -- checks ----------------------------------------------------------------------

def counts(check: dict, stack: Stack) -> bool:
    """Whether a failed check decides the verdict: rfc always; model only on
    a stack that declares the SSL_shutdown(3) model (elsewhere a failed
    model check is a recorded difference); api checks exist only where they
    apply."""
    return check["level"] != "model" or stack.model == "ssl_shutdown"


def _apply_known(cell: Cell, checks: list[dict], library: str | None) -> list[str]:
    """Marks failed checks a [[known]] entry covers; returns notes about
    entries that cover this cell but had nothing to excuse."""
    version = versions.library_version(library)
    entries = [k for k in cell.stack.known
               if k.covers_cell(cell.case.id, cell.tls, cell.io, cell.role, version)]
    used = set()
    for check in checks:
        if check["ok"] or not counts(check, cell.stack):
            continue
        entry = next((k for k in entries if k.covers_check(check)), None)
        if entry:
            check["known"] = True
            check["known_summary"] = entry.summary
            used.add(entry.number)
    return [f"known deviation #{k.number} of {cell.stack.file} ({k.summary}) is listed for this "
            f"cell but did not occur: its checks passed" for k in entries if k.number not in used]


def _failure_text(check: dict) -> str:
    where = f"step {check['step']} " if check["step"] is not None else ""
    return (f"{where}{check['what']}: expected {show(check['expected'])}, "
            f"got {show(check['actual'])}")


def _mark_differences(checks: list[dict], stack: Stack) -> None:
    for check in checks:
        if not check["ok"] and not counts(check, stack):
            check["difference"] = True


def verdict_from_checks(checks: list[dict], notes: list[str]) -> Judgement:
    """PASS, KNOWN or FAIL from the checks that decide (a model difference
    on a stack without the SSL_shutdown(3) model decides nothing)."""
    failed = [c for c in checks if not c["ok"] and not c.get("difference")]
    unknown = [c for c in failed if not c["known"]]
    if not failed:
        return Judgement("PASS", f"all {len(checks)} checks passed", checks, notes)
    if not unknown:
        summaries = list(dict.fromkeys(c["known_summary"] for c in failed))
        return Judgement("KNOWN", f"known deviation: {'; '.join(summaries)} "
                                  f"({_failure_text(failed[0])})", checks, notes)
    first = sorted(unknown, key=lambda c: LEVEL_ORDER.get(c["level"], 9))[0]
    more = f" (+{len(unknown) - 1} more)" if len(unknown) > 1 else ""
    return Judgement("FAIL", _failure_text(first) + more, checks, notes)


def evaluate_checks(cell: Cell, run: CellRun, library: str | None) -> Judgement:
    lines = {line["step"]: line for line in _steps_done(run.sut) if isinstance(line["step"], int)}
    checks = C.cell_checks(cell.case, cell.tls, lines, run.peer.lines, library, cell.api_checks)
    _mark_differences(checks, cell.stack)
    notes = _apply_known(cell, checks, library)
    notes += C.unclaimed_expects(cell.case, cell.tls, run.peer.lines)
    return verdict_from_checks(checks, notes)


def judge(cell: Cell, run: CellRun, library: str | None) -> Judgement:
    crash = _crash(cell, run)
    if crash:
        return crash
    if run.sut.returncode == SKIP_EXIT:
        return Judgement("SKIP", f"shim: {end_message(run.sut)}")
    for verdict in (_timeout(cell, run), _exit_error(run), _output_error(cell, run)):
        if verdict:
            return verdict
    return evaluate_checks(cell, run, library)
