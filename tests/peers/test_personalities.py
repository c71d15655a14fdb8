"""Each personality of docs/peer.md against plain OpenSSL (Python's ssl):
the transcript must show exactly what the peer sent and what it received,
and OpenSSL's view must agree."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support.peers import cell, wire

EOF_ERROR = "error:UNEXPECTED_EOF_WHILE_READING"  # OpenSSL 3.0: FIN without close_notify
# ...and OpenSSL 3.0 then sends a fatal decode_error alert before closing.
EOF_ALERT = ("alert", 2, "decode_error")


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_well_behaved(progs, tls):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 100}, {"op": "shutdown"},
           {"op": "read", "until": "close"}]
    c = cell(progs, {"personality": "well-behaved", "bytes": 100}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("data", 100), ("alert", 1, "close_notify"), ("tcp", "fin"),
                               ("tcp", "close")]
    assert wire(c, "recv") == [("alert", 1, "close_notify"), ("tcp", "eof")]
    assert c.expects("close_notify")[0]["ok"]
    assert c.step(3)["outcome"] == "sent" and c.step(4)["outcome"] == "closed", c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_no_close_notify(progs, tls):
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = cell(progs, {"personality": "no-close-notify", "bytes": 100}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("data", 100), ("tcp", "fin"), ("tcp", "close")]
    assert wire(c, "recv") == [EOF_ALERT, ("tcp", "eof")]
    # OpenSSL 3.0 reports the truncation, after handing out the 100 bytes.
    assert c.step(2)["outcome"] == EOF_ERROR and c.step(2)["bytes"] == 100, c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_data_after_close_legal(progs, tls):
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    c = cell(progs, {"personality": "data-after-close", "variant": "legal", "bytes": 300}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "recv") == [("alert", 1, "close_notify"), ("tcp", "eof")]
    assert wire(c, "sent") == [("data", 300), ("alert", 1, "close_notify"), ("tcp", "fin"),
                               ("tcp", "close")]
    # S12: after its own close_notify OpenSSL still returns all the data, then the close.
    assert c.step(3)["outcome"] == "closed" and c.step(3)["bytes"] == 300, c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_data_after_close_illegal(progs, tls):
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}, {"op": "read", "until": "close"},
           {"op": "shutdown"}]
    c = cell(progs, {"personality": "data-after-close", "variant": "illegal", "bytes": 100}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("alert", 1, "close_notify"), ("data", 100), ("tcp", "fin"),
                               ("tcp", "close")]
    assert wire(c, "recv") == [("alert", 1, "close_notify"), ("tcp", "eof")]
    # R2: the data after the closure alert is never delivered.
    assert [c.step(n)["bytes"] for n in (2, 3)] == [0, 0], c
    assert c.step(2)["outcome"] == "closed" and c.step(4)["outcome"] == "complete", c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_truncating_mid_record(progs, tls):
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = cell(progs, {"personality": "truncating", "variant": "mid-record", "bytes": 10}, sut, tls=tls)
    c.assert_clean()
    sent = wire(c, "sent")
    assert sent[0] == ("data", 10) and sent[2:] == [("tcp", "fin"), ("tcp", "close")]
    kind, length, on_wire = sent[1]
    body = 100 + (17 if tls == "1.3" else 16 + (8 if "CHACHA" not in c.ev("handshake")[0]["cipher"] else 0))
    assert (kind, length, on_wire) == ("partial", 100, 5 + body // 2)
    assert wire(c, "recv") == [EOF_ALERT, ("tcp", "eof")]
    assert c.step(2)["outcome"] == EOF_ERROR and c.step(2)["bytes"] == 10, c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_truncating_between_records(progs, tls):
    sut = [{"op": "handshake"}, {"op": "read", "until": "close"}]
    c = cell(progs, {"personality": "truncating", "variant": "between-records", "bytes": 10}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("data", 10), ("tcp", "fin"), ("tcp", "close")]
    assert wire(c, "recv") == [EOF_ALERT, ("tcp", "eof")]
    assert c.step(2)["outcome"] == EOF_ERROR and c.step(2)["bytes"] == 10, c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_truncating_rst(progs, tls):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "read", "until": "close"}]
    c = cell(progs, {"personality": "truncating", "variant": "rst", "bytes": 10}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("data", 10), ("tcp", "rst")]
    assert c.step(3)["outcome"] == "error:ConnectionResetError", c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_quiet_until_the_sut_closes(progs, tls):
    """The SUT sends close_notify and closes: the quiet peer sends nothing."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "shutdown"}]
    c = cell(progs, {"personality": "quiet", "bytes": 10, "silence_ms": 3000}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("data", 10), ("tcp", "fin"), ("tcp", "close")]
    assert wire(c, "recv") == [("alert", 1, "close_notify"), ("tcp", "eof")]
    assert c.peer_end["ms"] < 2500, "the quiet peer must end when the SUT closes"


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_quiet_until_silence_passes(progs, tls):
    """The SUT waits for the peer's close_notify; the quiet peer stays silent
    for silence_ms, then closes the socket: OpenSSL sees an unexpected EOF
    (S18)."""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10}, {"op": "shutdown"},
           {"op": "read", "until": "close", "timeout_ms": 4000}]
    c = cell(progs, {"personality": "quiet", "bytes": 10, "silence_ms": 300}, sut, tls=tls)
    c.assert_clean()
    assert wire(c, "sent") == [("data", 10), ("tcp", "fin"), ("tcp", "close")]
    # No decode_error here: OpenSSL sends no alert after its own close_notify.
    assert wire(c, "recv") == [("alert", 1, "close_notify"), ("tcp", "eof")]
    # The peer stays silent until silence_ms has passed or, sooner, until the
    # harness sees the cell stand still (both sides waiting: the stall
    # window, 250 ms; docs/peer.md "Stalls"). Either way not at once.
    fin = c.ev("tcp", what="fin")[0]["ms"]
    assert fin - c.ev("action", do="read_all")[0]["ms"] >= 240  # clock in whole ms
    assert c.step(4)["outcome"] == EOF_ERROR, c


def test_personality_timeout_applies_to_each_action(progs):
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 1}]
    c = cell(progs, {"personality": "well-behaved", "bytes": 1, "timeout_ms": 200}, sut)
    assert c.run.peer.returncode == 0
    actions = c.ev("action")
    assert [a["do"] for a in actions] == ["send_data", "expect_close_notify", "send_alert", "close"]
    assert all(a["timeout_ms"] == 200 for a in actions)
