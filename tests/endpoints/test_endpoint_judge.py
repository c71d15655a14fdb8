"""Verdicts of endpoint cells from synthetic records: what the client told its
user, what reached a server's backend, the wire, KNOWN entries, repeats."""
from __future__ import annotations

import hashlib

import pytest

from support.build import ROOT
from harness.output import endpoint_table
from harness.run import endpoint_judge as J
from harness.run.endpoint_cells import Plan, Raw, script_for
from harness.run.endpoint_run import combine
from harness.run.endpoint_server import body_text
from harness.run.processes import ProcessResult
from harness.spec.endpoint import load_endpoint
from harness.spec.scenario import load_scenario

SCEN = ROOT / "endpoints" / "scenarios"
FULL = body_text(100000)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def peer(events: list[dict]) -> ProcessResult:
    return ProcessResult(["peer"], 0, None, [*events, {"ev": "end", "status": "ok"}], [], "",
                         False)


def sent_response(body_sent: int) -> dict:
    return {"ev": "http", "dir": "sent", "what": "response", "framing": "close-delimited",
            "body_bytes": 100000, "body_sent": body_sent, "body_sha256": sha(FULL),
            "sent_sha256": sha(FULL[:body_sent])}


def rec(direction: str, alert: str | None = None) -> dict:
    if alert:
        return {"ev": "record", "dir": direction, "type": "alert", "alert": alert,
                "level": "warning"}
    return {"ev": "record", "dir": direction, "type": "application_data"}


def tcp(direction: str, what: str) -> dict:
    return {"ev": "tcp", "dir": direction, "what": what}


@pytest.fixture
def curl(write):
    """curl's endpoint file without its [[known]] entries."""
    text = (ROOT / "endpoints" / "curl.toml").read_text().split("[[known]]")[0]
    return load_endpoint(write("curl.toml", text))


def plan(endpoint, scenario_id: str, tls: str = "1.3") -> Plan:
    return Plan(load_scenario(SCEN / f"{scenario_id}.toml"), endpoint, tls, 7)


CUT = "client-close-delimited-cut-mid-body-fin"


def test_cut_response_accepted_is_a_security_fail(curl):
    events = [rec("recv"), sent_response(50000), rec("sent"), tcp("sent", "fin"),
              rec("recv", "close_notify"), tcp("recv", "eof")]
    raw = Raw(peer(events), client_rc=0, body=FULL[:50000])
    j, obs = J.judge_client(plan(curl, CUT), raw)
    assert j.verdict == "FAIL"
    bad = [c for c in j.checks if not c["ok"]]
    assert [(c["rule"], c["severity"]) for c in bad] == [
        ("http-close-delimited-needs-closure-alert", "security")]
    assert "delivered the 50000 B sent of 100000 (the cut body)" in bad[0]["actual"]
    assert obs["closes_with"] == "close_notify" and obs["wire"] == ["data", "close_notify", "FIN"]


def test_cut_response_rejected_passes_and_a_bare_fin_is_interop(curl):
    events = [rec("recv"), sent_response(50000), tcp("sent", "fin"), tcp("recv", "eof")]
    raw = Raw(peer(events), client_rc=18, client_stderr="curl: (18) transfer closed",
              client_output="curl: (18) transfer closed", body=FULL[:50000])
    j, obs = J.judge_client(plan(curl, CUT), raw)
    assert j.verdict == "FAIL"
    bad = [c for c in j.checks if not c["ok"]]
    assert [c["rule"] for c in bad] == ["close-notify-before-closing-write"]
    assert obs["report"].startswith("rejected (exit 18: curl: (18) transfer closed")
    assert obs["closes_with"] == "nothing"


def test_failure_output_pattern_rejects_despite_exit_zero(write):
    text = (ROOT / "endpoints" / "curl.toml").read_text().split("[[known]]")[0].replace(
        "success_exit = [0]", 'success_exit = [0]\nfailure_output = ["(?i)truncat"]')
    ep = load_endpoint(write("curl.toml", text))
    events = [rec("recv"), sent_response(50000), tcp("sent", "fin"),
              rec("recv", "close_notify"), tcp("recv", "eof")]
    raw = Raw(peer(events), client_rc=0, client_output="warning: TRUNCATED body")
    j, obs = J.judge_client(plan(ep, CUT), raw)
    assert j.verdict == "PASS" and obs["accepted"] is False
    assert "output matches '(?i)truncat'" in obs["report"]


def test_data_after_close_notify_delivered_as_body(curl):
    p = plan(curl, "client-close-delimited-close-notify-then-data")
    events = [rec("recv"), sent_response(100000), rec("sent", "close_notify"), rec("sent"),
              tcp("sent", "fin"), rec("recv", "close_notify"), tcp("recv", "eof")]
    extra = FULL + bytes(range(100))
    j, obs = J.judge_client(p, Raw(peer(events), client_rc=0, body=extra))
    failed = {c["rule"] for c in j.checks if not c["ok"]}
    assert failed == {"data-after-closure-alert-ignored"} and obs["body"] == "extra"
    j, obs = J.judge_client(p, Raw(peer(events), client_rc=0, body=FULL))
    assert j.verdict == "PASS" and obs["answers_close_notify"] is True


def test_known_entry_makes_it_known(write):
    text = (ROOT / "endpoints" / "curl.toml").read_text().split("[[known]]")[0] + """
[[known]]
scenario = "client-close-delimited-*"
rule = "http-close-delimited-needs-closure-alert"
severity = "security"
summary = "takes a FIN as the end of the body"
evidence = "test"
"""
    ep = load_endpoint(write("curl.toml", text))
    events = [rec("recv"), sent_response(50000), tcp("sent", "fin"),
              rec("recv", "close_notify"), tcp("recv", "eof")]
    j, _ = J.judge_client(plan(ep, CUT), Raw(peer(events), client_rc=0, body=FULL[:50000]))
    assert j.verdict == "KNOWN" and "takes a FIN as the end of the body" in j.reason


def test_stdout_body_is_decoded(write):
    chunked = (b"junk before\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert J._stdout_body(chunked) == b"hello world"
    assert J._stdout_body(b"HTTP/1.0 200 ok\r\n\r\nabc") == b"abc"
    assert J._stdout_body(b"no http here") is None


def test_client_that_hangs_is_a_timeout(curl):
    raw = Raw(peer([rec("recv")]), client_rc=None, client_killed=True, client_output="...")
    j, _ = J.judge_client(plan(curl, CUT), raw)
    assert j.verdict == "TIMEOUT" and "did not exit by the deadline" in j.reason


def test_version_refusal_is_recognised():
    raw = Raw(ProcessResult([], 4, None, [{"ev": "handshake", "conn": 1, "error":
              "handshake: error:0A00042E:SSL routines::tlsv1 alert protocol version"}], [], "",
              False))
    assert "protocol version" in J.version_refused(raw)
    assert J.version_refused(Raw(peer([]))) is None


@pytest.fixture
def haproxy():
    return load_endpoint(ROOT / "endpoints" / "haproxy.toml")


def test_server_request_from_the_backend(haproxy):
    p = plan(haproxy, "server-post-content-length-cut-mid-body-fin")
    events = [rec("sent"), tcp("sent", "fin"), rec("recv", "close_notify"), tcp("recv", "eof")]
    complete = [{"ev": "request", "target": "/upload?cell=7", "framing": "content-length",
                 "body": 10000, "complete": True}]
    j, obs = J.judge_server(p, Raw(peer(events)), complete, "")
    assert j.verdict == "FAIL" and obs["request"].startswith("reached the backend complete")
    assert [c["rule"] for c in j.checks if not c["ok"]] == ["http-incomplete-request-not-complete"]
    j, obs = J.judge_server(p, Raw(peer(events)), [], "")
    assert j.verdict == "PASS" and obs["request"] == "never reached the backend"


def test_server_without_backend_skips_what_it_cannot_see():
    ep = load_endpoint(ROOT / "endpoints" / "openssl-s-server.toml")
    j, obs = J.judge_server(plan(ep, "server-post-content-length-cut-mid-body-rst"),
                            Raw(peer([rec("sent"), tcp("sent", "rst")])), None, "")
    assert j.verdict == "SKIP" and "not observable" in j.reason


def test_script_targets_are_the_endpoints(haproxy):
    p = plan(haproxy, "server-get-complete")
    actions = script_for(p)["actions"]
    assert actions[0]["target"] == "/?cell=7"
    ep = load_endpoint(ROOT / "endpoints" / "openssl-s-server.toml")
    assert script_for(plan(ep, "server-get-complete"))["actions"][0]["target"] == "/index.txt"


def test_repeats_that_differ_are_flaky():
    runs = [{"verdict": v, "reason": v.lower(), "id": "x"} for v in ("PASS", "FAIL", "PASS")]
    out = combine(runs)
    assert out["verdict"] == "FAIL" and out["flaky"] and out["repeats"] == ["PASS", "FAIL", "PASS"]
    assert out["reason"].startswith("FLAKY: verdicts over 3 runs: PASS, FAIL, PASS")
    same = combine([{"verdict": "PASS", "reason": "", "id": "x"}] * 2)
    assert same["flaky"] is False
    found = endpoint_table.flaky_findings([dict(out, stack="e", case="c", tls="1.3",
                                                command="cmd")])
    assert found[0]["level"] == "flaky" and found[0]["command"] == "cmd --repeat 3"


def test_table_answers():
    def cell(case, tls, closes, answers, rule_ok, question):
        return {"case": case, "tls": tls, "verdict": "PASS" if rule_ok else "FAIL",
                "stack": "x", "endpoint": {"closes_with": closes, "answers_close_notify": answers},
                "checks": [{"rule": "http-close-delimited-needs-closure-alert", "ok": rule_ok}]
                if question == "truncation" else []}
    scenarios = {"a": {"question": "baseline"},
                 "t": {"question": "truncation", "framing": "close-delimited"}}
    cells = [cell("a", "1.2", "close_notify", True, True, "baseline"),
             cell("a", "1.3", "nothing", False, True, "baseline"),
             cell("t", "1.2", "decode_error", None, True, "truncation"),
             cell("t", "1.3", "decode_error", None, False, "truncation")]
    a = endpoint_table.answers("client", cells, scenarios)
    assert a["sends_close_notify"]["text"] == "1 of 2; otherwise nothing (1)"
    assert a["after_truncation"]["text"] == "decode_error (2)"
    assert a["answers_close_notify"]["text"] == "1 of 2"
    assert a["truncation"]["close-delimited"]["text"] == "1 of 2; takes as complete: t (TLS 1.3)"
    assert a["truncation"]["content-length"]["text"] == "not observed"
