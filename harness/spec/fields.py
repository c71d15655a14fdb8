"""Type and range checks for the fields of case and stack files.

Contract: every function takes a `Problems` collector, the path of the value
and the value; it records what is wrong and returns True when the value is
usable. None of them raises on bad input: a bad file is a list of problems.
"""
from __future__ import annotations

import re

from harness.base import vocabulary as V
from harness.base.problems import Problems

MARKER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HEX_RE = re.compile(r"^([0-9a-fA-F]{2})*$")


def is_int(value: object) -> bool:
    # TOML booleans are Python bools, which are ints too.
    return isinstance(value, int) and not isinstance(value, bool)


def type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def want_type(probs: Problems, path: tuple, value: object, kind: type, what: str) -> bool:
    ok = is_int(value) if kind is int else isinstance(value, kind)
    if not ok:
        probs.add(path, f"must be {what}, not {type_name(value)}")
    return ok


def int_range(probs: Problems, path: tuple, value: object, lo: int, hi: int) -> bool:
    if not want_type(probs, path, value, int, "an integer"):
        return False
    if not lo <= value <= hi:
        probs.add(path, f"{value} is out of range {lo}..{hi}")
        return False
    return True


def text(probs: Problems, path: tuple, value: object, one_line: bool = False) -> bool:
    if not want_type(probs, path, value, str, "a string"):
        return False
    if not value.strip():
        probs.add(path, "must not be empty")
        return False
    if one_line and "\n" in value.strip():
        probs.add(path, "must be one line")
        return False
    return True


def string_list(probs: Problems, path: tuple, value: object, allowed: tuple | None = None,
                nonempty: bool = True) -> list[str]:
    """A list of strings, optionally from `allowed`; duplicates are errors."""
    if not want_type(probs, path, value, list, "an array of strings"):
        return []
    if nonempty and not value:
        probs.add(path, "must not be empty")
    out: list[str] = []
    for i, item in enumerate(value):
        if not want_type(probs, path + (i,), item, str, "a string"):
            continue
        if not item.strip():
            probs.add(path + (i,), "must not be empty")
        elif allowed is not None and item not in allowed:
            probs.add(path + (i,), f"unknown value {item!r} (allowed: {', '.join(allowed)})")
        elif item in out:
            probs.add(path + (i,), f"duplicate value {item!r}")
        else:
            out.append(item)
    return out


def unknown_keys(probs: Problems, path: tuple, table: dict, known) -> None:
    for key in table:
        if key not in known:
            probs.add(path + (key,), f"unknown key (known here: {', '.join(sorted(known))})")


def missing_keys(probs: Problems, path: tuple, table: dict, required) -> None:
    for key in required:
        if key not in table:
            probs.add(path + (key,), "missing (required)")


def _alert(probs: Problems, path: tuple, value: object) -> bool:
    if is_int(value):
        return int_range(probs, path, value, 0, 255)
    if isinstance(value, str):
        if value in V.ALERTS:
            return True
        probs.add(path, f"unknown alert {value!r} (a name of the TLS alert registry or 0..255)")
        return False
    return want_type(probs, path, value, str, "an alert name or number")


def _level(probs: Problems, path: tuple, value: object) -> bool:
    if is_int(value):
        return int_range(probs, path, value, 0, 255)
    if isinstance(value, str) and value in V.ALERT_LEVELS:
        return True
    probs.add(path, "must be \"warning\", \"fatal\" or a level byte 0..255")
    return False


def _records(probs: Problems, path: tuple, value: object) -> bool:
    if not want_type(probs, path, value, list, "an array of record sizes"):
        return False
    if not value:
        probs.add(path, "must not be empty")
        return False
    return all([int_range(probs, path + (i,), v, 0, V.MAX_RECORD) for i, v in enumerate(value)])


def _hex(probs: Problems, path: tuple, value: object) -> bool:
    if not want_type(probs, path, value, str, "a string of hex digits"):
        return False
    compact = value.replace(" ", "")
    if not HEX_RE.match(compact):
        probs.add(path, "must be pairs of hex digits")
        return False
    if len(compact) // 2 > V.MAX_HEX_BYTES:
        probs.add(path, f"{len(compact) // 2} bytes is more than {V.MAX_HEX_BYTES}")
        return False
    return True


def _marker(probs: Problems, path: tuple, value: object) -> bool:
    if not want_type(probs, path, value, str, "a string"):
        return False
    if not MARKER_RE.match(value):
        probs.add(path, "must be 1-64 characters of A-Z a-z 0-9 _ . -")
        return False
    return True


def _alert_list(probs: Problems, path: tuple, value: object) -> bool:
    if not want_type(probs, path, value, list, "an array of alerts"):
        return False
    return all([_alert(probs, path + (i,), v) for i, v in enumerate(value)])


def check_kind(probs: Problems, path: tuple, value: object, kind: object) -> bool:
    """Checks one field against a kind from harness.base.vocabulary."""
    if isinstance(kind, tuple) and kind[0] == "enum":
        if value in kind[1:]:
            return True
        probs.add(path, f"must be one of {', '.join(repr(k) for k in kind[1:])}, not {value!r}")
        return False
    simple = {
        "bool": lambda: want_type(probs, path, value, bool, "true or false"),
        "size": lambda: int_range(probs, path, value, 0, V.MAX_BYTES),
        "count": lambda: int_range(probs, path, value, 1, V.MAX_BYTES),
        "record": lambda: int_range(probs, path, value, 1, V.MAX_RECORD),
        "ms": lambda: int_range(probs, path, value, 1, V.MAX_TIMEOUT_MS),
        "text": lambda: text(probs, path, value),
        "marker": lambda: _marker(probs, path, value),
        "hex": lambda: _hex(probs, path, value),
        "alert": lambda: _alert(probs, path, value),
        "level": lambda: _level(probs, path, value),
        "records": lambda: _records(probs, path, value),
        "alert_list": lambda: _alert_list(probs, path, value),
    }
    return simple[kind]()


def check_table(probs: Problems, path: tuple, table: dict, spec: dict, required=()) -> None:
    """Unknown keys, missing keys and the kind of every known key."""
    unknown_keys(probs, path, table, spec)
    missing_keys(probs, path, table, required)
    for key, value in table.items():
        if key in spec:
            check_kind(probs, path + (key,), value, spec[key])
