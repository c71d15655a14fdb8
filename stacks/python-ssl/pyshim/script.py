"""The step script (docs/shim-protocol.md §2): read and checked whole.

Needs: the path of a JSON file, or the parsed script (persistent mode).
Gives: `load(path) -> list[Step]`, `from_json(root) -> list[Step]`. Unknown ops, unknown fields, wrong types,
values out of range and impossible sequences raise ShimExit(2) with a
message naming the step and the field, before any byte is exchanged.
Never: decides what this stack can do (that is the run's check, after this).
"""
from __future__ import annotations

import dataclasses
import json

from pyshim.protocol import EXIT_USAGE, ShimExit

MAX_BYTES = 64 * 1024 * 1024
MAX_TIMEOUT_MS = 3600000
DEFAULT_TIMEOUT_MS = 5000
MARKER_MAX = 63

BOOL, MARKER, TEXT, UNTIL = "bool", "marker", "text", "until"
OPTION = ("ignore_unexpected_eof", "post_handshake_auth", "quiet_shutdown")
SCOPE = ("connection", "context")
# op -> (fields besides op and timeout_ms, does the op call the library)
OPS = {
    "handshake": ({"nowait": BOOL}, True),
    "write": ({"bytes": (0, MAX_BYTES), "nowait": BOOL, "until_blocked": BOOL}, True),
    "read": ({"bytes": (1, MAX_BYTES), "until": UNTIL, "nowait": BOOL}, True),
    "shutdown": ({"nowait": BOOL}, True),
    "shutdown_quiet": ({}, True),
    "shutdown_full": ({"nowait": BOOL}, True),
    "get_shutdown": ({}, False),
    "get_error_after": ({}, False),
    "keyupdate": ({"request_peer": BOOL}, True),
    "close_transport": ({}, False),
    "free_without_shutdown": ({}, False),
    "session_resumable": ({}, False),
    "resume": ({}, False),
    "signal_peer": ({"marker": MARKER}, False),
    "wait_peer": ({"marker": MARKER}, False),
    "plaintext_write": ({"text": TEXT}, False),
    "plaintext_read": ({"text": TEXT}, False),
    "set_option": ({"option": OPTION, "scope": SCOPE}, False),
    "clear": ({}, False),
}
REQUIRED = {"write": ("bytes",), "signal_peer": ("marker",), "wait_peer": ("marker",),
            "plaintext_write": ("text",), "plaintext_read": ("text",),
            "set_option": ("option",)}
NEEDS_SESSION = ("get_shutdown", "get_error_after", "session_resumable",
                 "free_without_shutdown", "clear")
AFTER_CLEAR = ("get_shutdown", "session_resumable")
NEEDS_SOCKET = ("plaintext_write", "plaintext_read")


@dataclasses.dataclass
class Step:
    index: int                      # 1-based
    op: str
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    nowait: bool = False
    bytes: int = -1                 # -1: not given
    until_close: bool = False
    until_blocked: bool = False
    request_peer: bool = False
    marker: str | None = None
    text: str | None = None
    option: str | None = None
    scope: str = "connection"

    @property
    def where(self) -> str:
        return f"step {self.index} ({self.op})"


def calls_library(op: str) -> bool:
    return OPS[op][1]


def _bad(message: str) -> ShimExit:
    return ShimExit(EXIT_USAGE, message)


def _value(where: str, field: str, kind, value):
    """The checked value of one field (JSON types are strict: a bool is
    not an integer, an integer is not a bool)."""
    if kind == BOOL:
        if not isinstance(value, bool):
            raise _bad(f"{where}: field '{field}': expected true or false")
        return value
    if isinstance(kind, tuple) and isinstance(kind[0], int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(f"{where}: field '{field}': expected an integer")
        if not kind[0] <= value <= kind[1]:
            raise _bad(f"{where}: field '{field}': {value} is out of range {kind[0]}..{kind[1]}")
        return value
    if not isinstance(value, str):
        raise _bad(f"{where}: field '{field}': expected a string")
    if kind == UNTIL and value != "close":
        raise _bad(f"{where}: field 'until': only \"close\" is defined, got \"{value}\"")
    if kind == MARKER and not (0 < len(value.encode()) <= MARKER_MAX and "\n" not in value):
        raise _bad(f"{where}: field 'marker': required, 1-{MARKER_MAX} bytes, no newline")
    if kind == TEXT and not value:
        raise _bad(f"{where}: field 'text': a non-empty string is required")
    if isinstance(kind, tuple) and value not in kind:
        raise _bad(f"{where}: field '{field}': expected {' or '.join(kind)}, got \"{value}\"")
    return value


def _combinations(st: Step) -> None:
    w = st.where
    if st.op == "write" and st.until_blocked and st.bytes == 0:
        raise _bad(f"{w}: 'until_blocked' needs 'bytes' of at least 1")
    if st.op == "write" and st.until_blocked and st.nowait:
        raise _bad(f"{w}: 'until_blocked' and 'nowait' exclude each other")
    if st.op == "read" and st.until_close and st.bytes >= 0:
        raise _bad(f"{w}: 'bytes' and 'until' exclude each other")
    if st.op == "read" and st.until_close and st.nowait:
        raise _bad(f"{w}: 'until' and 'nowait' exclude each other")


def _step(obj: object, index: int) -> Step:
    if not isinstance(obj, dict):
        raise _bad(f"step {index}: expected an object")
    op = obj.get("op")
    if op is None:
        raise _bad(f"step {index}: field 'op' is required")
    if not isinstance(op, str):
        raise _bad(f"step {index}: field 'op': expected a string")
    if op not in OPS:
        raise _bad(f"step {index}: unknown op '{op}'")
    st = Step(index, op)
    fields = OPS[op][0]
    for key, value in obj.items():
        if key == "op":
            continue
        if key == "timeout_ms":
            st.timeout_ms = _value(st.where, key, (1, MAX_TIMEOUT_MS), value)
        elif key == "until" and key in fields:
            st.until_close = _value(st.where, key, UNTIL, value) == "close"
        elif key in fields:
            setattr(st, key, _value(st.where, key, fields[key], value))
        else:
            raise _bad(f"{st.where}: unknown field '{key}'")
    for key in REQUIRED.get(op, ()):
        if key not in obj:
            raise _bad(f"{st.where}: field '{key}' is required")
    _combinations(st)
    return st


def _needs_session(st: Step) -> bool:
    return (calls_library(st.op) or st.op in NEEDS_SESSION
            or (st.op == "set_option" and st.scope == "connection"))


def _check_sequence(steps: list[Step]) -> None:
    """What a step needs must still exist; a `resume` brings a fresh TLS
    object and socket."""
    freed_at = closed_at = cleared_at = 0
    for i, st in enumerate(steps):
        if st.op == "get_error_after" and (i == 0 or not calls_library(steps[i - 1].op)):
            raise _bad(f"step {st.index} (get_error_after): the previous step must call the "
                       "library (handshake, write, read, shutdown*, keyupdate)")
        if freed_at and _needs_session(st):
            raise _bad(f"{st.where}: the TLS object was freed by step {freed_at}")
        if cleared_at and _needs_session(st) and st.op not in AFTER_CLEAR:
            raise _bad(f"{st.where}: the TLS object was cleared by step {cleared_at} and "
                       "waits for a resume")
        if closed_at and st.op in NEEDS_SOCKET:
            raise _bad(f"{st.where}: the transport was closed by step {closed_at}")
        if st.op == "free_without_shutdown":
            freed_at = st.index
        elif st.op == "close_transport":
            closed_at = st.index
        elif st.op == "clear":
            cleared_at = st.index
        elif st.op == "resume":
            freed_at = closed_at = cleared_at = 0


def load(path: str) -> list[Step]:
    try:
        with open(path, "rb") as f:
            root = json.loads(f.read())
    except OSError as exc:
        raise _bad(f"{path}: {exc.strerror}")
    except ValueError as exc:
        raise _bad(f"{path}: not JSON: {exc}")
    return from_json(root)


def from_json(root: object) -> list[Step]:
    if not isinstance(root, list):
        raise _bad("step script: expected a JSON array of steps")
    if not root:
        raise _bad("step script: no steps")
    steps = [_step(obj, i + 1) for i, obj in enumerate(root)]
    _check_sequence(steps)
    return steps
