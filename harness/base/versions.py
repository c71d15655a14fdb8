"""Library versions and version ranges such as ">=3.0" or ">=1.1.1,<3.0".

Contract: `parse_range` returns a list of (operator, version tuple) or
raises ValueError with a message for the problem list; `library_version`
extracts a comparable tuple from whatever `SHIM --version` printed (None if
it holds no version number); `in_range` is False for an unknown version, so
a version-keyed expectation never applies by accident.
"""
from __future__ import annotations

import operator
import re

COMPARATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}
_TERM = re.compile(r"^\s*(<=|>=|==|!=|<|>)?\s*(\d+(?:\.\d+)*[a-z]?)\s*$")
_IN_TEXT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)+)([a-z])?(?![\w.])")


def as_tuple(text: str) -> tuple[int, ...]:
    """"1.1.1w" -> (1, 1, 1, 23): OpenSSL's letter releases sort after the
    plain one and before the next number."""
    letter = 0
    if text and text[-1].isalpha():
        letter, text = ord(text[-1]) - ord("a") + 1, text[:-1]
    return tuple(int(p) for p in text.split(".")) + ((letter,) if letter else ())


def parse_range(spec: str) -> list[tuple[str, tuple[int, ...]]]:
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("must be a version range such as \">=3.0\" or \">=1.1.1,<3.0\"")
    terms = []
    for part in spec.split(","):
        m = _TERM.match(part)
        if not m:
            raise ValueError(f"{part.strip()!r} is not a version term (e.g. \">=3.0\")")
        terms.append((m.group(1) or "==", as_tuple(m.group(2))))
    return terms


def _cmp(op: str, have: tuple[int, ...], want: tuple[int, ...]) -> bool:
    if op == "==" and len(want) < len(have):
        # "==3.0" means any 3.0.x.
        return have[:len(want)] == want
    width = max(len(have), len(want))
    pad = lambda t: t + (0,) * (width - len(t))  # noqa: E731
    return COMPARATORS[op](pad(have), pad(want))


def in_range(version: tuple[int, ...] | None, spec: str) -> bool:
    if version is None:
        return False
    return all(_cmp(op, version, want) for op, want in parse_range(spec))


def library_version(text: str | None) -> tuple[int, ...] | None:
    """The first dotted number in a library string ("OpenSSL 3.0.19 27 Jan
    2026" -> (3, 0, 19); "GnuTLS 3.7.9" -> (3, 7, 9))."""
    if not text:
        return None
    m = _IN_TEXT.search(text)
    if not m:
        return None
    return as_tuple(m.group(1) + (m.group(2) or ""))
