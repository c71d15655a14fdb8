"""Endpoint and scenario files: the shipped ones validate, mistakes are
reported as file:line: field: problem, and the CMake list names every file."""
from __future__ import annotations

import re

import pytest

from support.build import ROOT
from harness.base.problems import InvalidInput
from harness.spec import schema
from harness.spec.endpoint import load_endpoint, load_endpoints
from harness.spec.scenario import load_scenario, load_scenarios

CLIENT = """\
name = "{name}"
title = "a client"
role = "client"
version = ["true"]
command = ["true", "{{url}}", "{{body}}"]

[verdict]
success_exit = [0]
body = "file"
"""

SCENARIO = """\
id = "{id}"
title = "a scenario"
endpoint = "client"
question = "truncation"
framing = "content-length"
refs = ["RFC 9112 §8"]
why = "because"

[peer]
actions = [{{do = "http_read_request"}},
           {{do = "http_send_response", cut = "mid-body", body_bytes = 10}},
           {{do = "fin"}}, {{do = "close"}}]

[[expect]]
rule = "http-incomplete-response-not-complete"
client = "reject"
"""


def problems(load, path) -> list[str]:
    with pytest.raises(InvalidInput) as exc:
        load(path)
    return [str(p) for p in exc.value.problems]


def test_shipped_files_validate():
    scenarios = load_scenarios(ROOT / "endpoints" / "scenarios", ROOT)
    endpoints = load_endpoints(ROOT / "endpoints", ROOT, scenarios)
    roles = {e.role for e in endpoints}
    assert roles == {"client", "server"}
    assert sum(e.role == "client" for e in endpoints) >= 9
    assert sum(e.role == "server" for e in endpoints) >= 7
    assert [s.id for s in scenarios if s.preflight] == [
        "client-content-length-complete-close-notify", "server-get-complete"]


def test_every_endpoint_file_has_a_ctest_entry():
    text = (ROOT / "endpoints" / "CMakeLists.txt").read_text()
    listed = set(re.search(r"set\(TLSCLOSE_ENDPOINTS(.*?)\)", text, re.S).group(1).split())
    files = {p.stem for p in (ROOT / "endpoints").glob("*.toml")}
    assert listed == files


def test_schemas_are_current():
    for name in ("scenario", "endpoint"):
        assert schema.path_of(name).read_text() == schema.rendered(name), \
            "run python3 -m harness.spec.schema --write"


def test_valid_client_file(write):
    ep = load_endpoint(write("c.toml", CLIENT.format(name="c")))
    assert ep.role == "client" and ep.tls == ("1.2", "1.3") and ep.stdin_eof


@pytest.mark.parametrize("change,expected", [
    (("{{url}}", "{{host}}"), r"c\.toml:5: command\[2\]: unknown placeholder \{host\}"),
    (('body = "file"', 'body = "file"\nfailure_output = ["(unclosed"]'),
     r"verdict\.failure_output\[1\]: not a regular expression"),
    (('[verdict]\nsuccess_exit = [0]\nbody = "file"\n', ""), r"c\.toml:1: verdict: missing"),
    (('"{{body}}"]', '"out"]'), r"verdict\.body: \"file\": the command must say where"),
    (('role = "client"', 'role = "clent"'), r"c\.toml:3: role: must be one of client, server"),
    (('title = "a client"', 'title = "a client"\ntimeout = 3'), r"c\.toml:3: timeout: unknown key"),
])
def test_bad_client_file_names_line_and_field(write, change, expected):
    text = CLIENT.format(name="c").replace(change[0].replace("{{", "{").replace("}}", "}"),
                                           change[1].replace("{{", "{").replace("}}", "}"))
    found = problems(load_endpoint, write("c.toml", text))
    assert any(re.search(expected, p) for p in found), found


def test_bad_server_file(write):
    text = """\
name = "s"
title = "a server"
role = "server"
version = ["true"]
command = ["true", "{dir}/x.conf"]

[server]
listen = "fd"
port = "ready"
backend = true
"""
    found = problems(load_endpoint, write("s.toml", text))
    assert any("server.listen: \"fd\" hands the socket over as {listen_fd}" in p for p in found)
    assert any("server.port: only with listen = \"self\"" in p for p in found)
    assert any("server.backend: the backend's address is {backend_port}" in p for p in found)


def test_known_entry_severity_must_be_the_rules(write):
    text = CLIENT.format(name="c") + """
[[known]]
scenario = "client-*"
rule = "http-incomplete-response-not-complete"
severity = "hygiene"
summary = "x"
evidence = "y"
"""
    found = problems(load_endpoint, write("c.toml", text))
    assert any(re.search(r"c\.toml:1[0-9]: known\[1\]\.severity: rule http-incomplete-response-"
                         r"not-complete is security", p) for p in found), found


def test_valid_scenario(write):
    s = load_scenario(write("x-cut.toml", SCENARIO.format(id="x-cut")))
    assert s.endpoint == "client" and s.expect[0]["severity"] == "security"


@pytest.mark.parametrize("change,expected", [
    (('client = "reject"', 'request = "not-complete"'),
     "expect[1].request: only a scenario for a server endpoint judges 'request'"),
    (('client = "reject"', 'note = "no check"'), "expect[1]: has no check"),
    (('{do = "http_send_response", cut = "mid-body", body_bytes = 10}', '{do = "rst"}'),
     "peer.actions: a scenario for a client endpoint needs a http_send_response action"),
    (('rule = "http-incomplete-response-not-complete"', 'rule = "no-such-rule"'),
     "expect[1].rule: unknown rule 'no-such-rule'"),
    (('framing = "content-length"\n', ''), "framing: a truncation scenario names the framing"),
])
def test_bad_scenario(write, change, expected):
    text = SCENARIO.format(id="x-cut").replace(*change)
    found = problems(load_scenario, write("x-cut.toml", text))
    assert any(expected in p for p in found), found


def test_server_scenario_target_is_the_endpoints(write):
    text = SCENARIO.format(id="s-post").replace('endpoint = "client"', 'endpoint = "server"') \
        .replace('{do = "http_read_request"},\n           {do = "http_send_response", cut = '
                 '"mid-body", body_bytes = 10}', '{do = "http_send_request", target = "/x"}') \
        .replace('client = "reject"', 'request = "not-complete"') \
        .replace("http-incomplete-response-not-complete", "http-incomplete-request-not-complete")
    found = problems(load_scenario, write("s-post.toml", text))
    assert any("peer.actions[1].target: the target is the endpoint file's" in p for p in found)


def test_scenario_set_needs_one_preflight_per_role(write, tmp_path):
    write("d/a-one.toml", SCENARIO.format(id="a-one"))
    write("d/a-two.toml", SCENARIO.format(id="a-two"))
    found = problems(lambda p: load_scenarios(p), tmp_path / "d")
    assert any("0 scenarios for a client endpoint say preflight = true" in p for p in found)


def test_unknown_scenario_in_known_entry(write, tmp_path):
    write("e/c.toml", CLIENT.format(name="c") + """
[[known]]
scenario = "client-nothing-*"
rule = "http-incomplete-response-not-complete"
severity = "security"
summary = "x"
evidence = "y"
""")
    scenarios = load_scenarios(ROOT / "endpoints" / "scenarios", ROOT)
    found = problems(lambda p: load_endpoints(p, None, scenarios), tmp_path / "e")
    assert any("known[1].scenario: 'client-nothing-*' matches no scenario" in p for p in found)


def test_packages_follow_the_endpoints_asked_for():
    """`endpoints` installs what the chosen endpoints need, selftest what all
    of them need (the e2e test runs curl and haproxy in the test command)."""
    import argparse

    from harness.base.paths import ENDPOINTS_DIR
    from harness.commands import endpoints, selftest

    def asked(*names):
        return endpoints.packages(argparse.Namespace(endpoint=list(names), endpoint_file=[],
                                                     endpoints_dir=ENDPOINTS_DIR))
    assert asked("curl") == ["curl"]
    assert asked("nginx", "wget") == ["nginx", "wget"]
    every = asked()
    assert {"curl", "haproxy", "nginx", "apache2", "stunnel4"} <= set(every)
    assert set(every) <= set(selftest.packages(None))
