"""From what the peer and the shim printed to a verdict for one cell.

Contract: `judge(cell, run, library)` takes a cell, the two processes'
results (harness.run.processes.CellRun) and the library version the shim reported;
it returns a `Judgement` (verdict, reason, checks, notes). It starts no
process and never raises on odd output: whatever a process printed or how
it ended is an outcome (ERROR, TIMEOUT, CRASH...), never an exception.

Order of precedence: CRASH (a signal we did not send) > SKIP (shim exit 77)
> TIMEOUT (shim, then peer) > ERROR (exit codes, unparsable or incomplete
output) > the checks: PASS, KNOWN (every failed check is covered by a
[[known]] entry of the stack) or FAIL.
"""
from __future__ import annotations

import dataclasses
import json

from harness.spec import patterns as P
from harness.base import versions
from harness.run.processes import CellRun, ProcessResult
from harness.run.matrix import Cell

SKIP_EXIT = 77
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
    sut, peer = run.sut, run.peer
    if sut.killed:
        return Judgement("TIMEOUT", f"shim did not end by the deadline ({cell.case.deadline_ms}"
                                    f" ms) and was killed in {sut_position(cell, sut)}")
    if sut.returncode == TIMEOUT_EXIT:
        return Judgement("TIMEOUT", f"shim timed out in {sut_position(cell, sut)}: "
                                    f"{end_message(sut)}")
    if peer.killed:
        return Judgement("TIMEOUT", f"peer did not end by the deadline ({cell.case.deadline_ms}"
                                    f" ms) and was killed in {peer_position(peer)}")
    if peer.returncode == TIMEOUT_EXIT:
        return Judgement("TIMEOUT", f"peer timed out in {peer_position(peer)}: "
                                    f"{end_message(peer)}")
    return None


def _exit_error(run: CellRun) -> Judgement | None:
    for who, proc in (("shim", run.sut), ("peer", run.peer)):
        if proc.returncode != 0:
            return Judgement("ERROR", f"{who} exited {proc.returncode}: {end_message(proc)}")
    return None


def _output_error(cell: Cell, run: CellRun) -> Judgement | None:
    for who, proc in (("shim", run.sut), ("peer", run.peer)):
        if proc.bad_lines:
            return Judgement("ERROR", f"{who} printed a line that is not a JSON object: "
                                      f"{str(proc.bad_lines[0])[:200]!r}")
    end = _end_line(run.sut)
    if end is None or end.get("end") != "ok":
        return Judgement("ERROR", f"shim output has no {{\"end\": \"ok\"}} line "
                                  f"(last: {show(end) if end else 'none'})")
    numbers = [line.get("step") for line in _steps_done(run.sut)]
    if numbers != list(range(1, len(cell.case.steps) + 1)):
        return Judgement("ERROR", f"shim reported steps {numbers}, expected 1.."
                                  f"{len(cell.case.steps)} in order")
    peer_end = next((e for e in reversed(run.peer.lines) if e.get("ev") == "end"), None)
    if peer_end is None or peer_end.get("status") != "ok":
        return Judgement("ERROR", f"peer transcript does not end with status ok "
                                  f"(last: {show(peer_end) if peer_end else 'none'})")
    return None


# -- checks ----------------------------------------------------------------------

def _check(level: str, step: int | None, what: str, expected: object, actual: object,
           ok: bool) -> dict:
    return {"level": level, "step": step, "what": what, "expected": expected, "actual": actual,
            "ok": bool(ok), "known": False}


def _outcome_checks(cell: Cell, lines: dict[int, dict]) -> list[dict]:
    out = []
    for label, pattern in cell.case.expect_rfc.get("outcomes", {}).items():
        n = cell.case.labels[label]
        actual = lines.get(n, {}).get("outcome")
        out.append(_check("rfc", n, f"{cell.case.step_desc(n)} outcome", pattern, actual,
                          P.outcome_matches(pattern, actual)))
    return out


def _bytes_checks(cell: Cell, lines: dict[int, dict]) -> list[dict]:
    out = []
    for label, want in cell.case.expect_rfc.get("bytes", {}).items():
        n = cell.case.labels[label]
        have = lines.get(n, {}).get("bytes")
        out.append(_check("rfc", n, f"{cell.case.step_desc(n)} bytes", want, have,
                          have == want and not isinstance(have, bool)))
    return out


def wire_check(pattern: dict, events: list[dict], must: bool) -> dict:
    seen, where = P.window(pattern, events)
    verb = "has" if must else "has no"
    what = f"peer transcript {verb} {P.describe(pattern)}{where}"
    if seen is None:
        return _check("rfc", None, what, "seen" if must else "none", "anchor never seen",
                      not must)
    hits = [e for e in seen if P.event_matches(pattern, e)]
    if not must:
        actual = P.summarize_event(hits[0]) if hits else "none"
        return _check("rfc", None, what, "none", actual, not hits)
    if "count" in pattern:
        return _check("rfc", None, what, {"count": pattern["count"]}, {"count": len(hits)},
                      len(hits) == pattern["count"])
    return _check("rfc", None, what, "seen", P.summarize_event(hits[0]) if hits else "not seen",
                  bool(hits))


def peer_expect_checks(events: list[dict]) -> list[dict]:
    out = []
    for ev in events:
        if ev.get("ev") == "expect":
            ok = ev.get("ok") is True
            out.append(_check("rfc", None, f"peer expectation {ev.get('what')}", True,
                              True if ok else ev.get("detail", False), ok))
    return out


def _rfc_checks(cell: Cell, lines: dict[int, dict], events: list[dict]) -> list[dict]:
    rfc = cell.case.expect_rfc
    checks = _outcome_checks(cell, lines) + _bytes_checks(cell, lines)
    checks += [wire_check(p, events, True) for p in rfc.get("must", [])]
    checks += [wire_check(p, events, False) for p in rfc.get("must_not", [])]
    if rfc.get("peer_expects_ok", True):
        checks += peer_expect_checks(events)
    return checks


def api_expectations(cell: Cell, library: str | None) -> dict[str, dict]:
    """The api table for this library version: the base steps, overridden
    field by field by every version entry whose range contains it.

    The ranges are OpenSSL release numbers (the contract is SSL_shutdown(3)),
    so they apply only to a library that reports itself as OpenSSL: wolfSSL
    5.5 is not "OpenSSL >= 3.0". Other libraries get the base table."""
    api = cell.case.expect_api
    merged = {label: dict(fields) for label, fields in api.get("steps", {}).items()}
    is_openssl = bool(library) and library.split()[0] == "OpenSSL"
    version = versions.library_version(library) if is_openssl else None
    for entry in api.get("versions", []):
        if versions.in_range(version, entry["range"]):
            for label, fields in entry["steps"].items():
                merged.setdefault(label, {}).update(fields)
    return merged


def _compare_ret(want: object, have: object) -> bool:
    if not isinstance(have, int):
        return False
    if isinstance(want, str):
        text = want.replace(" ", "")
        op = text.rstrip("-0123456789")
        return versions.COMPARATORS[op](have, int(text[len(op):]))
    return have == want


def _api_field(field: str, want: object, line: dict) -> tuple[object, bool]:
    native = line.get("native") if isinstance(line.get("native"), dict) else {}
    if field in ("reused", "resumable"):
        return line.get(field), line.get(field) is want
    if field in ("sent", "received"):
        flags = line.get("flags")
        have = flags.get(field) if isinstance(flags, dict) else None
        return have, have is want
    if field == "ret":
        return native.get("ret"), _compare_ret(want, native.get("ret"))
    if field == "error":
        have = native.get("error")
        return have, have in (want if isinstance(want, list) else [want])
    if field == "queue":
        have = native.get("queue") if isinstance(native.get("queue"), list) else []
        return have, any(want in str(entry) for entry in have)
    return native.get("errno"), native.get("errno") == want


def _api_checks(cell: Cell, lines: dict[int, dict], library: str | None) -> list[dict]:
    out = []
    for label, fields in api_expectations(cell, library).items():
        n = cell.case.labels[label]
        for field, want in fields.items():
            have, ok = _api_field(field, want, lines.get(n, {}))
            out.append(_check("api", n, f"{cell.case.step_desc(n)} {field}", want, have, ok))
    return out


def _apply_known(cell: Cell, checks: list[dict], library: str | None) -> list[str]:
    """Marks failed checks a [[known]] entry covers; returns notes about
    entries that cover this cell but had nothing to excuse."""
    version = versions.library_version(library)
    entries = [k for k in cell.stack.known
               if k.covers_cell(cell.case.id, cell.tls, cell.io, cell.role, version)]
    used = set()
    for check in checks:
        if check["ok"]:
            continue
        entry = next((k for k in entries if k.covers_check(check["level"])), None)
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


def verdict_from_checks(checks: list[dict], notes: list[str]) -> Judgement:
    failed = [c for c in checks if not c["ok"]]
    unknown = [c for c in failed if not c["known"]]
    if not failed:
        return Judgement("PASS", f"all {len(checks)} checks passed", checks, notes)
    if not unknown:
        summaries = list(dict.fromkeys(c["known_summary"] for c in failed))
        return Judgement("KNOWN", f"known deviation: {'; '.join(summaries)} "
                                  f"({_failure_text(failed[0])})", checks, notes)
    more = f" (+{len(unknown) - 1} more)" if len(unknown) > 1 else ""
    return Judgement("FAIL", _failure_text(unknown[0]) + more, checks, notes)


def evaluate_checks(cell: Cell, run: CellRun, library: str | None) -> Judgement:
    lines = {line["step"]: line for line in _steps_done(run.sut) if isinstance(line["step"], int)}
    checks = _rfc_checks(cell, lines, run.peer.lines)
    if cell.api_checks:
        checks += _api_checks(cell, lines, library)
    notes = _apply_known(cell, checks, library)
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
