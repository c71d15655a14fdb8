"""Recorded peer and shim output for evaluation tests (no processes)."""
from __future__ import annotations

import copy

from harness.run.processes import CellRun, ProcessResult

HELLO = {"shim": "openssl", "library": "OpenSSL 3.0.19 27 Jan 2026", "api": "openssl",
         "role": "client", "tls": "1.3", "io": "blocking"}


def op(step, name, outcome, ret=1, error="", sent=False, received=False, queue=(), errno=0):
    return {"step": step, "op": name, "outcome": outcome, "wants": [], "calls": 1,
            "native": {"ret": ret, "error": error, "queue": list(queue), "errno": errno},
            "flags": {"sent": sent, "received": received}, "bytes": 0, "ms": 0.2}


# The shim's lines for VALID_CASE when the stack behaves as documented.
SUT_OK = [
    HELLO,
    op(1, "handshake", "ok"),
    op(2, "shutdown", "sent", ret=0, sent=True),
    op(3, "read", "closed", ret=0, error="SSL_ERROR_ZERO_RETURN", sent=True, received=True),
    {"end": "ok"},
]

PEER_OK = [
    {"ev": "start", "role": "server", "tls": "1.3", "ms": 0.0},
    {"ev": "handshake", "conn": 1, "tls": "1.3", "cipher": "TLS_AES_128_GCM_SHA256",
     "resumed": False, "ms": 3.1},
    {"ev": "action", "do": "expect_close_notify", "ms": 3.2},
    {"ev": "record", "dir": "recv", "by": "sut", "conn": 1, "type": "alert", "level": "warning",
     "level_byte": 1, "alert": "close_notify", "code": 0, "epoch": 0, "seq": 0, "len": 2,
     "ms": 4.0},
    {"ev": "expect", "what": "close_notify", "ok": True, "ms": 4.0},
    {"ev": "record", "dir": "sent", "by": "peer", "conn": 1, "type": "alert",
     "level": "warning", "level_byte": 1, "alert": "close_notify", "code": 0, "epoch": 0,
     "seq": 1, "len": 2, "ms": 4.1},
    {"ev": "end", "status": "ok", "ms": 4.3},
]


def proc(lines, returncode=0, signal=None, killed=False, stderr="", bad=()):
    return ProcessResult(["prog"], returncode, signal, copy.deepcopy(lines), list(bad), stderr,
                         killed)


def run(sut=None, peer=None, **sut_kw) -> CellRun:
    return CellRun(peer if peer is not None else proc(PEER_OK),
                   sut if sut is not None else proc(SUT_OK, **sut_kw), 12.5)
