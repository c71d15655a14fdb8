"""Case and stack files for the harness tests (tests/harness), written to
a temporary directory, and the fake programs that stand in for the mock
peer and a shim without any TLS (fakes/).

VALID_CASE is a complete, valid case with a check at each level: two rfc
groups (interop: the SUT's close_notify on the wire and the peer's
expectation of it; security: the read after the peer's close_notify delivers
nothing), two model groups (an outcome, the shutdown flags) and api values;
the shim's lines in support/recorded.py meet all of them. It stays valid
whatever [applies] a test adds; with_tls13_group() adds a group of a TLS 1.3
rule. MALFORMED_CASES turns it into files
the validator must refuse, each with the problem line it must print (the
reliability tests run the same table through the front door).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

FAKES = Path(__file__).resolve().parent / "fakes"
CASE_FILE = "example-case.toml"

VALID_CASE = """\
id = "example-case"
title = "An example case"
cites = ["S1", "S10", "S14", "R1", "R2"]
refs = ["SSL_shutdown(3) First to close the connection", "RFC 8446 §6.1"]
why = "SSL_shutdown sends close_notify and returns 0 when it is first to close."

[peer]
personality = "well-behaved"

[[steps]]
op = "handshake"

[[steps]]
op = "shutdown"
label = "close"

[[steps]]
op = "read"
until = "close"
label = "drain"

[[expect.rfc]]
rule = "close-notify-before-closing-write"
peer_expects = ["close_notify"]
[[expect.rfc.must]]
ev = "record"
dir = "recv"
type = "alert"
alert = "close_notify"

[[expect.rfc]]
rule = "data-after-closure-alert-ignored"
outcomes = {drain = ["closed", "truncated", "error:*"]}

[[expect.model]]
statements = ["S10"]
outcomes = {close = "sent"}

[[expect.model]]
statements = ["S14"]
flags = {close = {sent = true, received = false}, drain = {sent = true, received = true}}

[expect.api.steps]
close = {ret = 0, sent = true, received = false}
drain = {error = "SSL_ERROR_ZERO_RETURN", received = true}
"""

STACK = """\
name = "{name}"
title = "A fake stack"
api = "{api}"
command = {command}
env = {env}
tls = ["1.2", "1.3"]
roles = ["client", "server"]
io = ["blocking", "nonblocking", "memory"]
packages = ["libfake-dev"]
{extra}
"""


def write_case(directory: Path, text: str, name: str = "example-case") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def write_stack(directory: Path, name: str = "fake", api: str = "openssl",
                env: str = "{}", extra: str = "", shim: Path | None = None,
                command: list[str] | None = None) -> Path:
    """A stack file whose shim is the fake one (or shim, run by this Python),
    or any command (e.g. ["{bin}/tlsclose-shim-openssl"])."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    argv = command or [sys.executable, str(shim or FAKES / "fake_shim.py")]
    path.write_text(STACK.format(name=name, api=api, command=json.dumps(argv), env=env,
                                 extra=extra))
    return path


def write_short_case(directory: Path, case_id: str = "reliability-probe",
                     deadline: int = 1500, tls: tuple[str, ...] = ("1.3",)) -> Path:
    """VALID_CASE under case_id with a run deadline, applying to one blocking
    client cell per TLS version in tls: for tests about how the processes of
    a run end rather than what they report (tests/system/reliability).
    Returns the directory, a cases directory."""
    applies = (f'deadline_ms = {deadline}\n\n[applies]\ntls = {json.dumps(list(tls))}\n'
               'io = ["blocking"]\nroles = ["client"]\n\n[peer]')
    text = VALID_CASE.replace('id = "example-case"', f'id = "{case_id}"', 1)
    write_case(directory, text.replace("[peer]", applies, 1), case_id)
    return directory


CITES = 'cites = ["S1", "S10", "S14", "R1", "R2"]'

# A group of a TLS 1.3 rule (RFC 8446 §6: close_notify is the end of the
# data, hygiene) to append to VALID_CASE, which must stay valid whatever
# applies.tls says: TLS 1.2 cells get no check of it.
TLS13_GROUP = """
[[expect.rfc]]
rule = "tls13-close-notify-is-end-of-data"
outcomes = {drain = "closed"}
"""


def with_tls13_group(text: str) -> str:
    return text.replace('"R1", "R2"]', '"R1", "R2", "R3"]', 1) + TLS13_GROUP


# Mutations of a case text for MALFORMED_CASES: each checks that it applies.
def replace(old: str, new: str):
    def mutate(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return mutate


def append(extra: str):
    return lambda text: text + extra


# Malformed variants of VALID_CASE: name -> (mutation, the start of the
# problem line the validator must print). Line numbers are VALID_CASE's.
F = CASE_FILE
MALFORMED_CASES = {
    "toml-syntax": (replace('title = "An example case"', 'title = "An example case'),
                    f"{F}:2: toml: syntax error"),
    "unknown-top-key": (replace('[peer]', 'colour = "blue"\n\n[peer]'),
                        f"{F}:7: colour: unknown key"),
    "unknown-step-key": (replace('label = "close"', 'label = "close"\nnowiat = true'),
                         f"{F}:16: steps[2].nowiat: unknown key"),
    "unknown-peer-key": (replace('personality = "well-behaved"',
                                 'personality = "well-behaved"\nbites = 3'),
                         f"{F}:9: peer.bites: unknown key"),
    "unknown-expect-key": (replace('[expect.api.steps]', '[expect.wire]\nseen = true\n\n'
                                   '[expect.api.steps]'),
                           f"{F}:43: expect.wire: unknown key"),
    "unknown-rfc-key": (append('\n[[expect.rfc]]\nrule = "close-notify-before-closing-write"\n'
                               'must_nt = []\n'),
                        f"{F}:49: expect.rfc[3].must_nt: unknown key"),
    "unknown-model-key": (replace('statements = ["S10"]', 'statements = ["S10"]\nrule = "x"'),
                          f"{F}:37: expect.model[1].rule: unknown key"),
    "wants-in-rfc-group": (replace('peer_expects = ["close_notify"]',
                                   'peer_expects = ["close_notify"]\n'
                                   'wants = {close = "want_read"}'),
                           f"{F}:25: expect.rfc[1].wants: unknown key"),
    "unknown-api-field": (replace('close = {ret = 0,', 'close = {retval = 0,'),
                          f"{F}:44: expect.api.steps.close.retval: unknown key"),
    "unknown-pattern-field": (replace('alert = "close_notify"\n', 'alret = "close_notify"\n'),
                              f"{F}:29: expect.rfc[1].must[1].alret: unknown key"),
    "wrong-type-cites": (replace(CITES, 'cites = "S1"'),
                         f"{F}:3: cites: must be an array of strings, not a string"),
    "wrong-type-bytes": (replace('until = "close"', 'bytes = "100"'),
                         f"{F}:19: steps[3].bytes: must be an integer, not a string"),
    "wrong-type-bool": (replace('close = {ret = 0, sent = true',
                                'close = {ret = 0, sent = "yes"'),
                        f"{F}:44: expect.api.steps.close.sent: must be true or false"),
    "wrong-type-flag": (replace('flags = {close = {sent = true',
                                'flags = {close = {sent = "yes"'),
                        f"{F}:41: expect.model[2].flags.close.sent: must be true or false"),
    "missing-why": (replace('why = "SSL_shutdown sends close_notify and returns 0 when it is '
                            'first to close."\n', ''),
                    f"{F}:1: why: missing (required)"),
    "missing-op": (replace('op = "shutdown"\n', ''),
                   f"{F}:13: steps[2].op: missing (required)"),
    "missing-required-field": (replace('op = "shutdown"', 'op = "write"'),
                               f"{F}:13: steps[2].bytes: missing (required)"),
    "missing-rule": (replace('rule = "data-after-closure-alert-ignored"\n', ''),
                     f"{F}:31: expect.rfc[2].rule: missing (required)"),
    "missing-statements": (replace('statements = ["S14"]\n', ''),
                           f"{F}:39: expect.model[2].statements: missing (required)"),
    "id-not-file-name": (replace('id = "example-case"', 'id = "other-case"'),
                         f"{F}:1: id: 'other-case' differs from the file name 'example-case'"),
    "unknown-citation": (replace(CITES, 'cites = ["S1", "S99"]'),
                         f"{F}:3: cites[2]: unknown value 'S99'"),
    "duplicate-citation": (replace(CITES, 'cites = ["S1", "S1"]'),
                           f"{F}:3: cites[2]: duplicate value 'S1'"),
    "duplicate-label": (replace('label = "drain"', 'label = "close"'),
                        f"{F}:20: steps[3].label: duplicate label (also step 2)"),
    "unknown-label": (replace('drain = ["closed"', 'drian = ["closed"'),
                      f"{F}:33: expect.rfc[2].outcomes.drian: no step has label 'drian'"),
    "unknown-flags-label": (replace('flags = {close =', 'flags = {clsoe ='),
                            f"{F}:41: expect.model[2].flags.clsoe: no step has label 'clsoe'"),
    "unknown-rule": (replace('rule = "data-after-closure-alert-ignored"',
                             'rule = "close-notify-eventually"'),
                     f"{F}:32: expect.rfc[2].rule: unknown rule 'close-notify-eventually' "
                     "(rules: "),
    "rule-not-cited": (replace(CITES, 'cites = ["S1", "S10", "S14", "R1"]'),
                       f"{F}:32: expect.rfc[2].rule: data-after-closure-alert-ignored belongs "
                       "to R2, which the case does not cite"),
    "rule-of-another-version": (lambda t: with_tls13_group(t).replace(
                                    '[peer]', '[applies]\ntls = ["1.2"]\n\n[peer]', 1),
                                f"{F}:51: expect.rfc[3].rule: tls13-close-notify-is-end-of-data "
                                "is a rule of TLS 1.3 only"),
    "statement-not-cited": (replace('statements = ["S14"]', 'statements = ["S15"]'),
                            f"{F}:40: expect.model[2].statements: S15 is not cited by the case"),
    "rfc-group-without-check": (replace('outcomes = {drain = ["closed", "truncated", '
                                        '"error:*"]}', 'note = "nothing"'),
                                f"{F}:31: expect.rfc[2]: states no check"),
    "model-group-without-check": (replace('outcomes = {close = "sent"}', 'tls = ["1.3"]'),
                                  f"{F}:35: expect.model[1]: states no check"),
    "unknown-op": (replace('op = "shutdown"', 'op = "shutdwon"'),
                   f"{F}:14: steps[2].op: unknown op 'shutdwon'"),
    "unknown-action": (replace('personality = "well-behaved"',
                               'actions = [{do = "send_dta", bytes = 1}]'),
                       f"{F}:8: peer.actions[1].do: unknown action 'send_dta'"),
    "tickets-with-personality": (replace('personality = "well-behaved"',
                                         'personality = "well-behaved"\nsession_tickets = false'),
                                 f"{F}:9: peer.session_tickets: unknown key"),
    "unknown-personality": (replace('"well-behaved"', '"polite"'),
                            f"{F}:8: peer.personality: unknown personality 'polite'"),
    "bad-outcome-for-op": (replace('close = "sent"', 'close = "data:*"'),
                           f"{F}:37: expect.model[1].outcomes.close: 'data:*' is not an outcome "
                           "of shutdown"),
    "keyupdate-in-tls12": (replace('op = "shutdown"', 'op = "keyupdate"'),
                           f"{F}:14: steps[2].op: keyupdate exists only in TLS 1.3 but "
                           "applies.tls includes 1.2"),
    "until-blocked-in-blocking": (replace('op = "shutdown"',
                                          'op = "write"\nbytes = 10\nuntil_blocked = true'),
                                  f"{F}:16: steps[2].until_blocked: needs nonblocking or memory"),
    "api-on-native-only": (replace('[peer]', '[applies]\napi = ["native"]\n\n[peer]'),
                           f"{F}:46: expect.api: api expectations apply only to api = "
                           "\"openssl\" stacks"),
    "empty-applies": (replace('[peer]', '[applies]\nroles = []\n\n[peer]'),
                      f"{F}:8: applies.roles: must not be empty"),
    "unknown-tls": (replace('[peer]', '[applies]\ntls = ["1.4"]\n\n[peer]'),
                    f"{F}:8: applies.tls[1]: unknown value '1.4'"),
    "wait-without-signal": (replace('op = "shutdown"', 'op = "wait_peer"\nmarker = "go"'),
                            f"{F}:15: steps[2].marker: the peer never sends marker 'go'"),
    "negative-size": (replace('until = "close"', 'bytes = -1'),
                      f"{F}:19: steps[3].bytes: -1 is out of range 0..16777216"),
    "huge-size": (replace('until = "close"', 'bytes = 1_000_000_000'),
                  f"{F}:19: steps[3].bytes: 1000000000 is out of range 0..16777216"),
    "huge-record": (replace('personality = "well-behaved"',
                            'actions = [{do = "send_data", bytes = 20000, records = [20000]}]'),
                    f"{F}:8: peer.actions[1].records[1]: 20000 is out of range 0..16384"),
    "records-do-not-add-up": (replace('personality = "well-behaved"',
                                      'actions = [{do = "send_data", bytes = 10, '
                                      'records = [4, 4]}]'),
                              f"{F}:8: peer.actions[1].records: record sizes add up to 8, "
                              "not bytes = 10"),
    "zero-timeout": (replace('label = "close"', 'label = "close"\ntimeout_ms = 0'),
                     f"{F}:16: steps[2].timeout_ms: 0 is out of range 1..120000"),
    "timeout-beyond-deadline": (replace('label = "close"', 'label = "close"\ntimeout_ms = 9000'),
                                f"{F}:16: steps[2].timeout_ms: 9000 ms is longer than the "
                                "case's deadline_ms (8000)"),
    "huge-deadline": (replace('[peer]', 'deadline_ms = 99999999\n\n[peer]'),
                      f"{F}:7: deadline_ms: 99999999 is out of range 100..120000"),
    "bad-version-range": (append('\n[[expect.api.versions]]\nrange = "about 3"\n'
                                 '[expect.api.versions.steps]\nclose = {ret = 0}\n'),
                          f"{F}:48: expect.api.versions[1].range: 'about 3' is not a version"),
    "bad-ret": (replace('close = {ret = 0,', 'close = {ret = "zero",'),
                f"{F}:44: expect.api.steps.close.ret: must be an integer or a comparison"),
    "no-expectations": (lambda t: t[:t.index("[[expect.rfc]]")] + "[expect]\n",
                        f"{F}:22: expect: states no expectation"),
    "bad-hex": (replace('personality = "well-behaved"',
                        'actions = [{do = "send_raw", hex = "abc"}]'),
                f"{F}:8: peer.actions[1].hex: must be pairs of hex digits"),
    "unknown-alert": (replace('personality = "well-behaved"',
                              'actions = [{do = "send_alert", alert = "close_notfy"}]'),
                      f"{F}:8: peer.actions[1].alert: unknown alert 'close_notfy'"),
}
