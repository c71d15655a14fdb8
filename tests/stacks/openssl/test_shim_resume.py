"""The resume step and the session cache (S2, S7)."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support.cells import matrix

CELLS = matrix(ios=None)
SECOND_CONNECTION = [{"do": "next_connection"}, {"do": "expect_close_notify"},
                     {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]
CLOSE_SECOND = [{"op": "shutdown"}, {"op": "read", "until": "close"}]


@pytest.mark.parametrize("role,tls", CELLS)
def test_resume_after_complete_shutdown(runner, role, tls):
    peer = {"actions": [{"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, *SECOND_CONNECTION]}
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}, {"op": "resume"},
             *CLOSE_SECOND]
    cell = runner.cell(role, tls, "nonblocking", steps, peer, connections=2)
    cell.expect_exit(0)
    line = cell.expect_step(4, outcome="reused", flags=(False, False))
    assert line["reused"] is True, cell.describe()
    assert [h["resumed"] for h in cell.ev("handshake")] == [False, True], \
        cell.describe()
    cell.expect_step(5, outcome="sent")
    cell.expect_step(6, outcome="closed")


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_client_free_without_shutdown_loses_session(runner, tls):
    """S2, client side: SSL_free without SSL_SENT_SHUTDOWN marks the session
    not resumable (ssl_clear_bad_session -> SSL_CTX_remove_session sets
    not_resumable even when the session is in no cache), so the next
    connection does not offer it."""
    peer = {"actions": SECOND_CONNECTION}
    steps = [{"op": "handshake"}, {"op": "free_without_shutdown"}, {"op": "resume"},
             *CLOSE_SECOND]
    cell = runner.cell("client", tls, "blocking", steps, peer, connections=2)
    cell.expect_exit(0)
    line = cell.expect_step(2, outcome="ok")
    assert line["flags"] is None, cell.describe()
    cell.expect_step(3, outcome="not_reused")


def test_tls13_client_without_ticket_cannot_resume(runner):
    """S7 through resume: a TLS 1.3 client that wrote and shut down once
    offers no ticket on its next connection."""
    peer = {"actions": [{"do": "expect_close_notify"}, *SECOND_CONNECTION]}
    steps = [{"op": "handshake"}, {"op": "write", "bytes": 100}, {"op": "shutdown"},
             {"op": "resume"}, *CLOSE_SECOND]
    cell = runner.cell("client", "1.3", "memory", steps, peer, connections=2)
    cell.expect_exit(0)
    cell.expect_step(4, outcome="not_reused")


@pytest.mark.parametrize("free_first,expected", [
    ([{"op": "free_without_shutdown"}], "not_reused"),
    ([{"op": "shutdown"}, {"op": "free_without_shutdown"}], "reused"),
    ([], "reused"),
], ids=["freed-without-shutdown", "shut-down-then-freed", "still-alive"])
def test_tls12_server_session_cache(runner, free_first, expected):
    """S2, server side, TLS 1.2 session-ID resumption: a connection freed
    without SSL_shutdown loses its session from the server's cache; one shut
    down first keeps it, and so does one still alive (resume does not free
    the previous connection). The peer offers no session ticket: with one,
    OpenSSL resumes without consulting its cache."""
    peer = {"session_tickets": False, "actions": SECOND_CONNECTION}
    steps = [{"op": "handshake"}, *free_first, {"op": "resume"}, *CLOSE_SECOND]
    cell = runner.cell("server", "1.2", "blocking", steps, peer, connections=2)
    cell.expect_exit(0)
    cell.expect_step(len(free_first) + 2, outcome=expected)
    resumed = [h["resumed"] for h in cell.ev("handshake")]
    assert resumed == [False, expected == "reused"], cell.describe()


def test_tls12_server_ticket_bypasses_cache(runner):
    """With a session ticket the server resumes even after freeing the first
    connection without shutdown: the cache is not consulted. Its own view of
    the ticket-issuing session: an empty session ID, so not resumable."""
    peer = {"actions": SECOND_CONNECTION}
    steps = [{"op": "handshake"}, {"op": "session_resumable"}, {"op": "free_without_shutdown"},
             {"op": "resume"}, *CLOSE_SECOND]
    cell = runner.cell("server", "1.2", "nonblocking", steps, peer, connections=2)
    cell.expect_exit(0)
    cell.expect_step(2, outcome="not_resumable")
    cell.expect_step(4, outcome="reused")


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_session_files_between_processes(runner, tmp_path, tls):
    """--session-out writes the client's session (PEM) at the end of a run,
    for another process to offer with --session-in. The mock peer of the
    second run is a new process with its own cache and ticket keys, so it
    declines the offer: what is checked is that the session travels and the
    second run still handshakes."""
    session = tmp_path / "session.pem"
    steps = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "shutdown"}]
    peer = {"actions": [{"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    first = runner.cell("client", tls, "blocking", steps, peer,
                        sut_args=("--session-out", str(session)))
    first.expect_exit(0)
    text = session.read_text()
    assert text.startswith("-----BEGIN SSL SESSION PARAMETERS-----"), text[:80]
    second = runner.cell("client", tls, "memory", steps, peer,
                         sut_args=("--session-in", str(session)))
    second.expect_exit(0)
    second.expect_step(1, outcome="ok")
    second.expect_step(3, outcome="complete")


def test_session_in_that_does_not_load_exit_4(runner, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a session\n")
    cell = runner.cell("client", "1.3", "blocking", [{"op": "handshake"}],
                       {"actions": [{"do": "close"}]}, sut_args=("--session-in", str(bad)))
    cell.expect_exit(4)
    end = cell.end
    assert end["end"] == "error" and str(bad) in end["message"], cell.describe()
