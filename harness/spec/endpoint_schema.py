"""The JSON Schemas of the endpoint formats (docs/endpoints.md): scenario
files (endpoints/scenarios/*.toml) and endpoint files (endpoints/*.toml).

Contract: `build(name)` returns the schema of "scenario" or "endpoint" as a
dict, from the same vocabulary and building blocks as the case and stack
schemas (harness.spec.schema, which lists these names too, writes them under
schemas/ and validates with them). What a schema cannot express (the id that
names the file, a client's [verdict] and a server's [server] table, the
placeholders a command may use) is checked by the loaders.
"""
from __future__ import annotations

from harness.base import vocabulary as V
from harness.spec import rules
from harness.spec import schema_blocks as S

DRAFT = S.DRAFT
BASE_URI = S.BASE_URI


def _rule() -> dict:
    return S.enum(rules.RULES, "unknown rule {value!r} (rules: {allowed})")


def _group() -> dict:
    """One [[expect]] group: a rule and the checks that stand for it."""
    return S.table({
        "rule": _rule(),
        "client": S.enum(V.CLIENT_EXPECTS, "must be one of {allowed}, not {value!r}"),
        "request": S.enum(V.SERVER_REQUEST_EXPECTS, "must be one of {allowed}, not {value!r}"),
        "must": {"type": "array", "items": {"$ref": "#/$defs/event_must"},
                 "x-what": "an array of event patterns"},
        "must_not": {"type": "array", "items": {"$ref": "#/$defs/event_must_not"},
                     "x-what": "an array of event patterns"},
        "peer_expects": S.string_list(V.PEER_EXPECTS + tuple(V.PEER_ACTIONS)),
        "tls": S.string_list(V.TLS_VERSIONS),
        "note": S.text(),
    }, ("rule",), what="a table ([[expect]])")


def _peer() -> dict:
    actions = {"type": "array", "minItems": 1, "x-what": "an array of tables",
               "items": S.dispatch("do", {a: f"action_{a}" for a in V.PEER_ACTIONS},
                                   "unknown action {value!r} (actions: {allowed})")}
    return S.table({"actions": actions}, ("actions",),
                   what="a table (the mock peer's actions, docs/peer.md)")


def scenario_schema() -> dict:
    props = {
        "id": {"type": "string", "pattern": S.ID_PATTERN, "x-what": "a string",
               "x-pattern": "must be lower-case words joined by '-'"},
        "title": S.text(one_line=True, max_length=120),
        "endpoint": S.enum(V.ROLES, "must be one of {allowed}, not {value!r}"),
        "question": S.enum(V.SCENARIO_QUESTIONS, "must be one of {allowed}, not {value!r}"),
        "framing": S.enum(V.HTTP_FRAMING_NAMES, "must be one of {allowed}, not {value!r}"),
        "refs": {**S.string_list(), "items": S.text(one_line=True)},
        "why": S.text(),
        "tls": S.string_list(V.TLS_VERSIONS),
        "preflight": S.boolean(),
        "deadline_ms": S.integer(1000, V.MAX_TIMEOUT_MS),
        "peer": _peer(),
        "expect": {"type": "array", "items": _group(), "minItems": 1,
                   "x-what": "an array of tables ([[expect]])"},
    }
    return {"$schema": DRAFT, "$id": BASE_URI + "scenario.schema.json",
            "title": "tlsclose endpoint scenario (endpoints/scenarios/ID.toml)",
            "description": "One HTTP/1.1 exchange between the mock peer and a real endpoint, "
                           "and the rules it checks (docs/endpoints.md).",
            **S.table(props, ("id", "title", "endpoint", "question", "refs", "why", "peer",
                              "expect")),
            "$defs": {**S.action_defs(),
                      "event_must": S.event_pattern(False, True),
                      "event_must_not": S.event_pattern(False, False),
                      "event_anchor": S.event_pattern(True, False),
                      "alert": S.alert()}}


def _words() -> dict:
    node = S.string_list(nonempty=True)
    node.pop("uniqueItems")               # words may repeat ("-x", "-x")
    return node


def _verdict() -> dict:
    return S.table({
        "success_exit": {"type": "array", "items": S.integer(0, 255), "minItems": 1,
                         "x-what": "an array of exit statuses"},
        "failure_output": S.string_list(),
        "body": S.enum(V.CLIENT_BODY, "must be one of {allowed}, not {value!r}"),
    }, ("success_exit", "body"), what="a table ([verdict])")


def _server() -> dict:
    return S.table({
        "listen": S.enum(V.SERVER_LISTEN, "must be one of {allowed}, not {value!r}"),
        "port": S.enum(V.SERVER_PORT, "must be one of {allowed}, not {value!r}"),
        "ready": S.text(),
        "config_file": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,64}$",
                        "x-what": "a string", "x-pattern": "must be a plain file name"},
        "config": S.text(),
        "backend": S.boolean(),
        "paths": S.table({"get": S.text(one_line=True), "post": S.text(one_line=True)},
                         what="a table of method = path"),
        "request_log": S.text(),
    }, ("listen",), what="a table ([server])")


def _known() -> dict:
    one_or_list = {"anyOf": [S.enum(V.TLS_VERSIONS), S.string_list(V.TLS_VERSIONS)],
                   "x-unknown": "must be one of 1.2, 1.3 or a list of them"}
    return S.table({
        "scenario": S.text(), "rule": _rule(),
        "severity": S.enum(V.SEVERITIES, "must be one of {allowed}, not {value!r}"),
        "tls": one_or_list, "summary": S.text(), "evidence": S.text()},
        ("scenario", "severity", "summary", "evidence"), what="a table ([[known]])")


def endpoint_schema() -> dict:
    props = {
        "name": S.text(), "title": S.text(one_line=True),
        "role": S.enum(V.ROLES, "must be one of {allowed}, not {value!r}"),
        "packages": S.string_list(nonempty=False),
        "programs": S.string_list(nonempty=False),
        "version": _words(),
        "command": _words(),
        "stdin": S.text(),
        "stdin_eof": S.boolean(),
        "env": {"type": "object", "x-what": "a table of strings",
                "additionalProperties": {"type": "string", "x-what": "a string"}},
        "tls": S.string_list(V.TLS_VERSIONS),
        "verdict": _verdict(),
        "server": _server(),
        "known": {"type": "array", "items": _known(), "x-what": "an array of tables ([[known]])"},
    }
    return {"$schema": DRAFT, "$id": BASE_URI + "endpoint.schema.json",
            "title": "tlsclose endpoint file (endpoints/NAME.toml)",
            "description": "A real TLS client or server the tool starts, and how it tells its "
                           "user what happened (docs/endpoints.md).",
            **S.table(props, ("name", "title", "role", "version", "command"))}


def build(name: str) -> dict:
    return {"scenario": scenario_schema, "endpoint": endpoint_schema}[name]()
