#!/usr/bin/python3
"""Writes the fuzzers' seed corpus (fuzz/corpus/) and dictionaries from the
case files and the vocabulary, so the seeds follow the case corpus:

    /usr/bin/python3 fuzz/make_corpus.py

corpus/step_script/CASE.json   the case's SUT step script, as the shim reads it
corpus/peer_script/CASE.bin    byte 0: 1 for TLS 1.3 (0 if the case is 1.2
                               only), then the peer script as the peer reads it
corpus/peer_script/http-*.bin  the HTTP scripts below (no case uses them yet)
corpus/record/*.bin            byte 0: suite, byte 1: mode, then data
                               (fuzz_record.c)
corpus/http_parse/*.bin        byte 0: request/response and piece size, then
                               a message (fuzz_http_parse.c)
step_script.dict, peer_script.dict, http_parse.dict
                               the op, action, field and value names; HTTP tokens
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from harness.base import vocabulary as V  # noqa: E402
from harness.spec import corpus  # noqa: E402


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def scripts() -> None:
    for case in corpus.load_cases(corpus.case_files(ROOT / "cases"), ROOT):
        steps = json.dumps(case.sut_script(), separators=(",", ":")).encode()
        write(HERE / "corpus" / "step_script" / f"{case.id}.json", steps)
        tls13 = b"\x01" if "1.3" in case.applies["tls"] else b"\x00"
        peer = json.dumps(case.peer, separators=(",", ":")).encode()
        write(HERE / "corpus" / "peer_script" / f"{case.id}.bin", tls13 + peer)


# The values of the peer's HTTP fields, for the dictionary.
HTTP_VALUES = {"content-length", "chunked", "close-delimited", "none", "after-headers",
               "mid-body", "chunk-boundary", "before-last-byte", "GET", "POST"}

# One script per ending of an HTTP exchange, as the peer's own tests run them.
HTTP_SCRIPTS = {
    "http-server-complete-close-notify": [
        {"do": "http_read_request"},
        {"do": "http_send_response", "framing": "chunked", "body_bytes": 100000},
        {"do": "send_alert", "alert": "close_notify"}, {"do": "close"}],
    "http-server-cut-in-record": [
        {"do": "http_read_request", "timeout_ms": 3000},
        {"do": "http_send_response", "framing": "content-length", "body_bytes": 5000,
         "cut": "mid-body", "cut_in_record": True, "record": 1000},
        {"do": "fin"}, {"do": "close"}],
    "http-server-close-delimited-then-data": [
        {"do": "http_read_request"},
        {"do": "http_send_response", "status": 404, "framing": "close-delimited",
         "body_bytes": 64},
        {"do": "send_alert", "alert": "close_notify"}, {"do": "send_data", "bytes": 100},
        {"do": "fin"}, {"do": "close"}],
    "http-client-post-chunk-boundary": [
        {"do": "http_send_request", "method": "POST", "target": "/upload", "host": "example.test",
         "framing": "chunked", "chunk": 1000, "body_bytes": 3000, "cut": "chunk-boundary"},
        {"do": "fin"}, {"do": "http_read_response", "timeout_ms": 2000}, {"do": "close"}],
}


def http_scripts() -> None:
    for name, actions in HTTP_SCRIPTS.items():
        peer = json.dumps({"actions": actions}, separators=(",", ":")).encode()
        write(HERE / "corpus" / "peer_script" / f"{name}.bin", b"\x01" + peer)


def http_messages() -> None:
    seeds = {
        "request-get": (0, b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n"),
        "request-post-length": (2, b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
        "request-post-chunked": (4, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"),
        "response-length": (1, b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc"),
        "response-chunked": (3, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                                b"A\r\n0123456789\r\n0\r\n\r\n"),
        "response-close": (5, b"HTTP/1.0 200 ok\nContent-type: text/plain\n\nbody"),
        "response-interim": (7, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
    }
    for name, (head, message) in seeds.items():
        write(HERE / "corpus" / "http_parse" / f"{name}.bin", bytes([head]) + message)


def records() -> None:
    seeds = {
        # stream mode: a framed record that fails authentication, then a
        # header alone; an oversized header; an empty record
        "stream-bad-mac": b"\x00\x00" + b"\x17\x03\x03\x00\x20" + bytes(32) + b"\x17\x03",
        "stream-oversized": b"\x03\x00" + b"\x17\x03\x03\xff\xff" + bytes(8),
        "stream-empty": b"\x04\x00" + b"\x17\x03\x03\x00\x00",
        "stream-alert-plain": b"\x01\x00" + b"\x15\x03\x03\x00\x02\x01\x00",
    }
    for suite in range(6):
        # round trip: application data, an alert, a corrupted record, padding
        seeds[f"rt{suite}-data"] = bytes([suite, 1, 23, 0, 0xff]) + b"hello, world"
        seeds[f"rt{suite}-alert"] = bytes([suite, 1, 21, 3, 0xff]) + b"\x01\x00"
        seeds[f"rt{suite}-corrupt"] = bytes([suite, 1, 23, 0, 9]) + b"tampered"
        seeds[f"rt{suite}-empty"] = bytes([suite, 1, 22, 7, 0xff])
    for name, data in seeds.items():
        write(HERE / "corpus" / "record" / f"{name}.bin", data)


def dictionaries() -> None:
    step_words = {"op", "timeout_ms", "close"}
    for op, fields in V.SHIM_OPS.items():
        step_words |= {op, *fields}
    peer_words = {"do", "actions", "personality", "timeout_ms", "warning", "fatal",
                  *V.PEER_SCRIPT_COMMON, *V.PEER_ACTIONS_SCRIPT, *V.ALERTS}
    for name, fields in {**V.PEER_ACTIONS, **V.PERSONALITIES}.items():
        peer_words |= {name, *fields}
    peer_words |= {"legal", "illegal", "mid-record", "between-records", "rst", *HTTP_VALUES}
    common = ['"{"', '"}"', '"["', '"]"', '":"', '","', '"true"', '"false"', '"null"', '"-1"',
              '"0"', '"16384"', '"67108864"', '"4294967296"']
    for fname, words in (("step_script.dict", step_words), ("peer_script.dict", peer_words)):
        lines = [f'"\\"{w}\\""' for w in sorted(words)] + common
        write(HERE / fname, ("\n".join(lines) + "\n").encode())
    http_tokens = ["HTTP/1.1", "HTTP/1.0", "GET", "POST", " 200 OK", " 100 Continue", " 204 ",
                   " 304 ", "Content-Length:", "Transfer-Encoding:", "chunked", "gzip", "\r\n",
                   "\r\n\r\n", "0\r\n\r\n", ";", ",", ":", " ", "\t", "ffffffff"]
    write(HERE / "http_parse.dict", ("\n".join(f'"{dict_escape(t)}"' for t in http_tokens)
                                     + "\n").encode())


def dict_escape(token: str) -> str:
    """libFuzzer's dictionary syntax: control bytes, quotes and backslashes as \\xNN."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else f"\\x{ord(c):02x}"
                   for c in token)


if __name__ == "__main__":
    scripts()
    http_scripts()
    records()
    http_messages()
    dictionaries()
