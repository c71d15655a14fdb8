"""The report's Endpoints section: read from results.json alone, cells
grouped by rule, never under SSL_shutdown(3) statements."""
from __future__ import annotations

from reports import endpoints as E
from reports import html, model


def document() -> dict:
    check = {"level": "rfc", "rule": "http-close-delimited-needs-closure-alert",
             "severity": "security", "what": "the client reports the response incomplete",
             "expected": "rejected", "actual": "accepted (exit 0)", "ok": False, "known": True,
             "known_summary": "takes a FIN as the end"}
    cell = {"id": "client-close-delimited-complete-fin/curl/tls1.3/endpoint/client",
            "case": "client-close-delimited-complete-fin", "stack": "curl", "tls": "1.3",
            "io": "endpoint", "role": "client", "verdict": "KNOWN", "reason": "known",
            "checks": [check], "endpoint": {"wire": ["data", "close_notify", "FIN"]}}
    answers = {"sends_close_notify": {"text": "always (12 of 12)"},
               "answers_close_notify": {"text": "always (8 of 8)"},
               "after_truncation": {"text": "close_notify (15)"},
               "truncation": {"content-length": {"text": "yes (5 of 5)"},
                              "chunked": {"text": "yes (6 of 6)"},
                              "close-delimited": {"text": "1 of 7; takes as complete: x"}},
               "data_after_close_notify": {"text": "no (2 of 2 ignored)"},
               "complete_responses": {"text": "yes (8 of 8)"}}
    finding = {"stack": "curl", "level": "rfc", "rule": check["rule"], "cite": "RFC 9112 §9.8",
               "severity": "security", "statements": None, "what": "takes a FIN as the end",
               "known": True, "cells": 1, "cases": [cell["case"]], "command": "./tlsclose x",
               "example": cell["id"]}
    return {"format": model.FORMAT, "tool": {"name": "tlsclose"}, "statements": {}, "rules": {
                check["rule"]: {"ref": "RFC 9112 §9.8, §8", "key": "MUST",
                                "severity": "security", "quote": "complete only if ..."}},
            "stacks": {"curl": {"title": "curl", "endpoint": "client", "library": "curl 7.88.1",
                                "available": True}},
            "cases": {cell["case"]: {"title": "t", "cites": [], "endpoint": "client"}},
            "findings": [finding], "cells": [cell],
            "endpoints": {"curl": {"role": "client", "title": "curl", "version": "curl 7.88.1",
                                   "available": True, "answers": answers, "findings": [0],
                                   "command": "./tlsclose endpoints --endpoint curl"}}}


def test_section_model_groups_cells_by_rule():
    view = E.build(document())
    assert [r["name"] for r in view["clients"]] == ["curl"] and view["servers"] == []
    assert view["clients"][0]["truncation"]["close-delimited"].startswith("1 of 7")
    group = view["rules"][0]
    assert group["rule"] == "http-close-delimited-needs-closure-alert"
    assert group["cells"][0]["verdict"] == "KNOWN" and group["cells"][0]["index"] == 0


def test_page_has_the_endpoints_section_and_no_matrix():
    page = html.render(document())
    assert 'id="endpoints"' in page and "always (12 of 12)" in page
    assert "./tlsclose endpoints --endpoint curl" in page
    assert 'id="matrix-section"' not in page and 'id="traceability"' not in page


def test_no_section_without_endpoints():
    doc = document()
    del doc["endpoints"]
    assert E.build(doc) is None
