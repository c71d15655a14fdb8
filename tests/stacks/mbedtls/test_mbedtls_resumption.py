"""Sessions with the mbedTLS shim: a client offers the session of its first
connection (mbedtls_ssl_get_session / mbedtls_ssl_set_session), a server
resumes from its mbedtls_ssl_cache. `reused` is derived from the master
secret (a resumed TLS 1.2 session keeps it), so every test checks it
against what the peer's own library says about the same handshake.
"""
from __future__ import annotations

import pytest

from harness.base.vocabulary import IO_MODES, ROLES

CLOSE_THEN_NEXT = [{"do": "expect_close_notify"}, {"do": "send_alert", "alert": "close_notify"},
                   {"do": "next_connection"}, {"do": "expect_close_notify"}, {"do": "close"}]
SUT_TWO_CONNECTIONS = [{"op": "handshake"}, {"op": "session_resumable"}, {"op": "shutdown"},
                       {"op": "read", "until": "close"}, {"op": "resume"},
                       {"op": "shutdown"}]


def peer_resumed(c) -> bool:
    handshakes = c.wire(ev="handshake")
    assert [h["conn"] for h in handshakes] == [1, 2], c.describe()
    return handshakes[1]["resumed"]


@pytest.mark.parametrize("io", IO_MODES)
def test_client_resumes_with_a_ticket(cell, io):
    c = cell("client", io, SUT_TWO_CONNECTIONS, {"actions": CLOSE_THEN_NEXT}, connections=2)
    c.assert_ran(["ok", "resumable", "sent", "closed", "reused", "sent"])
    assert peer_resumed(c) is True, c.describe()


@pytest.mark.parametrize("io", IO_MODES)
def test_client_reused_agrees_with_the_peer_without_tickets(cell, io):
    """Without tickets the client offers its session ID; whatever the peer's
    server decides, the shim's `reused` must say the same."""
    c = cell("client", io, SUT_TWO_CONNECTIONS,
             {"session_tickets": False, "actions": CLOSE_THEN_NEXT}, connections=2)
    assert c.run.sut.returncode == 0, c.describe()
    assert c.steps[4]["reused"] is peer_resumed(c), c.describe()


@pytest.mark.parametrize("io", IO_MODES)
def test_server_resumes_from_its_cache(cell, io):
    c = cell("server", io, SUT_TWO_CONNECTIONS,
             {"session_tickets": False, "actions": CLOSE_THEN_NEXT}, connections=2)
    c.assert_ran(["ok", "resumable", "sent", "closed", "reused", "sent"])
    assert peer_resumed(c) is True, c.describe()


@pytest.mark.parametrize("role", ROLES)
def test_freeing_without_closure_keeps_the_session(cell, role):
    """mbedtls_ssl_free removes nothing from the session cache and a client's
    copy is its own (library/ssl_cache.c has no removal)."""
    sut = [{"op": "handshake"}, {"op": "free_without_shutdown"}, {"op": "resume"},
           {"op": "shutdown"}]
    peer = {"session_tickets": False,
            "actions": [{"do": "read_all", "timeout_ms": 3000}, {"do": "next_connection"},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    c = cell(role, "nonblocking", sut, peer, connections=2)
    assert c.run.sut.returncode == 0, c.describe()
    assert c.steps[2]["reused"] is peer_resumed(c), c.describe()
    if role == "server":
        assert c.steps[2]["reused"] is True, c.describe()


@pytest.mark.parametrize("role", ROLES)
def test_no_session_before_the_handshake(cell, role):
    sut = [{"op": "session_resumable"}, {"op": "handshake"}, {"op": "session_resumable"},
           {"op": "close_transport"}]
    c = cell(role, "blocking", sut, {"actions": [{"do": "read_all", "timeout_ms": 3000},
                                                 {"do": "close"}]})
    c.assert_ran(["not_resumable", "ok", "resumable", "ok"])


def test_session_file_round_trip(cell, tmp_path):
    """--session-out writes mbedtls_ssl_session_save's bytes; --session-in
    loads them and the first connection offers them (to a new peer process,
    which cannot know the session: a full handshake)."""
    path = tmp_path / "session.bin"
    c = cell("client", "blocking", SUT_TWO_CONNECTIONS, {"actions": CLOSE_THEN_NEXT},
             connections=2, sut_args=["--session-out", str(path)])
    assert c.run.sut.returncode == 0, c.describe()
    assert path.stat().st_size > 48, c.describe()
    c2 = cell("client", "blocking", [{"op": "handshake"}, {"op": "shutdown"}],
              {"personality": "well-behaved"}, sut_args=["--session-in", str(path)])
    c2.assert_ran(["ok", "sent"])
    assert c2.wire(ev="handshake")[0]["resumed"] is False, c2.describe()


def test_unreadable_session_file_is_a_usage_error(cell, tmp_path):
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"not a session")
    c = cell("client", "blocking", [{"op": "handshake"}], {"personality": "well-behaved"},
             sut_args=["--session-in", str(path)])
    assert c.run.sut.returncode == 2, c.describe()
    assert "session-in" in c.end["message"], c.describe()
