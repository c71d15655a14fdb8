"""Scenarios that every stack speaking the OpenSSL API (api = "openssl" in
its stack file: wolfSSL, BoringSSL) runs word for word, checked against the
SSL_shutdown(3) contract."""
from __future__ import annotations

from .cells import Runner


def check_exchange_then_close_first(runner: Runner, tls: str, io: str, role: str) -> None:
    """Data both ways, then the SUT closes first (0 with SENT only), the
    peer's answer read as a clean close (SSL_ERROR_ZERO_RETURN), and every
    record authenticates."""
    peer = {"actions": [{"do": "expect_data", "bytes": 1000}, {"do": "send_data", "bytes": 500},
                        {"do": "expect_close_notify"},
                        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}]}
    steps = [{"op": "handshake"}, {"op": "write", "bytes": 1000}, {"op": "read", "bytes": 500},
             {"op": "shutdown"}, {"op": "read", "until": "close"}, {"op": "get_shutdown"}]
    c = runner.cell(role, tls, io, steps, peer)
    c.assert_ran(["ok", "ok:1000", "data:500", "sent", "closed", "sent+received"])
    assert c.native(4)["ret"] == 0 and c.flags(4) == (True, False), c.describe()
    assert c.native(5)["error"] == "SSL_ERROR_ZERO_RETURN", c.describe()
    assert all(e.get("ok") for e in c.expects()), c.describe()
    assert not c.wire(ev="bad_record"), c.describe()
