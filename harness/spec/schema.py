"""The file formats as JSON Schemas: built from the vocabulary, checked in
under schemas/, and used to validate case and stack files.

Contract:
- `build(name)` returns the schema of a file format ("case", "stack", and
  the endpoint formats "scenario" and "endpoint" of harness.spec.endpoint_schema) as a
  dict, made from harness.base.vocabulary (ops, actions, their fields and
  kinds), so the words of the protocol are defined once. The files under
  schemas/ are its output, for editors that read JSON Schema for TOML;
  `python3 -m harness.spec.schema --write` rewrites them and a test checks
  that they are current.
- `validate(probs, document, name)` records every schema violation in probs
  as `field: problem`, in the words people read in this project's messages
  ("unknown key (known here: ...)", "must be an integer, not a string",
  "5 is out of range 1..3", "missing (required)"); the Problems collector
  places each at its line. It never raises on a bad document.
What a schema cannot express (labels that must exist, markers each side
waits for, version ranges, sums) stays in the loaders, which call this first.

Messages: a schema node may carry `x-what` (the noun phrase of "must be
..."), `x-unknown` (the message for a value outside an enum or a `oneOf`,
with {value} and {allowed}) and `x-pattern` (the message for a pattern that
does not match). Editors ignore these keys.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from harness.base import vocabulary as V
from harness.base.paths import SCHEMAS_DIR, build_dir
from harness.base.problems import Problems
from harness.spec import catalogue, endpoint_schema, rules
from harness.spec.schema_blocks import (BASE_URI, DRAFT, ERROR_NAME_PATTERN, ID_PATTERN,
                                        LABEL_PATTERN, RET_PATTERN, action_defs, alert,
                                        boolean, dispatch, enum, event_pattern, integer,
                                        kind, string_list, table, text)

NAMES = ("case", "stack", "scenario", "endpoint")
# A directory where documents that passed their schema are remembered;
# default: BUILD/validated when there is a build tree, else none.
CACHE_ENV = "TLSCLOSE_VALIDATION_CACHE"



# -- the case format --------------------------------------------------------------------

def _step_defs() -> dict:
    defs = {}
    for op, fields in V.SHIM_OPS.items():
        props = {"op": {"const": op}, **{k: kind(v) for k, v in V.STEP_COMMON.items()
                                         if k != "op"},
                 **{k: kind(v) for k, v in fields.items()},
                 **{k: {"type": "string", "pattern": LABEL_PATTERN, "x-what": "a string",
                        "x-pattern": "must be a name: letters, digits, _ and -"}
                    for k in V.STEP_HARNESS_ONLY}}
        node = table(props, V.SHIM_REQUIRED.get(op, ()))
        if op == "read":
            node["not"] = {"required": ["bytes", "until"],
                           "x-message": "read takes either bytes or until, not both"}
        defs[f"step_{op}"] = node
    return defs


def _personality_defs() -> dict:
    defs = {}
    common = {**{k: kind(v) for k, v in V.PEER_SCRIPT_COMMON.items()},
              **{k: kind(v) for k, v in V.PERSONALITY_COMMON.items()},
              "cipher": {"$ref": "#/$defs/cipher"}}
    for name, fields in V.PERSONALITIES.items():
        defs[f"personality_{name}"] = table(
            {"personality": {"const": name}, **common, **{k: kind(v) for k, v in fields.items()}})
    return defs


def _cipher() -> dict:
    every = [s for suites in V.CIPHERS.values() for s in suites]
    return {"oneOf": [{"enum": every},
                      {"type": "object", "propertyNames": {"enum": list(V.CIPHERS)},
                       "additionalProperties": {"enum": every}}],
            "x-unknown": "must be a cipher suite the peer knows or a table of them keyed by "
                         "TLS version ({allowed})".replace("{allowed}", ", ".join(every))}


def _peer() -> dict:
    actions_script = table({
        "actions": {"type": "array", "minItems": 1, "x-what": "an array of tables",
                    "items": dispatch("do", {a: f"action_{a}" for a in V.PEER_ACTIONS},
                                      "unknown action {value!r} (actions: {allowed})")},
        **{k: kind(v) for k, v in V.PEER_SCRIPT_COMMON.items()},
        **{k: kind(v) for k, v in V.PEER_ACTIONS_SCRIPT.items()},
        "cipher": {"$ref": "#/$defs/cipher"}}, ("actions",))
    return {
        "type": "object", "x-what": "a table",
        "description": "The mock peer's script (docs/peer.md): a personality with its "
                       "parameters, or a list of actions.",
        "oneOf": [{"required": ["personality"], "not": {"required": ["actions"]}},
                  {"required": ["actions"], "not": {"required": ["personality"]}}],
        "x-unknown": "needs personality or actions (one of them, not both)",
        "if": {"required": ["personality"]},
        "then": dispatch("personality",
                         {p: f"personality_{p}" for p in V.PERSONALITIES},
                         "unknown personality {value!r} (known: {allowed})"),
        "else": {"if": {"required": ["actions"]}, "then": actions_script},
    }


def _outcome_pattern() -> dict:
    one = {"type": "string", "x-what": "an outcome or a list of outcomes"}
    return {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}],
            "x-unknown": "must be an outcome or a non-empty list of outcomes"}


def _api_fields() -> dict:
    fields = {
        "ret": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": RET_PATTERN}],
                "x-unknown": "must be an integer or a comparison such as \"<0\" or \"<=0\""},
        "error": {"anyOf": [{"type": "string", "pattern": ERROR_NAME_PATTERN},
                            {"type": "array",
                             "items": {"type": "string", "pattern": ERROR_NAME_PATTERN}}],
                  "x-unknown": "must be an error name such as \"SSL_ERROR_ZERO_RETURN\" (or a "
                               "list of them)"},
        "queue": text(),
        "errno": integer(0, 4095),
    }
    for name in V.API_FIELDS:
        fields.setdefault(name, boolean())
    return {"type": "object", "x-what": "a table of label = {field = value}",
            "additionalProperties": {**table(fields, what="a table of api fields"),
                                     "minProperties": 1,
                                     "x-message": "names no api field"}}


def _group_common() -> dict:
    """What a check group of either level may hold (docs/case-format.md)."""
    return {
        "outcomes": {"type": "object", "x-what": "a table of label = outcome",
                     "additionalProperties": _outcome_pattern()},
        "bytes": {"type": "object", "x-what": "a table of label = byte count",
                  "additionalProperties": integer(0, V.MAX_BYTES)},
        "must": {"type": "array", "items": {"$ref": "#/$defs/event_must"},
                 "x-what": "an array of event patterns"},
        "must_not": {"type": "array", "items": {"$ref": "#/$defs/event_must_not"},
                     "x-what": "an array of event patterns"},
        "peer_expects": string_list(V.PEER_EXPECTS + tuple(V.PEER_ACTIONS)),
        "tls": string_list(V.TLS_VERSIONS),
        "note": text(),
    }


def _rfc_group() -> dict:
    return table({"rule": enum(rules.RULES, "unknown rule {value!r} (rules: {allowed})"),
                  **_group_common()}, ("rule",), what="a table ([[expect.rfc]])")


def _model_group() -> dict:
    flags = table({"sent": boolean(), "received": boolean()}, what="a table of flags")
    wants = {"anyOf": [enum(("want_read", "want_write")),
                       string_list(("want_read", "want_write"))],
             "x-unknown": "must be want_read, want_write or a list of them"}
    statements = string_list([s for s in catalogue.STATEMENTS if s.startswith("S")])
    return table({"statements": statements,
                  "flags": {"type": "object", "x-what": "a table of label = {sent, received}",
                            "additionalProperties": flags},
                  "wants": {"type": "object", "x-what": "a table of label = want",
                            "additionalProperties": wants},
                  **_group_common()}, ("statements",), what="a table ([[expect.model]])")


def _expect() -> dict:
    version = table({"range": text(), "steps": {"$ref": "#/$defs/api_steps"}, "note": text()},
                    ("range", "steps"))
    api = table({"steps": {"$ref": "#/$defs/api_steps"},
                 "versions": {"type": "array", "items": version,
                              "x-what": "an array of tables"}})
    return table({
        "rfc": {"type": "array", "items": _rfc_group(),
                "x-what": "an array of tables ([[expect.rfc]])"},
        "model": {"type": "array", "items": _model_group(),
                  "x-what": "an array of tables ([[expect.model]])"},
        "api": api})


def _probe() -> dict:
    wire_group = table({"rule": enum(rules.RULES, "unknown rule {value!r} (rules: {allowed})"),
                        **{k: v for k, v in _group_common().items()
                           if k in ("must", "must_not", "peer_expects", "tls", "note")}},
                       ("rule",), what="a table ([[probe.rfc]])")
    return table({
        "why": text(),
        "tls": string_list(),
        "roles": string_list(),
        "rfc": {"type": "array", "items": wire_group,
                "x-what": "an array of tables ([[probe.rfc]])"},
    }, ("why",))


def case_schema() -> dict:
    applies = table({"tls": string_list(V.TLS_VERSIONS), "roles": string_list(V.ROLES),
                     "io": string_list(V.IO_MODES), "api": string_list(V.APIS)})
    steps = {"type": "array", "minItems": 1, "x-what": "an array of tables ([[steps]])",
             "items": dispatch("op", {op: f"step_{op}" for op in V.SHIM_OPS},
                               "unknown op {value!r} (ops: {allowed})")}
    props = {
        "id": {"type": "string", "pattern": ID_PATTERN, "x-what": "a string",
               "x-pattern": "must be lower-case words joined by '-' (e.g. peer-closes-first)"},
        "title": text(one_line=True, max_length=120),
        "cites": string_list(catalogue.STATEMENTS),
        "refs": {**string_list(), "items": text(one_line=True)},
        "why": text(),
        "deadline_ms": integer(100, V.MAX_TIMEOUT_MS),
        "applies": applies,
        "peer": _peer(),
        "steps": steps,
        "expect": _expect(),
        "probe": _probe(),
        "unproven": text(),
    }
    return {"$schema": DRAFT, "$id": BASE_URI + "case.schema.json",
            "title": "tlsclose case file (cases/ID.toml)",
            "description": "One scenario: the mock peer's script, the stack's steps and what "
                           "must be observed (docs/case-format.md).",
            **table(props, ("id", "title", "cites", "refs", "why", "peer", "steps", "expect")),
            "$defs": {**_step_defs(), **action_defs(), **_personality_defs(),
                      "event_must": event_pattern(False, True),
                      "event_must_not": event_pattern(False, False),
                      "event_anchor": event_pattern(True, False),
                      "api_steps": _api_fields(), "alert": alert(), "cipher": _cipher()}}


# -- the stack format -------------------------------------------------------------------

def stack_schema() -> dict:
    one_or_list = lambda allowed: {  # noqa: E731  (a value or a list of them)
        "anyOf": [enum(allowed), string_list(allowed)],
        "x-unknown": "must be one of {allowed} or a list of them".replace(
            "{allowed}", ", ".join(allowed))}
    known = table({
        "case": text(), "summary": text(), "evidence": text(),
        "level": enum(V.LEVELS, "must be one of {allowed}, not {value!r}"),
        "severity": enum(V.SEVERITIES, "must be one of {allowed}, not {value!r}"),
        "rule": enum(rules.RULES, "unknown rule {value!r} (rules: {allowed})"),
        "tls": one_or_list(V.TLS_VERSIONS), "io": one_or_list(V.IO_MODES),
        "role": one_or_list(V.ROLES), "versions": text()},
        ("case", "level", "summary", "evidence"))
    props = {
        "name": text(), "title": text(one_line=True),
        "api": {"enum": list(V.APIS), "x-unknown": f"must be one of {', '.join(V.APIS)}"},
        "model": {"enum": list(V.MODELS), "x-unknown": f"must be one of {', '.join(V.MODELS)}",
                  "description": "ssl_shutdown: the stack's API follows SSL_shutdown(3) and "
                                 "model-level checks decide its verdicts; none: they are "
                                 "recorded as differences (default: ssl_shutdown for api = "
                                 "\"openssl\", else none)"},
        "command": string_list(nonempty=True),
        "prefix": string_list(nonempty=False),
        "env": {"type": "object", "x-what": "a table of strings",
                "additionalProperties": {"type": "string", "x-what": "a string"}},
        "transport": {"enum": ["fd", "connect"], "x-unknown": "must be \"fd\" or \"connect\""},
        "tls": string_list(V.TLS_VERSIONS), "roles": string_list(V.ROLES),
        "io": string_list(V.IO_MODES),
        "packages": string_list(nonempty=False),
        "known": {"type": "array", "items": known,
                  "x-what": "an array of tables ([[known]])"},
    }
    # command and prefix words may repeat ("-x", "-x"); only lists of choices may not.
    props["command"].pop("uniqueItems")
    props["prefix"].pop("uniqueItems")
    return {"$schema": DRAFT, "$id": BASE_URI + "stack.schema.json",
            "title": "tlsclose stack file (stacks/SHIM/NAME.toml)",
            "description": "A stack under test: its shim's command and what it can do "
                           "(docs/your-stack.md).",
            **table(props, ("name", "title", "api", "command", "tls", "roles", "io"))}


def build(name: str) -> dict:
    if name in ("scenario", "endpoint"):
        return endpoint_schema.build(name)
    return {"case": case_schema, "stack": stack_schema}[name]()


# -- validating -----------------------------------------------------------------------------

def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


_VALIDATORS: dict = {}


def _validator(name: str):
    if name not in _VALIDATORS:
        import jsonschema
        from jsonschema import validators
        base = jsonschema.Draft202012Validator
        # TOML's integers only: a float such as 1.0 is not an integer here.
        checker = base.TYPE_CHECKER.redefine(
            "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
        kind_ = validators.extend(base, type_checker=checker)
        _VALIDATORS[name] = kind_(build(name))
    return _VALIDATORS[name]


def _allowed(schema: dict) -> str:
    values = schema.get("enum")
    if values is None:
        values = [v for sub in schema.get("oneOf", []) + schema.get("anyOf", [])
                  for v in sub.get("enum", [])]
    return ", ".join(map(str, values))


def _messages(error) -> list[tuple[tuple, str]]:
    """(path, message) pairs for one schema error, in the project's words."""
    path, schema, value = tuple(error.absolute_path), error.schema, error.instance
    kind_ = error.validator
    if kind_ == "additionalProperties" and isinstance(value, dict):
        known = sorted(schema.get("properties", {}))
        return [(path + (k,), f"unknown key (known here: {', '.join(known)})")
                for k in value if k not in schema.get("properties", {})]
    if kind_ == "required" and isinstance(value, dict):
        return [(path + (k,), "missing (required)") for k in error.validator_value
                if k not in value]
    if kind_ == "type":
        return [(path, f"must be {schema.get('x-what', schema['type'])}, "
                       f"not {_type_name(value)}")]
    if kind_ in ("minimum", "maximum"):
        return [(path, f"{value} is out of range {schema.get('minimum')}.."
                       f"{schema.get('maximum')}")]
    if kind_ in ("enum", "const", "oneOf", "anyOf") and "x-unknown" in schema:
        return [(path, schema["x-unknown"].format(value=value, allowed=_allowed(schema)))]
    if kind_ == "pattern":
        return [(path, schema.get("x-pattern", f"does not match {schema['pattern']}"))]
    if kind_ == "minItems":
        return [(path, "must not be empty")]
    if kind_ == "uniqueItems" and isinstance(value, list):
        seen, out = set(), []
        for i, item in enumerate(value):
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                out.append((path + (i,), f"duplicate value {item!r}"))
            seen.add(key)
        return out
    if "x-message" in schema:
        return [(path, schema["x-message"])]
    if kind_ == "not" and "x-message" in error.validator_value:
        return [(path, error.validator_value["x-message"])]
    return [(path, error.message)]


def _leaves(errors) -> Iterable:
    """Errors worth reporting: an if/then or allOf wrapper stands for its
    sub-errors; a oneOf/anyOf with its own message is reported as itself."""
    for error in errors:
        if error.validator in ("oneOf", "anyOf") and "x-unknown" not in error.schema \
                and error.context:
            yield from _leaves(error.context)
        else:
            yield error


_SCHEMA_DIGESTS: dict[str, str] = {}


def _cache_path(document: object, name: str) -> Path | None:
    """Where a document that passed its schema is remembered: a file named
    after the digests of the schema and of the document, under the build
    tree. Validating again gives the same answer, so a document seen before
    skips jsonschema (whose import alone costs more than a short run)."""
    cache = os.environ.get(CACHE_ENV)
    if not cache:
        build = build_dir()
        if not (build / "CMakeCache.txt").is_file():
            return None
        cache = str(build / "validated")
    if name not in _SCHEMA_DIGESTS:
        _SCHEMA_DIGESTS[name] = hashlib.sha256(rendered(name).encode()).hexdigest()
    text = json.dumps(document, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{_SCHEMA_DIGESTS[name]}\0{text}".encode()).hexdigest()
    return Path(cache) / f"{name}-{digest}"


def validate(probs: Problems, document: object, name: str) -> bool:
    """Records the schema violations of document; True when there are none."""
    remembered = _cache_path(document, name)
    if remembered is not None and remembered.exists():
        return True
    found = False
    seen: set = set()
    for error in _leaves(_validator(name).iter_errors(document)):
        for path, message in _messages(error):
            if (path, message) not in seen:
                seen.add((path, message))
                probs.add(path, message)
                found = True
    if not found and remembered is not None:
        try:
            remembered.parent.mkdir(parents=True, exist_ok=True)
            remembered.touch()
        except OSError:
            pass            # a read-only cache only costs time
    return not found


# -- the checked-in files ---------------------------------------------------------------

def rendered(name: str) -> str:
    return json.dumps(build(name), indent=1, ensure_ascii=False) + "\n"


def path_of(name: str) -> Path:
    return SCHEMAS_DIR / f"{name}.schema.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m harness.spec.schema",
                                 description="write or check schemas/*.schema.json")
    ap.add_argument("--write", action="store_true", help="rewrite the files")
    args = ap.parse_args(argv)
    stale = []
    for name in NAMES:
        text_ = rendered(name)
        if args.write:
            path_of(name).parent.mkdir(parents=True, exist_ok=True)
            path_of(name).write_text(text_)
        elif not path_of(name).is_file() or path_of(name).read_text() != text_:
            stale.append(str(path_of(name)))
    if stale:
        print("stale (run python3 -m harness.spec.schema --write): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
