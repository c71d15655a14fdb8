"""Verdicts of endpoint cells: what the endpoint put on the wire and what it
told its user, against the scenario's rules (docs/endpoints.md, "Verdicts").

Contract:
- `judge_client(plan, raw)` and `judge_server(plan, raw, requests, log)`
  return (Judgement, observation). How the processes ended comes first
  (CRASH, TIMEOUT, ERROR, as in harness.run.evaluate); then each [[expect]]
  group of the scenario gives check records (level "rfc", with its rule and
  severity): wire patterns and the peer's expectations like a case's, plus
  - `client`: the client's own report, decided by its endpoint file's
    [verdict]: accepted = an exit status in success_exit and no
    failure_output pattern in its output; the body it delivered (a saved
    file, or the HTTP body on its standard output) is compared with what the
    peer served (the peer's body_sha256 and sent_sha256);
  - `request`: the backend's (or the log pattern's) word on whether the
    request reached the application complete.
  A check nothing can observe (no body, no backend) is left out with a note;
  a cell left with no check at all is a SKIP. Failed checks a [[known]]
  entry of the endpoint file covers are KNOWN.
- The observation (results.json cell "endpoint") says what the endpoint did:
  `wire` (what it sent, in order), `closes_with` (what preceded its FIN or
  reset: "close_notify", an alert name, "nothing", or null if it did not
  close while watched), `answers_close_notify` (after the peer's close_notify,
  whether it sent one; null where that does not apply) and, for a client,
  `accepted` and `report`, for a server `response` and `request`.
- `version_refused(raw)` is the peer's handshake error when it says the
  endpoint offered no common TLS version (then the version is a SKIP).
Pure: reads the records, starts nothing.
"""
from __future__ import annotations

import hashlib
import re

from harness.run import checks as C
from harness.run.endpoint_cells import Plan, Raw
from harness.run.evaluate import Judgement, last_output, peer_finish_error, \
    peer_position, verdict_from_checks
from harness.run.endpoint_server import body_text

VERSION_REFUSED = re.compile(r"protocol version|unsupported protocol|no protocols available|"
                             r"wrong version number|version too low|unsupported_protocol|"
                             r"no shared cipher", re.I)
TIMEOUT_EXIT = 3


# -- how the processes ended ------------------------------------------------------------

def _process_verdict(plan: Plan, raw: Raw) -> Judgement | None:
    if raw.setup_error:
        return Judgement("ERROR", raw.setup_error)
    peer = raw.peer
    if peer.signal and not peer.killed:
        return Judgement("CRASH", f"peer killed by {peer.signal} in {peer_position(peer)}; "
                                  f"last output: {last_output(peer)}")
    if raw.client_signal and not raw.client_killed:
        return Judgement("CRASH", f"{plan.endpoint.name} killed by {raw.client_signal}; its "
                                  f"output: {_tail(raw.client_output)}")
    if peer.killed or peer.returncode == TIMEOUT_EXIT:
        return Judgement("TIMEOUT", f"peer did not finish by the deadline "
                                    f"({plan.scenario.deadline_ms} ms), in {peer_position(peer)}")
    if raw.client_killed:
        return Judgement("TIMEOUT", f"{plan.endpoint.name} did not exit by the deadline "
                                    f"({plan.scenario.deadline_ms} ms); its output: "
                                    f"{_tail(raw.client_output)}")
    return peer_finish_error(peer)


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-400:] or "nothing"


def version_refused(raw: Raw) -> str | None:
    if raw.peer is None:
        return None
    for e in raw.peer.lines:
        if e.get("ev") == "handshake" and e.get("error") and VERSION_REFUSED.search(
                str(e["error"])):
            return str(e["error"])
    return None


# -- what the endpoint put on the wire --------------------------------------------------

def wire_summary(events: list[dict]) -> list[str]:
    """What the endpoint sent, in order: data, alerts, FIN, RST."""
    out: list[str] = []
    for e in events:
        if e.get("dir") != "recv":
            continue
        if e.get("ev") == "record" and e.get("type") == "alert":
            name = e.get("alert", "malformed alert")
            out.append(name if e.get("level") != "fatal" or name == "close_notify"
                       else f"fatal {name}")
        elif e.get("ev") == "record" and e.get("type") == "application_data":
            if not out or out[-1] != "data":
                out.append("data")
        elif e.get("ev") == "tcp":
            out.append({"eof": "FIN", "reset": "RST"}.get(e.get("what"), str(e.get("what"))))
    return out


def closes_with(events: list[dict]) -> str | None:
    """What the endpoint sent last before its FIN or reset."""
    last = "nothing"
    for e in events:
        if e.get("dir") != "recv":
            continue
        if e.get("ev") == "record" and e.get("type") == "alert":
            last = e.get("alert", "malformed alert")
        elif e.get("ev") == "tcp" and e.get("what") in ("eof", "reset"):
            return last
    return None


def answers_close_notify(events: list[dict]) -> bool | None:
    """After the peer's close_notify (when the endpoint had not sent one),
    whether the endpoint sent its own."""
    own_before = False
    for i, e in enumerate(events):
        if e.get("ev") == "record" and e.get("type") == "alert" \
                and e.get("alert") == "close_notify":
            if e.get("dir") == "recv":
                own_before = True
            elif e.get("dir") == "sent":
                if own_before:
                    return None
                return any(x.get("ev") == "record" and x.get("dir") == "recv"
                           and x.get("type") == "alert" and x.get("alert") == "close_notify"
                           for x in events[i + 1:])
    return None


def _http(events: list[dict], direction: str) -> dict | None:
    return next((e for e in events if e.get("ev") == "http" and e.get("dir") == direction),
                None)


# -- what a client told its user --------------------------------------------------------

def _stdout_body(data: bytes) -> bytes | None:
    """The HTTP body in a client's standard output (chunked coding decoded)."""
    start = data.find(b"HTTP/1.")
    head_end = data.find(b"\r\n\r\n", max(start, 0))
    if start < 0 or head_end < 0:
        return None
    head, rest = data[start:head_end].lower(), data[head_end + 4:]
    if b"transfer-encoding: chunked" not in head:
        return rest
    out, at = b"", 0
    while True:
        nl = rest.find(b"\r\n", at)
        if nl < 0:
            return out
        try:
            size = int(rest[at:nl].split(b";")[0], 16)
        except ValueError:
            return out
        if size == 0:
            return out
        out += rest[nl + 2:nl + 2 + size]
        at = nl + 2 + size + 2


def _body_kind(body: bytes, sent: dict) -> tuple[str, str]:
    """(kind, words): what the delivered body is, compared with what was served."""
    digest = hashlib.sha256(body).hexdigest()
    total, sent_n = sent.get("body_bytes", 0), sent.get("body_sent", 0)
    if digest == sent.get("body_sha256"):
        return "whole", f"the whole body ({len(body)} B)"
    if digest == sent.get("sent_sha256"):
        return "sent", f"the {len(body)} B sent of {total} (the cut body)"
    full = body_text(total)
    if full.startswith(body):
        return "prefix", f"{len(body)} B, a prefix of the {total} B body ({sent_n} B were sent)"
    if body.startswith(full):
        return "extra", f"the whole body plus {len(body) - total} B that are not part of it"
    return "other", f"{len(body)} B that are not the body served"


def client_observation(plan: Plan, raw: Raw) -> dict:
    verdict = plan.endpoint.verdict or {}
    output = raw.client_output
    failure = next((p for p in verdict.get("failure_output", []) if re.search(p, output, re.M)),
                   None)
    accepted = raw.client_rc in verdict.get("success_exit", [0]) and failure is None
    why = f"exit {raw.client_rc}" + (f", output matches {failure!r}" if failure else "")
    mode = verdict.get("body", "none")
    body = raw.body if mode == "file" else _stdout_body(raw.client_stdout) \
        if mode == "stdout" else None
    sent = _http(raw.peer.lines, "sent") or {}
    obs = {"accepted": accepted, "exit": raw.client_rc, "body": None, "body_bytes": None}
    if accepted and body is not None and sent:
        obs["body"], words = _body_kind(body, sent)
        obs["body_bytes"] = len(body)
        obs["report"] = f"accepted ({why}), delivered {words}"
    elif accepted:
        obs["report"] = f"accepted ({why})" + ("" if mode == "none" else ", saved no body")
    else:
        said = raw.client_stderr if raw.client_stderr.strip() else output
        obs["report"] = f"rejected ({why}: {_tail(said, 2)})"
    return obs


def _client_record(want: str, obs: dict) -> dict | None:
    accepted, kind = obs["accepted"], obs["body"]
    if want == "reject":
        return C.record("rfc", None, "the client reports the response incomplete", "rejected",
                        obs["report"], not accepted)
    if want == "accept":
        # "extra" holds the whole body too: what came after it is exact-body's business.
        ok = accepted and kind in (None, "whole", "extra")
        return C.record("rfc", None, "the client takes the whole response", "accepted with "
                        "the whole body", obs["report"], ok)
    if accepted and kind is None:
        return None                                  # exact-body: nothing to compare
    return C.record("rfc", None, "what the client delivers is exactly the body served",
                    "the whole body and nothing else (or a reported failure)", obs["report"],
                    not accepted or kind == "whole")


# -- what reached a server's application ------------------------------------------------

def request_observation(plan: Plan, requests: list[dict] | None, log: str | None) -> dict:
    """requests: the backend's events of this cell (None: no backend);
    log: the server's output during the cell, for a request_log pattern."""
    pattern = (plan.endpoint.server or {}).get("request_log")
    if requests is not None:
        complete = [r for r in requests if r.get("complete")]
        if complete:
            r = complete[0]
            text = f"reached the backend complete ({r.get('framing')}, {r.get('body')} B)"
        elif requests:
            r = requests[-1]
            text = (f"reached the backend incomplete ({r.get('framing')}, {r.get('body')} B, "
                    f"ended by {r.get('ended_by')})")
        else:
            text = "never reached the backend"
        return {"complete": bool(complete), "request": text}
    if pattern and log is not None:
        m = re.search(pattern, log, re.M)
        return {"complete": bool(m), "request": f"log line {m.group(0)!r}" if m
                else f"no log line matches {pattern!r}"}
    return {"complete": None, "request": "not observable (no backend, no log pattern)"}


def _request_record(obs: dict) -> dict | None:
    if obs["complete"] is None:
        return None
    return C.record("rfc", None, "the request reaches the application incomplete or not at all",
                    "not complete", obs["request"], not obs["complete"])


# -- putting it together ------------------------------------------------------------------

def _group_records(plan: Plan, group: dict, events: list[dict], client: dict | None,
                   request: dict | None, notes: list[str]) -> list[dict]:
    if plan.tls not in group["tls"]:
        return []
    out = [C.wire_check(p, events, True) for p in group["must"]]
    out += [C.wire_check(p, events, False) for p in group["must_not"]]
    out += [C.expect_check(e) for e in events
            if e.get("ev") == "expect" and e.get("what") in group["peer_expects"]]
    for key, obs, make in (("client", client, _client_record),
                           ("request", request, _request_record)):
        if group.get(key) and obs is not None:
            rec = make(group[key], obs) if key == "client" else make(obs)
            if rec is None:
                notes.append(f"{group['rule']}: {key} check not observable here "
                             f"({obs.get('report') or obs.get('request')})")
            else:
                out.append(rec)
    for rec in out:
        rec.update(rule=group["rule"], severity=group["severity"])
    return out


def _apply_known(plan: Plan, checks: list[dict]) -> list[str]:
    entries = [k for k in plan.endpoint.known
               if k.covers_cell(plan.scenario.id, plan.tls, "endpoint", plan.endpoint.role, None)]
    used = set()
    for check in checks:
        if check["ok"]:
            continue
        entry = next((k for k in entries if k.covers_check(check)), None)
        if entry:
            check.update(known=True, known_summary=entry.summary)
            used.add(entry.number)
    return [f"known deviation #{k.number} of {plan.endpoint.file} ({k.summary}) is listed for "
            f"this cell but did not occur" for k in entries if k.number not in used]


def _verdict(plan: Plan, events: list[dict], client: dict | None, request: dict | None,
             notes: list[str]) -> Judgement:
    checks = [rec for g in plan.scenario.expect
              for rec in _group_records(plan, g, events, client, request, notes)]
    if not checks:
        return Judgement("SKIP", "nothing this endpoint shows is checked by this scenario: "
                         + "; ".join(notes), [], notes)
    notes += _apply_known(plan, checks)
    return verdict_from_checks(checks, notes)


def _observation(events: list[dict]) -> dict:
    return {"wire": wire_summary(events), "closes_with": closes_with(events),
            "answers_close_notify": answers_close_notify(events)}


def judge_client(plan: Plan, raw: Raw) -> tuple[Judgement, dict]:
    broken = _process_verdict(plan, raw)
    if broken:
        return broken, {}
    events = raw.peer.lines
    obs = {**_observation(events), **client_observation(plan, raw)}
    j = _verdict(plan, events, obs, None, [])
    if j.verdict in ("PASS", "FAIL", "KNOWN"):
        j.reason = f"{obs['report']}; sent {', '.join(obs['wire']) or 'nothing'}; {j.reason}"
    return j, obs


def judge_server(plan: Plan, raw: Raw, requests: list[dict] | None,
                 log: str | None) -> tuple[Judgement, dict]:
    broken = _process_verdict(plan, raw)
    if broken:
        return broken, {}
    events = raw.peer.lines
    got = _http(events, "recv")
    response = "no response" if got is None or got.get("status") is None else (
        f"{got.get('status')} {got.get('framing')}, {got.get('body')} B, "
        f"{'complete' if got.get('complete') else 'incomplete'}")
    req = request_observation(plan, requests, log)
    obs = {**_observation(events), "response": response, **req}
    j = _verdict(plan, events, None, req, [])
    if j.verdict in ("PASS", "FAIL", "KNOWN"):
        j.reason = f"{response}; sent {', '.join(obs['wire']) or 'nothing'}; {j.reason}"
    return j, obs


def exchange_worked(plan: Plan, raw: Raw, obs: dict) -> bool:
    """The preflight's question: did the plain exchange work at all?"""
    if plan.endpoint.role == "client":
        return bool(obs.get("accepted")) and obs.get("body") in (None, "whole")
    return any(e.get("ev") == "expect" and e.get("what") == "http_response" and e.get("ok")
               for e in raw.peer.lines)
