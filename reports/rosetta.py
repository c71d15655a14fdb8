"""The Rosetta table: for each way a connection can end, what each stack said.

Needs: a results document. Each cell is assigned at most one close event, from
the first source that names one:
  1. the case's own `rosetta` key in results["cases"] (a string naming the
     event, or {"event": ..., "step": N} to also pick the step to quote);
  2. CASE_EVENTS below (case id -> event), for cases that predate the key;
  3. the peer's transcript of that very cell: what the mock peer actually put
     on the wire (RST, a fatal alert, half a record then FIN, ...).
Gives: one row per event, one column per stack, each entry a distinct native
report (the library's error name, return value, error queue, errno) with the
cells that produced it. SKIP and ERROR cells are left out: they did not run
the scenario to its end. Every entry comes from the run; nothing is typed here
except the names of the events.
Never: guesses a native report for a stack that has no observing cell; the
entry stays empty and the page says so.
"""
from __future__ import annotations

from . import model

EVENTS = (
    ("clean_close", "clean close", "the peer sends close_notify and closes properly"),
    ("close_notify_then_data", "close_notify, then data",
     "application data from the peer after a close_notify was on the wire"),
    ("truncation_mid_record", "truncation mid-record", "FIN in the middle of a record"),
    ("fin_without_close_notify", "FIN without close_notify",
     "the peer closes TCP after whole records, without close_notify"),
    ("rst", "RST", "the peer resets the connection"),
    ("quiet_close", "quiet close", "the peer goes silent and sends no close_notify"),
    ("fatal_alert", "fatal alert", "the peer sends a fatal alert"),
    ("user_canceled", "user_canceled", "the peer sends a user_canceled alert"),
)
EVENT_IDS = tuple(e[0] for e in EVENTS)

# Case id -> event (or {"event": ..., "step": N}, or None to leave the case
# out), for cases whose file has no `rosetta` key yet. Empty while the
# transcript derivation names the corpus' cases correctly; add an entry only
# to correct it.
CASE_EVENTS: dict[str, object] = {}

# A skipped cell stopped before its scenario ended and an errored one never
# really ran: what their ops say is not the stack's answer to the event.
_NOT_QUOTED = ("SKIP", "ERROR")
# An op outcome that shows the stack noticed how the connection ended.
_OBSERVING_PREFIXES = ("closed", "truncated", "complete", "error:", "mismatch", "eof")


def _peer_events(wire: list) -> list[dict]:
    return [ev for ev in wire if isinstance(ev, dict)]


def _is_peer_record(ev: dict, rtype: str) -> bool:
    return (ev.get("ev") == "record" and ev.get("dir") == "sent" and ev.get("by") == "peer"
            and ev.get("type") == rtype)


def event_from_transcript(wire: list, peer_script: object = None) -> str | None:
    """The close event the mock peer enacted, read from what it logged; None
    when it enacted none of them (a malformed, fragmented or unknown alert is
    a protocol test, not a way of closing; a FIN sent only after the SUT had
    closed answers the SUT's close)."""
    evs = _peer_events(wire)
    actions = [ev.get("do") for ev in evs if ev.get("ev") == "action"]
    personality = peer_script.get("personality") if isinstance(peer_script, dict) else None
    alerts = [ev for ev in evs if _is_peer_record(ev, "alert")]
    if any(a.get("malformed") or a.get("fragment") or a.get("alert") in (None, "unknown")
           for a in alerts):
        return None
    if any(ev.get("ev") == "tcp" and ev.get("dir") == "sent" and ev.get("what") == "rst"
           for ev in evs) or "rst" in actions:
        return "rst"
    if any(a.get("level") == "fatal" and a.get("alert") not in ("close_notify", "user_canceled")
           for a in alerts):
        return "fatal_alert"
    if any(a.get("alert") == "user_canceled" for a in alerts):
        return "user_canceled"
    if "send_partial_record" in actions or any(
            ev.get("ev") == "record" and ev.get("dir") == "sent" and "partial" in ev for ev in evs):
        return "truncation_mid_record"
    if _data_after_close_notify(evs):
        return "close_notify_then_data"
    peer_close_notify = any(a.get("alert") == "close_notify" for a in alerts)
    if not peer_close_notify and ("expect_silence" in actions or personality == "quiet"):
        return "quiet_close"
    if peer_close_notify:
        return "clean_close"
    if _fin_before_sut_closed(evs):
        return "fin_without_close_notify"
    return None


def _fin_before_sut_closed(evs: list[dict]) -> bool:
    for ev in evs:
        if ev.get("ev") != "tcp":
            continue
        if ev.get("dir") == "recv" and ev.get("what") in ("eof", "reset"):
            return False
        if ev.get("dir") == "sent" and ev.get("what") == "fin":
            return True
    return False


def _data_after_close_notify(evs: list[dict]) -> bool:
    seen_close = False
    for ev in evs:
        if ev.get("ev") == "record" and ev.get("alert") == "close_notify":
            seen_close = True
        elif seen_close and _is_peer_record(ev, "application_data"):
            return True
    return False


def _declared(decl: object) -> tuple[str | None, int | None] | None:
    """(event, step) of a declaration; (None, None) for an explicit None;
    None when decl declares nothing usable."""
    if isinstance(decl, str) and decl in EVENT_IDS:
        return decl, None
    if isinstance(decl, dict) and decl.get("event") in EVENT_IDS:
        step = decl.get("step")
        return decl["event"], step if isinstance(step, int) else None
    return None


def _case_rosetta(results: dict, case: str) -> tuple[str | None, int | None, str] | None:
    info = (results.get("cases") or {}).get(case) or {}
    found = _declared(info.get("rosetta"))
    if found:
        return (*found, "case")
    if case in CASE_EVENTS:
        found = _declared(CASE_EVENTS[case])
        return (*found, "mapping") if found else (None, None, "mapping")
    return None


def assign(results: dict, cell: dict) -> tuple[str | None, int | None, str]:
    """(event, step to quote or None, where the event came from)."""
    declared = _case_rosetta(results, cell["case"])
    if declared:
        return declared
    peer = cell.get("peer") or ((results.get("cases") or {}).get(cell["case"]) or {}).get("peer")
    derived = event_from_transcript(cell.get("wire") or [], peer)
    return derived, None, "transcript" if derived else ""


def observing_op(cell: dict, step: int | None = None) -> dict | None:
    """The op to quote for the cell, the first of:
    - the given step;
    - the first op whose outcome shows the stack noticed the end;
    - the first step with a failed check (a stack that returned data where it
      should have stopped reports exactly that);
    - the last shutdown call (against a silent peer it says want_read or sent).
    """
    ops = [op for op in cell.get("ops") or [] if isinstance(op, dict) and "step" in op]
    if step is not None:
        return next((op for op in ops if op.get("step") == step), None)
    for op in ops:
        if str(op.get("outcome", "")).startswith(_OBSERVING_PREFIXES) and op.get("op") != "handshake":
            return op
    failed = {c.get("step") for c in model.failed_checks(cell) if isinstance(c.get("step"), int)}
    hit = next((op for op in ops if op.get("step") in failed), None)
    if hit is not None:
        return hit
    return next((op for op in reversed(ops) if str(op.get("op", "")).startswith("shutdown")), None)


def _report_key(op: dict) -> tuple:
    nat = op.get("native") or {}
    return (op.get("op"), op.get("outcome"), nat.get("error"), nat.get("ret"),
            tuple(nat.get("queue") or []), nat.get("errno"))


def build(results: dict) -> dict:
    """{"stacks": [...], "rows": [{"event", "label", "description", "cases": {id: source},
    "entries": {stack: [{"op", "outcome", "native", "cells": [ids], "verdicts": {...}}]}}]}."""
    stacks = list(model.counts_by_stack(results))
    rows = {eid: {"event": eid, "label": label, "description": desc, "cases": {},
                  "entries": {s: {} for s in stacks}} for eid, label, desc in EVENTS}
    for cell in results.get("cells", []):
        if model.verdict_of(cell) in _NOT_QUOTED:
            continue
        event, step, source = assign(results, cell)
        if event is None:
            continue
        row = rows[event]
        row["cases"].setdefault(cell["case"], source)
        op = observing_op(cell, step)
        if op is None:
            continue
        entry = row["entries"][cell["stack"]].setdefault(_report_key(op), {
            "op": op.get("op"), "outcome": op.get("outcome"), "native": model.format_native(op),
            "cells": [], "verdicts": {}})
        entry["cells"].append(model.cell_id(cell))
        v = model.verdict_of(cell)
        entry["verdicts"][v] = entry["verdicts"].get(v, 0) + 1
    out = []
    for eid in EVENT_IDS:
        row = rows[eid]
        row["entries"] = {s: list(e.values()) for s, e in row["entries"].items()}
        out.append(row)
    return {"stacks": stacks, "rows": out}
