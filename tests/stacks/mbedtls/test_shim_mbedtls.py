"""The mbedTLS shim against the mock peer: its contract (version line, what
it cannot do), an exchange and closure in every role x IO mode, --cipher.

Expected values restate stacks/mbedtls/README.md; where they pin an mbedTLS
behaviour, the test names the 2.28 source it comes from.
"""
from __future__ import annotations

import pytest

from harness.base.vocabulary import ROLES
from support.cells import EVENT_IO_MODES, matrix


def test_version(runner):
    runner.expect_version("mbedtls", "native", "mbed TLS 2.28", serve=True)


@pytest.mark.parametrize("role", ROLES)
def test_tls13_is_a_skip_before_any_io(cell, role):
    c = cell(role, "blocking", [{"op": "handshake"}], {"personality": "well-behaved"},
             tls="1.3")
    assert c.run.sut.returncode == 77, c.describe()
    assert c.end == {"end": "skip", "step": 0, "message": "mbedTLS 2.28 has no TLS 1.3"}, \
        c.describe()
    assert c.steps == [], c.describe()


@pytest.mark.parametrize("op", ["shutdown_quiet", "shutdown_full", "get_error_after"])
def test_missing_calls_are_skips(cell, op):
    c = cell("client", "blocking", [{"op": "handshake"}, {"op": op}],
             {"personality": "well-behaved"})
    assert c.run.sut.returncode == 77, c.describe()
    assert c.end["end"] == "skip" and c.end["step"] == 2, c.describe()
    assert c.steps == [], c.describe()  # decided before any IO


def test_get_shutdown_reports_unknown(cell):
    """mbedTLS keeps no closure state, so there are no flags to report."""
    c = cell("client", "blocking", [{"op": "handshake"}, {"op": "get_shutdown"},
                                    {"op": "shutdown"}], {"personality": "well-behaved"})
    c.assert_ran(["ok", "unknown", "sent"])
    assert c.steps[1]["flags"] is None and c.steps[1]["native"] is None, c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None))
def test_exchange_and_closure(cell, role, io):
    sut = [
        {"op": "handshake"},
        {"op": "write", "bytes": 40000},
        {"op": "read", "bytes": 300},
        {"op": "shutdown"},
        {"op": "read", "until": "close"},
        {"op": "shutdown"},
    ]
    c = cell(role, io, sut, {"personality": "well-behaved", "bytes": 300})
    c.assert_ran(["ok", "ok:40000", "data:300", "sent", "closed", "complete"])
    assert all(s["flags"] is None for s in c.steps), c.describe()
    # mbedtls_ssl_write writes at most one record (16 KiB) per call.
    assert c.steps[1]["calls"] >= 3, c.describe()
    got = sum(e["len"] for e in c.sut_records(type="application_data"))
    assert got == 40000, c.describe()
    closed = c.native(5)
    assert closed["error"] == "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY" and closed["ret"] == -0x7880
    assert closed["queue"] == [
        "SSL - The peer notified us that the connection is going to be closed"], c.describe()
    # Each mbedtls_ssl_close_notify sends one alert (library/ssl_msg.c
    # mbedtls_ssl_close_notify): the closing one after the peer's is the second.
    assert len(c.sut_alerts("close_notify")) == 2, c.describe()
    if io == "blocking":
        assert all(s["wants"] == [] for s in c.steps), c.describe()


@pytest.mark.parametrize("role,io", matrix(versions=None, ios=EVENT_IO_MODES))
def test_nonblocking_read_reports_want_read(cell, role, io):
    """The peer sends only after the marker, so the first read must want to
    read. (Whether the handshake itself meets a want depends on how fast the
    peer answers, so it is not asserted.)"""
    sut = [{"op": "handshake"}, {"op": "read", "bytes": 10, "nowait": True},
           {"op": "signal_peer", "marker": "go"}, {"op": "read", "bytes": 10},
           {"op": "shutdown"}]
    peer = {"actions": [{"do": "wait_marker", "marker": "go"}, {"do": "send_data", "bytes": 10},
                        {"do": "expect_close_notify"}, {"do": "close"}]}
    c = cell(role, io, sut, peer)
    c.assert_ran(["ok", "want_read", "ok", "data:10", "sent"])
    assert c.native(2)["error"] == "MBEDTLS_ERR_SSL_WANT_READ", c.describe()


@pytest.mark.parametrize("cipher,iana", [
    ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
])
def test_cipher_names(cell, cipher, iana):
    c = cell("client", "blocking", [{"op": "handshake"}, {"op": "shutdown"}],
             {"personality": "well-behaved"}, sut_args=["--cipher", cipher])
    c.assert_ran(["ok", "sent"])
    assert c.wire(ev="handshake")[0]["cipher"] == iana, c.describe()


def test_unknown_cipher_is_a_skip(cell):
    c = cell("server", "blocking", [{"op": "handshake"}], {"personality": "well-behaved"},
             sut_args=["--cipher", "NO-SUCH-SUITE"])
    assert c.run.sut.returncode == 77, c.describe()
    assert c.end["step"] == 0 and "NO-SUCH-SUITE" in c.end["message"], c.describe()
