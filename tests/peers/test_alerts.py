"""send_alert variants, byte-exact on the wire, and what OpenSSL 3.0 (via
Python's ssl) reports for each: the peer must be able to send every
malformed closure the cases need (R8, R9, R12, R4)."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support.peers import cell, wire

SUT = [{"op": "handshake"}, {"op": "read", "until": "close"}]


def run(progs, alert: dict, tls="1.3"):
    peer = {"actions": [{"do": "send_alert", **alert}, {"do": "fin"}, {"do": "read_all"},
                        {"do": "close"}]}
    c = cell(progs, peer, SUT, tls=tls)
    c.assert_clean()
    return c


def test_fragmented_close_notify(progs):
    """R8: one byte per record; each record is logged as it went out."""
    c = run(progs, {"alert": "close_notify", "fragment": 1})
    sent = c.records(dir="sent", by="peer")
    assert [(r["len"], r.get("fragment"), r.get("malformed")) for r in sent] == [(1, True, True)] * 2
    assert sent[0]["level_byte"] == 1 and "alert" not in sent[0]
    assert c.step(2)["outcome"].startswith("error:"), c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_close_notify_with_fatal_level(progs, tls):
    """R9: in TLS 1.3 the level is implicit, close_notify is closure."""
    c = run(progs, {"alert": "close_notify", "level": "fatal"}, tls=tls)
    assert wire(c, "sent")[0] == ("alert", 2, "close_notify")
    outcome = c.step(2)["outcome"]
    assert outcome == "closed" if tls == "1.3" else outcome.startswith(("closed", "error:")), c


def test_trailing_bytes(progs):
    c = run(progs, {"alert": "close_notify", "trailing": "00ff"})
    rec = c.records(dir="sent", by="peer")[0]
    assert rec["len"] == 4 and rec["malformed"] and rec["hex"] == "010000ff"
    assert c.step(2)["outcome"].startswith("error:"), c


def test_coalesced_alerts(progs):
    c = run(progs, {"alert": "user_canceled", "coalesce": ["close_notify"]})
    rec = c.records(dir="sent", by="peer")[0]
    assert (rec["alert"], rec["len"], rec["hex"]) == ("user_canceled", 4, "015a0100")
    assert c.step(2)["outcome"].startswith("error:"), c


def test_numeric_alert_and_level(progs):
    c = run(progs, {"alert": 200, "level": 7})
    rec = c.records(dir="sent", by="peer")[0]
    assert (rec["alert"], rec["code"], rec["level"], rec["level_byte"]) == ("unknown", 200, "unknown", 7)


def test_user_canceled_then_close_notify(progs):
    """R4: user_canceled is a warning and is followed by close_notify."""
    peer = {"actions": [{"do": "send_alert", "alert": "user_canceled"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell(progs, peer, SUT)
    c.assert_clean()
    assert wire(c, "sent")[:2] == [("alert", 1, "user_canceled"), ("alert", 1, "close_notify")]


def test_duplicated_close_notify(progs):
    peer = {"actions": [{"do": "send_alert", "alert": "close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    c = cell(progs, peer, SUT + [{"op": "read", "until": "close"}])
    c.assert_clean()
    assert [r["seq"] for r in c.records(dir="sent", by="peer")] == [2, 3]
    assert c.step(2)["outcome"] == "closed" and c.step(3)["outcome"] == "closed", c
