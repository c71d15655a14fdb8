"""Matching recorded outcomes and transcript events against a case's patterns.

Contract:
- An outcome pattern is a string, exact ("sent") or a prefix ending in "*"
  ("data:*", "error:*"), or a list of such strings (any may match).
- An event pattern is a table of event fields; each value is matched like an
  outcome pattern when it is a string, by equality otherwise, and a list
  means "any of". Fields a pattern names must be present in the event.
- Wire modifiers on a pattern: `after` / `before` (another event pattern
  that bounds the part of the transcript looked at) and `count` (exact number
  of matches, for `must` only).
Pure functions; nothing here raises on odd recorded data.
"""
from __future__ import annotations

import re

from harness.base import vocabulary as V

WIRE_MODIFIERS = ("after", "before", "count")
_NAME = r"[a-z0-9_]+"


def _template_re(template: str, classes: bool = True) -> str:
    out = re.escape(template).replace(r"\{N\}", r"\d+").replace(r"\{NAME\}", _NAME)
    if classes:
        alternatives = "|".join(_template_re(c, False) for c in V.ERROR_CLASSES)
        out = out.replace(r"\{CLASS\}", f"(?:{alternatives})")
    return out


def _template_head(template: str) -> str:
    return template.split("{", 1)[0]


def outcome_problem(op: str, pattern: str) -> str | None:
    """Why `pattern` can never match an outcome of `op`, or None."""
    templates = V.OUTCOMES[op]
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        heads = [_template_head(t) for t in templates]
        expanded = [_template_head(c) for c in V.ERROR_CLASSES]
        heads += ["error:" + h for h in expanded if any(t.startswith("error:{") for t in templates)]
        if any(h.startswith(prefix) or prefix.startswith(h) for h in heads):
            return None
    elif any(re.fullmatch(_template_re(t), pattern) for t in templates):
        return None
    return f"{pattern!r} is not an outcome of {op} (outcomes: {', '.join(templates)})"


def _value_matches(want: object, have: object) -> bool:
    if isinstance(want, list):
        return any(_value_matches(w, have) for w in want)
    if isinstance(have, list):  # e.g. `messages`: every handshake message of a record
        return any(_value_matches(want, h) for h in have)
    if isinstance(want, str) and want.endswith("*"):
        return isinstance(have, str) and have.startswith(want[:-1])
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    return want == have


def outcome_matches(pattern: object, outcome: object) -> bool:
    return _value_matches(pattern, outcome)


def event_matches(pattern: dict, event: dict) -> bool:
    for key, want in pattern.items():
        if key in WIRE_MODIFIERS:
            continue
        if key not in event or not _value_matches(want, event[key]):
            return False
    return True


def _first(pattern: dict, events: list[dict]) -> int | None:
    for i, ev in enumerate(events):
        if event_matches(pattern, ev):
            return i
    return None


def window(pattern: dict, events: list[dict]) -> tuple[list[dict] | None, str]:
    """The events a wire pattern looks at, and a description of the window.
    None when an `after` anchor never happened."""
    lo, hi, notes = 0, len(events), []
    if "after" in pattern:
        anchor = _first(pattern["after"], events)
        if anchor is None:
            return None, f" after {describe(pattern['after'])} (never seen)"
        lo = anchor + 1
        notes.append(f"after {describe(pattern['after'])}")
    if "before" in pattern:
        anchor = _first(pattern["before"], events)
        if anchor is not None:
            hi = anchor
        notes.append(f"before {describe(pattern['before'])}")
    return events[lo:hi], (" " + ", ".join(notes)) if notes else ""


def describe(pattern: dict) -> str:
    parts = []
    for key, value in pattern.items():
        if key in WIRE_MODIFIERS:
            continue
        shown = "|".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}={shown}")
    return "{" + " ".join(parts) + "}"


def summarize_event(event: dict) -> dict:
    """An event without its timing, for check records."""
    return {k: v for k, v in event.items() if k != "ms"}
