"""The check records of one cell: each expectation of the case compared with
what the shim and the peer printed (docs/case-format.md, "Levels").

Contract: `cell_checks(case, tls, lines, events, library, with_api)` returns
one record per expectation that applies to a cell of TLS version `tls`:
  {"level": "rfc"|"model"|"api", "step": N|None, "what", "expected", "actual",
   "ok": bool, "known": False, ...}
with, for rfc checks, "rule" and "severity" (harness.spec.rules), and for
model checks "statements". `lines` are the shim's step lines by step number,
`events` the peer's transcript. A group whose `tls` excludes the cell's
version gives no record. A peer `expect` event is a check only of the groups
that name its `what` in `peer_expects`; `unclaimed_expects` lists the unmet
ones no group claims (shown as notes, never a check). Pure functions: no
files, no processes, nothing raised on odd recorded data.
"""
from __future__ import annotations

from harness.base import versions
from harness.spec import patterns as P
from harness.spec.case import Case


def _is_int(value: object) -> bool:
    # JSON true/false are Python bools, which are ints too: a shim that
    # printed "ret": false did not return 0.
    return isinstance(value, int) and not isinstance(value, bool)


def record(level: str, step: int | None, what: str, expected: object, actual: object,
           ok: bool) -> dict:
    return {"level": level, "step": step, "what": what, "expected": expected, "actual": actual,
            "ok": bool(ok), "known": False}


def wire_check(pattern: dict, events: list[dict], must: bool, level: str = "rfc") -> dict:
    seen, where = P.window(pattern, events)
    verb = "has" if must else "has no"
    what = f"peer transcript {verb} {P.describe(pattern)}{where}"
    if seen is None:
        return record(level, None, what, "seen" if must else "none", "anchor never seen",
                      not must)
    hits = [e for e in seen if P.event_matches(pattern, e)]
    if not must:
        actual = P.summarize_event(hits[0]) if hits else "none"
        return record(level, None, what, "none", actual, not hits)
    if "count" in pattern:
        return record(level, None, what, {"count": pattern["count"]}, {"count": len(hits)},
                      len(hits) == pattern["count"])
    return record(level, None, what, "seen", P.summarize_event(hits[0]) if hits else "not seen",
                  bool(hits))


def expect_check(event: dict, level: str = "rfc") -> dict:
    ok = event.get("ok") is True
    return record(level, None, f"peer expectation {event.get('what')}", True,
                  True if ok else event.get("detail", False), ok)


def _step_checks(level: str, case: Case, group: dict, lines: dict[int, dict]) -> list[dict]:
    out = []
    for label, pattern in group.get("outcomes", {}).items():
        n = case.labels[label]
        actual = lines.get(n, {}).get("outcome")
        out.append(record(level, n, f"{case.step_desc(n)} outcome", pattern, actual,
                          P.outcome_matches(pattern, actual)))
    for label, want in group.get("bytes", {}).items():
        n = case.labels[label]
        have = lines.get(n, {}).get("bytes")
        out.append(record(level, n, f"{case.step_desc(n)} bytes", want, have,
                          _is_int(have) and have == want))
    return out


def _model_step_checks(case: Case, group: dict, lines: dict[int, dict]) -> list[dict]:
    """SENT/RECEIVED as the library reports them, and the wants a step saw."""
    out = []
    for label, want in group.get("flags", {}).items():
        n = case.labels[label]
        flags = lines.get(n, {}).get("flags")
        for name, value in want.items():
            have = flags.get(name) if isinstance(flags, dict) else None
            out.append(record("model", n, f"{case.step_desc(n)} {name} flag", value, have,
                              have is value))
    for label, wanted in group.get("wants", {}).items():
        n = case.labels[label]
        seen = lines.get(n, {}).get("wants") or []
        for want in wanted:
            out.append(record("model", n, f"{case.step_desc(n)} wants", f"includes {want}",
                              seen, want in seen))
    return out


def group_checks(level: str, case: Case, group: dict, tls: str, lines: dict[int, dict],
                 events: list[dict]) -> list[dict]:
    if tls not in group["tls"]:
        return []
    checks = _step_checks(level, case, group, lines)
    if level == "model":
        checks += _model_step_checks(case, group, lines)
    checks += [wire_check(p, events, True, level) for p in group.get("must", [])]
    checks += [wire_check(p, events, False, level) for p in group.get("must_not", [])]
    claimed = group.get("peer_expects", ())
    checks += [expect_check(e, level) for e in events
               if e.get("ev") == "expect" and e.get("what") in claimed]
    tag = {"rule": group["rule"], "severity": group["severity"]} if level == "rfc" \
        else {"statements": list(group["statements"])}
    for check in checks:
        check.update(tag)
    return checks


def unclaimed_expects(case: Case, tls: str, events: list[dict]) -> list[str]:
    claimed = {w for g in case.expect_rfc + case.expect_model if tls in g["tls"]
               for w in g["peer_expects"]}
    return [f"peer expectation {e.get('what')} unmet ({e.get('detail', 'no detail')}); no "
            f"check of this case is about it" for e in events
            if e.get("ev") == "expect" and e.get("ok") is not True
            and e.get("what") not in claimed]


def api_expectations(case: Case, library: str | None) -> dict[str, dict]:
    """The api table for this library version: the base steps, overridden
    field by field by every version entry whose range contains it.

    The ranges are OpenSSL release numbers (the contract is SSL_shutdown(3)),
    so they apply only to a library that reports itself as OpenSSL: wolfSSL
    5.5 is not "OpenSSL >= 3.0". Other libraries get the base table."""
    api = case.expect_api
    merged = {label: dict(fields) for label, fields in api.get("steps", {}).items()}
    is_openssl = bool(library) and library.split()[0] == "OpenSSL"
    version = versions.library_version(library) if is_openssl else None
    for entry in api.get("versions", []):
        if versions.in_range(version, entry["range"]):
            for label, fields in entry["steps"].items():
                merged.setdefault(label, {}).update(fields)
    return merged


def _compare_ret(want: object, have: object) -> bool:
    if not _is_int(have):
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
    have = native.get("errno")
    return have, _is_int(have) and have == want


def api_checks(case: Case, lines: dict[int, dict], library: str | None) -> list[dict]:
    out = []
    for label, fields in api_expectations(case, library).items():
        n = case.labels[label]
        for field, want in fields.items():
            have, ok = _api_field(field, want, lines.get(n, {}))
            out.append(record("api", n, f"{case.step_desc(n)} {field}", want, have, ok))
    return out


def cell_checks(case: Case, tls: str, lines: dict[int, dict], events: list[dict],
                library: str | None, with_api: bool) -> list[dict]:
    checks = []
    for group in case.expect_rfc:
        checks += group_checks("rfc", case, group, tls, lines, events)
    for group in case.expect_model:
        checks += group_checks("model", case, group, tls, lines, events)
    if with_api:
        checks += api_checks(case, lines, library)
    return checks
