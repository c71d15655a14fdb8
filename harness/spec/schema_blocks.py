"""The building blocks of the project's JSON Schemas: small schema nodes in
the project's words (`x-what`, `x-unknown`, `x-pattern`: see
harness.spec.schema), and the vocabulary-made pieces more than one format
shares (peer actions, wire event patterns).

Contract: pure functions returning fresh dicts; they know the vocabulary
(harness.base.vocabulary) and nothing of any one file format, so every
format module (harness.spec.schema for cases and stacks,
harness.spec.endpoint_schema for endpoints) builds on them without
importing another format.
"""
from __future__ import annotations

from collections.abc import Iterable

from harness.base import vocabulary as V

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_URI = "https://tlsclose.invalid/schemas/"
MARKER_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
HEX_PATTERN = r"^(\s*[0-9a-fA-F]{2})*\s*$"
NONBLANK = r"\S"
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
LABEL_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
RET_PATTERN = r"^\s*(<|<=|>|>=|==|!=)\s*-?\d+\s*$"
ERROR_NAME_PATTERN = r"^$|^[A-Z][A-Z0-9_]*$"


# -- building blocks ------------------------------------------------------------------

def integer(lo: int, hi: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi, "x-what": "an integer"}


def text(one_line: bool = False, max_length: int | None = None) -> dict:
    node = {"type": "string", "pattern": NONBLANK, "x-what": "a string",
            "x-pattern": "must not be empty"}
    if one_line:
        # A value ending in a newline (a TOML multi-line string) is still one line.
        node = {"allOf": [node, {"pattern": r"^[^\n]*\n?$", "x-pattern": "must be one line"}]}
    if max_length:
        node = {"allOf": [node, {"maxLength": max_length,
                                 "x-message": f"longer than {max_length} characters"}]}
    return node


def boolean() -> dict:
    return {"type": "boolean", "x-what": "true or false"}


def enum(values: Iterable[str], unknown: str | None = None) -> dict:
    values = list(values)
    node = {"enum": values}
    if unknown:
        node["x-unknown"] = unknown
    return node


def string_list(allowed: Iterable[str] | None = None, nonempty: bool = True,
                what: str = "an array of strings") -> dict:
    item = {"type": "string", "pattern": NONBLANK, "x-what": "a string",
            "x-pattern": "must not be empty"}
    if allowed is not None:
        item = {**enum(allowed, "unknown value {value!r} (allowed: {allowed})"),
                "type": "string", "x-what": "a string"}
    node = {"type": "array", "items": item, "uniqueItems": True, "x-what": what}
    if nonempty:
        node["minItems"] = 1
    return node


def table(properties: dict, required: Iterable[str] = (), what: str = "a table",
          closed: bool = True) -> dict:
    node = {"type": "object", "properties": properties, "x-what": what}
    if closed:
        node["additionalProperties"] = False
    if required:
        node["required"] = list(required)
    return node


def alert() -> dict:
    return {"oneOf": [integer(0, 255), {"enum": list(V.ALERTS)}],
            "x-unknown": "unknown alert {value!r} (a name of the TLS alert registry or 0..255)"}


def level() -> dict:
    return {"oneOf": [integer(0, 255), {"enum": list(V.ALERT_LEVELS)}],
            "x-unknown": "must be \"warning\", \"fatal\" or a level byte 0..255"}


def kind(spec: object) -> dict:
    """The schema of one field kind of the vocabulary."""
    if isinstance(spec, tuple) and spec[0] == "enum":
        return enum(spec[1:], "must be one of {allowed}, not {value!r}")
    if isinstance(spec, tuple) and spec[0] == "int":
        return integer(spec[1], spec[2])
    return {
        "bool": boolean,
        "size": lambda: integer(0, V.MAX_BYTES),
        "count": lambda: integer(1, V.MAX_BYTES),
        "record": lambda: integer(1, V.MAX_RECORD),
        "ms": lambda: integer(1, V.MAX_TIMEOUT_MS),
        "text": text,
        "marker": lambda: {"type": "string", "pattern": MARKER_PATTERN, "x-what": "a string",
                           "x-pattern": "must be 1-64 characters of A-Z a-z 0-9 _ . -"},
        "hex": lambda: {"type": "string", "pattern": HEX_PATTERN,
                        "x-what": "a string of hex digits",
                        "x-pattern": "must be pairs of hex digits"},
        "alert": lambda: {"$ref": "#/$defs/alert"},
        "level": level,
        "records": lambda: {"type": "array", "items": integer(0, V.MAX_RECORD), "minItems": 1,
                            "x-what": "an array of record sizes"},
        "alert_list": lambda: {"type": "array", "items": {"$ref": "#/$defs/alert"},
                               "x-what": "an array of alerts"},
    }[spec]()


def dispatch(key: str, variants: dict[str, str], unknown: str) -> dict:
    """A table whose `key` picks one of `variants` (value -> $defs name):
    an unknown value is reported on the key, a known one checks the rest."""
    return {
        "type": "object", "x-what": "a table",
        "required": [key],
        "properties": {key: enum(variants, unknown)},
        "allOf": [{"if": {"properties": {key: {"const": value}}, "required": [key]},
                   "then": {"$ref": f"#/$defs/{name}"}} for value, name in variants.items()],
    }


# -- pieces several formats share ---------------------------------------------------------

def action_defs() -> dict:
    defs = {}
    for do, fields in V.PEER_ACTIONS.items():
        props = {"do": {"const": do}, **{k: kind(v) for k, v in V.ACTION_COMMON.items()
                                         if k != "do"},
                 **{k: kind(v) for k, v in fields.items()}}
        defs[f"action_{do}"] = table(props, V.PEER_REQUIRED.get(do, ()))
    return defs


def event_pattern(nested: bool, must: bool) -> dict:
    value = {"anyOf": [{"type": ["string", "integer", "boolean"]},
                       {"type": "array", "minItems": 1,
                        "items": {"type": ["string", "integer", "boolean"]}}],
             "x-unknown": "must be a string, integer or boolean, or a list of them"}
    props = {f: value for f in V.EVENT_FIELDS}
    for f, allowed in (("ev", V.PEER_EVENTS), ("dir", ("sent", "recv")),
                       ("by", ("peer", "library", "sut"))):
        props[f] = {"anyOf": [enum(allowed), {"type": "array", "items": enum(allowed)}],
                    "x-unknown": f"unknown value {{value!r}} (known: {', '.join(allowed)})"}
    if not nested:
        props["after"] = {"$ref": "#/$defs/event_anchor"}
        props["before"] = {"$ref": "#/$defs/event_anchor"}
        if must:
            props["count"] = integer(1, 100000)
    return table(props, what="an event pattern table")
