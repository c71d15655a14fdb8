"""Resumption through the GnuTLS shim: the `resume` step, `session_resumable`
and the TLS 1.3 ticket a client only gets by reading."""
from __future__ import annotations

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support.cells import matrix

# The first connection ends with a complete shutdown, then the peer opens the
# second one, offering (client) or accepting (server) the first's session.
PEER_TWO_CONNECTIONS = {"actions": [
    {"do": "expect_close_notify"},
    {"do": "send_alert", "alert": "close_notify"},
    {"do": "close"},
    {"do": "next_connection"},
    {"do": "expect_close_notify"},
    {"do": "send_alert", "alert": "close_notify"},
    {"do": "close"},
]}


@pytest.mark.parametrize("role,tls,io", matrix())
def test_resume_after_complete_shutdown(cell, role, tls, io):
    sut = [
        {"op": "handshake"},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
        {"op": "resume"},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
    ]
    c = cell(role, tls, io, sut, PEER_TWO_CONNECTIONS, connections=2)
    c.assert_ran(["ok", "sent", "closed", "reused", "sent", "closed"])
    assert c.steps[3]["reused"] is True, c.describe()
    assert c.wire(ev="handshake", conn=2, resumed=True), c.describe()


@pytest.mark.parametrize("role,tls", matrix(ios=None))
def test_session_resumable(cell, role, tls):
    sut = [
        {"op": "handshake"},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
        {"op": "session_resumable"},
    ]
    c = cell(role, tls, "blocking", sut, {"personality": "well-behaved"})
    if (role, tls) == ("server", "1.3"):
        # Stateless tickets: GnuTLS keeps nothing a server could be asked.
        assert c.run.sut.returncode == 77, c.describe()
        assert c.end.get("end") == "skip" and c.end.get("step") == 4, c.describe()
        return
    c.assert_ran(["ok", "sent", "closed", "resumable"])
    assert c.steps[3]["resumable"] is True, c.describe()


@pytest.mark.parametrize("io,expected", [("blocking", "reused"), ("nonblocking", "not_reused"),
                                         ("memory", "not_reused")])
def test_tls13_client_that_never_reads(cell, io, expected):
    """GnuTLS 3.7 lib/session.c gnutls_session_get_data2 (lines 131-157):
    without a ticket yet, it reads the socket itself for a round trip plus
    60 ms, unless the session is GNUTLS_NONBLOCK or has no timed pull."""
    peer = {"actions": [
        {"do": "expect_close_notify"},
        {"do": "close"},
        {"do": "next_connection"},
        {"do": "close"},
    ]}
    sut = [
        {"op": "handshake"},
        {"op": "write", "bytes": 10},
        {"op": "shutdown"},
        {"op": "resume"},
    ]
    c = cell("client", "1.3", io, sut, peer, connections=2)
    c.assert_ran(["ok", "ok:10", "sent", expected])


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_free_without_shutdown_still_resumes(cell, tls):
    peer = {"actions": [
        {"do": "next_connection"},
        {"do": "expect_close_notify"},
        {"do": "send_alert", "alert": "close_notify"},
        {"do": "close"},
    ]}
    sut = [
        {"op": "handshake"},
        {"op": "free_without_shutdown"},
        {"op": "resume"},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
    ]
    c = cell("server", tls, "blocking", sut, peer, connections=2)
    c.assert_ran(["ok", "ok", "reused", "sent", "closed"])


def test_session_files(cell, tmp_path):
    """--session-out gets the client's session at the end of a run that
    ended well; --session-in loads it (a session the library refuses is
    only noted on stderr); a file that cannot be read is exit 4."""
    saved = tmp_path / "session.bin"
    script = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    well = {"personality": "well-behaved"}
    c = cell("client", "1.2", "blocking", script, well, sut_args=["--session-out", str(saved)])
    c.assert_ran(["ok", "sent", "closed"])
    assert saved.stat().st_size > 0, c.describe()

    c = cell("client", "1.2", "blocking", script, well, sut_args=["--session-in", str(saved)])
    c.assert_ran(["ok", "sent", "closed"])

    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a session")
    c = cell("client", "1.2", "blocking", script, well, sut_args=["--session-in", str(garbage)])
    c.assert_ran(["ok", "sent", "closed"])
    assert "gnutls_session_set_data" in c.run.sut.stderr, c.describe()

    c = cell("client", "1.2", "blocking", script, well,
             sut_args=["--session-in", str(tmp_path / "missing.bin")])
    assert c.run.sut.returncode == 4 and c.end.get("end") == "error", c.describe()
    assert "--session-in" in c.end.get("message", ""), c.describe()


@pytest.mark.parametrize("first", ["shutdown", "free_without_shutdown"])
def test_tls12_session_id_cache(cell, first):
    """Without tickets (the peer sets SSL_OP_NO_TICKET) only the shim's
    gnutls_db cache can resume; GnuTLS keeps a session freed without
    gnutls_bye in it as well."""
    peer = dict(PEER_TWO_CONNECTIONS, session_tickets=False)
    if first == "shutdown":
        head = [{"op": "shutdown"}, {"op": "read", "until": "close"}]
        heads = ["sent", "closed"]
    else:
        peer["actions"] = PEER_TWO_CONNECTIONS["actions"][3:]
        head = [{"op": "free_without_shutdown"}]
        heads = ["ok"]
    sut = [{"op": "handshake"}, *head, {"op": "resume"}, {"op": "shutdown"},
           {"op": "read", "until": "close"}]
    c = cell("server", "1.2", "blocking", sut, peer, connections=2)
    c.assert_ran(["ok", *heads, "reused", "sent", "closed"])
