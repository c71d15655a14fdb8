"""Whatever the SUT sends, the peer never crashes: garbage, impossible
headers, empty records, a close in the middle of a header, a record that
does not authenticate. Each becomes "bad_record" / "tcp" events and the run
ends normally (exit 0, or 3 at the deadline)."""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support.peers import cell, wire

READ_ALL = {"actions": [{"do": "read_all", "timeout_ms": 3000}, {"do": "close"}]}


def garbage(n: int, seed: int) -> str:
    return random.Random(seed).randbytes(n).hex()


def after_handshake(*steps) -> list:
    return [{"op": "handshake"}, *steps]


def run_garbage(progs, steps, tls="1.3", role="server", **kw):
    c = cell(progs, READ_ALL, after_handshake(*steps), tls=tls, role=role, **kw)
    assert c.run.peer.signal is None, c
    assert c.run.peer.returncode in (0, 3), c
    assert c.peer_end["status"] in ("ok", "timeout"), c
    return c


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bytes(progs, tls, seed):
    c = run_garbage(progs, [{"op": "raw", "hex": garbage(3000, seed)}], tls=tls)
    bad = c.ev("bad_record")
    assert bad and sum(b["len"] for b in bad) == 3000, c
    assert c.ev("tcp", dir="recv")[-1]["what"] == "eof"


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_oversized_header(progs, tls):
    c = run_garbage(progs, [{"op": "raw", "hex": "170303ffff" + "00" * 20}], tls=tls)
    assert wire(c, "recv") == [("bad", "oversized"), ("tcp", "eof")]


def test_oversized_for_tls13_but_framable(progs):
    """2^14 + 257 bytes of ciphertext: too long for TLS 1.3, still framed."""
    body = 16384 + 257
    c = run_garbage(progs, [{"op": "raw", "hex": "170303" + f"{body:04x}" + "00" * body}])
    assert wire(c, "recv") == [("bad", "oversized"), ("tcp", "eof")]


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_zero_length_record_then_valid_data(progs, tls):
    c = run_garbage(progs, [{"op": "raw", "hex": "1703030000"}, {"op": "write", "bytes": 10}], tls=tls)
    assert wire(c, "recv") == [("bad", "malformed"), ("bad", "skipped"), ("tcp", "eof")]


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_bad_mac_stops_decryption(progs, tls):
    c = run_garbage(progs, [{"op": "raw", "hex": "1703030020" + "00" * 32},
                            {"op": "write", "bytes": 10}, {"op": "shutdown"}], tls=tls)
    assert wire(c, "recv") == [("bad", "decrypt"), ("bad", "skipped"), ("bad", "skipped"),
                               ("tcp", "eof")]


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_close_mid_header(progs, tls):
    c = run_garbage(progs, [{"op": "write", "bytes": 5}, {"op": "raw", "hex": "1703"}, {"op": "fin"}],
                    tls=tls)
    assert wire(c, "recv") == [("data", 5), ("bad", "truncated"), ("tcp", "eof")]


def test_close_mid_record(progs):
    c = run_garbage(progs, [{"op": "raw", "hex": "1703030040" + "00" * 10}, {"op": "fin"}])
    assert wire(c, "recv") == [("bad", "truncated"), ("tcp", "eof")]


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_unknown_content_type(progs, tls):
    c = run_garbage(progs, [{"op": "raw", "hex": "18030300020000" + "17030300050102030405"}], tls=tls)
    assert wire(c, "recv") == [("bad", "malformed"), ("tcp", "eof")]


def test_plaintext_alert_after_tls13_handshake(progs):
    """TLS 1.3 protects every alert; a plaintext one is logged as it is."""
    c = run_garbage(progs, [{"op": "raw", "hex": "15030300020100"}, {"op": "write", "bytes": 3}])
    recs = c.records(dir="recv")
    assert recs[0]["protected"] is False and recs[0]["alert"] == "close_notify"
    assert recs[1]["type"] == "application_data" and recs[1]["seq"] == 0


def test_plaintext_alert_after_tls12_handshake(progs):
    c = run_garbage(progs, [{"op": "raw", "hex": "15030300020100"}], tls="1.2")
    assert wire(c, "recv") == [("bad", "malformed"), ("tcp", "eof")]


def test_sut_reset(progs):
    peer = {"actions": [{"do": "expect_data", "bytes": 5}, {"do": "signal_sut", "marker": "go"},
                        {"do": "read_all"}, {"do": "close"}]}
    c = cell(progs, peer, after_handshake({"op": "write", "bytes": 5},
                                          {"op": "wait_peer", "marker": "go"}, {"op": "rst"}))
    c.assert_clean()
    assert wire(c, "recv") == [("data", 5), ("tcp", "reset")]


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_sut_reset_right_after_handshake(progs, tls):
    """The reset may hit the peer while its library still sends its last
    flight (TLS 1.3 tickets): the handshake completed, the reset is an event
    and the script runs (exit 0, not a handshake failure)."""
    for _ in range(5):
        c = run_garbage(progs, [{"op": "rst"}], tls=tls)
        assert c.run.peer.returncode == 0, c
        assert ("tcp", "reset") in wire(c, "recv"), c


def test_sut_never_closes_run_deadline(progs):
    """The SUT keeps the connection open; the peer ends at its deadline with
    exit 3 and an end event."""
    c = cell(progs, {"actions": [{"do": "read_all", "timeout_ms": 60000}]},
             after_handshake({"op": "wait_peer", "marker": "never", "timeout_ms": 60000}),
             deadline_ms=1500)
    assert c.run.peer.returncode == 3 and not c.run.peer.killed, c
    assert c.peer_end["status"] == "timeout" and "run deadline" in c.peer_end["message"]


def _asan_build() -> bool:
    """Valgrind and AddressSanitizer both own the memory map: the asan
    preset's programs are leak-checked by LeakSanitizer instead."""
    peer = Path(os.environ.get("TLSCLOSE_BIN", "")) / "tlsclose-peer"
    return peer.is_file() and b"__asan_init" in peer.read_bytes()


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed")
@pytest.mark.skipif(_asan_build(), reason="an AddressSanitizer build cannot run under valgrind")
@pytest.mark.parametrize("tls,steps", [
    ("1.3", [{"op": "write", "bytes": 10}, {"op": "raw", "hex": "1703030020" + "00" * 32},
             {"op": "raw", "hex": garbage(500, 9)}]),
    ("1.2", [{"op": "write", "bytes": 10}, {"op": "shutdown"}]),
])
def test_valgrind_clean(progs, tls, steps):
    vg = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
          "--errors-for-leak-kinds=definite,indirect,possible"]
    # The peer runs under valgrind, many times slower than native: the SUT's
    # steps get the whole run's budget (a bound, not a wait: a passing run
    # ends as soon as the peer is done).
    slow = [{**s, "timeout_ms": 60000} for s in after_handshake(*steps)]
    c = cell(progs, READ_ALL, slow, tls=tls, wrapper=vg, deadline_ms=60000)
    assert c.run.peer.returncode == 0, c.run.peer.stderr


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("header", ["1403030000", "1503030000", "1603030000",
                                    "1503030001", "1603030001"])
def test_empty_or_short_records_of_every_type(progs, tls, header):
    """Zero-length and one-byte change_cipher_spec, alert and handshake
    records (protected or not, whatever the version expects), then data:
    each is an event, the run goes on to the SUT's EOF."""
    body = "00" * int(header[-4:], 16)
    c = run_garbage(progs, [{"op": "raw", "hex": header + body}, {"op": "write", "bytes": 3},
                            {"op": "fin"}], tls=tls)
    recv = wire(c, "recv")
    assert recv[-1] == ("tcp", "eof"), recv
    assert len(recv) >= 2, recv
