"""The peer's HTTP actions (docs/peer.md) against real HTTP clients and
servers, for every ending of an HTTP/1.1 exchange over TLS.

What is asserted comes from the documents:
- the peer's own report: what a cut sends (http.h, peers/http_actions.h)
  and whether a correct receiver has the whole message, RFC 9112 §8: a
  Content-Length body is complete when all of it arrived, a chunked one when
  its zero-sized chunk did;
- what a client must conclude, RFC 9112 §9.8: after an incomplete close a
  response is complete only by its Content-Length or its last chunk, and "a
  response that has neither chunked transfer coding nor Content-Length is
  complete only if a valid closure alert has been received";
- RFC 8446 §6.1: data after a closure alert is ignored; each party sends
  close_notify before closing its write side.
Where a client deviates, the test says so with the evidence (KNOWN below),
checks that the deviation is still there (so a fixed client fails the test
until the note goes) and reports it as xfail. Everything a client or server
reported is recorded (conftest.py `observe`) for the endpoint table.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import tempfile

import pytest

from harness.base.vocabulary import TLS_VERSIONS
from support import peer_http as H

BODY = 100_000
FRAMINGS = ("content-length", "chunked", "close-delimited")
CLOSE_NOTIFY = {"do": "send_alert", "alert": "close_notify"}
FIN = [{"do": "fin"}, {"do": "close"}]

# ending -> (http_send_response fields, the actions after it)
ENDINGS = {
    "complete+close_notify": ({}, [CLOSE_NOTIFY, {"do": "close"}]),
    "complete+fin": ({}, FIN),
    "after-headers+fin": ({"cut": "after-headers"}, FIN),
    "mid-body+fin": ({"cut": "mid-body"}, FIN),
    "mid-record+fin": ({"cut": "mid-body", "cut_in_record": True}, FIN),
    "chunk-boundary+fin": ({"cut": "chunk-boundary"}, FIN),
    "before-last-byte+fin": ({"cut": "before-last-byte"}, FIN),
    "close_notify+data": ({}, [CLOSE_NOTIFY, {"do": "send_data", "bytes": 100}, *FIN]),
    "mid-body+rst": ({"cut": "mid-body"}, [{"do": "rst"}]),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_send(framing: str, cut: str) -> tuple[int, bool]:
    """(body bytes sent whole, complete by RFC 9112 §8) for a cut of a
    BODY-byte response in 4096-byte chunks."""
    body_sent = {"none": BODY, "after-headers": 0, "mid-body": BODY // 2,
                 "chunk-boundary": BODY,
                 "before-last-byte": BODY if framing == "chunked" else BODY - 1}[cut]
    # chunked: the last byte is the trailer section's CRLF; "0\r\n" is whole
    complete = cut == "none" or (framing == "chunked" and cut == "before-last-byte")
    return body_sent, complete


def rfc_complete(framing: str, framed_complete: bool, closure_alert: bool) -> bool:
    """RFC 9112 §9.8: what a client must take as complete."""
    if framing == "close-delimited":
        return framed_complete and closure_alert
    return framed_complete


# ---- known deviations of the clients, with evidence ----

CURL_EOF = (
    "curl 7.88.1 takes a TCP FIN without close_notify as the end of a close-delimited body, even "
    "inside a TLS record: its OpenSSL BIO (lib/vtls/openssl.c bio_cf_ctrl) answers BIO_CTRL_EOF "
    "with 'the next filter is not connected' instead of 'EOF was seen', so OpenSSL 3 "
    "(ssl3_read_n raises SSL_R_UNEXPECTED_EOF_WHILE_READING only when BIO_eof()) reports "
    "SSL_ERROR_SYSCALL with an empty error queue, which ossl_recv treats as the end of the data "
    "outside DEBUGBUILD. Fixed in curl 8.14.1 by f1e1c8b 'tls BIOs: handle BIO_CTRL_EOF "
    "correctly' (curl issue #17471).")
PY_RAGGED = (
    "Python 3.11 sets OP_IGNORE_UNEXPECTED_EOF on every SSLContext (Modules/_ssl.c, 'Make "
    "OpenSSL 3.0.0 behave like 1.1.1') and wraps sockets with suppress_ragged_eofs=True "
    "(Lib/ssl.py), and a reset while reading is SSLEOFError (python/cpython#115627), so a FIN or "
    "RST reads as b'' like close_notify; http.client HTTPResponse.read() reads a response without "
    "length until that b'' (Lib/http/client.py).")
URLLIB3_LENGTH = (
    "urllib3 1.26.12 (under requests 2.28.1) does not enforce Content-Length: "
    "HTTPResponse(enforce_content_length=False) is its default (urllib3/response.py), and "
    "http.client's read(amt) returns short without IncompleteRead ('Ideally, we would raise "
    "IncompleteRead if the content-length wasn't satisfied, but it might break compatibility', "
    "Lib/http/client.py), so a truncated Content-Length body is returned as complete.")


def known(client: str, framing: str, ending: str, rfc: bool) -> str | None:
    """The documented reason a client accepts an incomplete response."""
    if rfc:
        return None
    rst = ending.endswith("rst")
    if framing == "close-delimited" and client == "curl" and not rst:
        return CURL_EOF
    if framing == "close-delimited" and client in ("urllib", "requests"):
        return PY_RAGGED
    if framing == "content-length" and client == "requests":
        return URLLIB3_LENGTH
    return None


# ---- the peer as a server ----

def server_cells():
    for client in H.CLIENTS:
        for framing in FRAMINGS:
            for ending in ENDINGS:
                if ending.startswith("chunk-boundary") and framing != "chunked":
                    continue
                yield "1.3", client, framing, ending
    for framing in FRAMINGS:  # TLS 1.2: the record-layer endings, one client
        for ending in ("complete+fin", "mid-record+fin", "close_notify+data"):
            yield "1.2", "curl", framing, ending


def describe(c: H.Client) -> str:
    if c.returncode is None:
        return f"killed at the deadline, {len(c.body)} B"
    if c.returncode == 0:
        return f"accepted, {len(c.body)} B"
    text = c.stderr.splitlines()[-1] if c.stderr else c.stdout
    return f"error (exit {c.returncode}: {text[:120]}), {len(c.body)} B"


@pytest.mark.parametrize("tls,client,framing,ending", list(server_cells()))
def test_client_against_peer(progs, observe, tls, client, framing, ending):
    fields, after = ENDINGS[ending]
    script = {"actions": [{"do": "http_read_request"},
                          {"do": "http_send_response", "framing": framing, "body_bytes": BODY,
                           **fields},
                          *after]}
    peer, c = H.serve_one(progs, script, client, tls)
    body_sent, framed = expected_send(framing, fields.get("cut", "none"))
    rfc = rfc_complete(framing, framed, after[0] == CLOSE_NOTIFY)
    accepted = c.returncode == 0
    observe("clients", tls=tls, client=client, framing=framing, ending=ending, rfc_complete=rfc,
            returncode=c.returncode, stderr=c.stderr[-400:], stdout=c.stdout[-400:],
            saved=len(c.body), report=describe(c))

    # the peer: ran to the end, read a whole request, sent what the cut says
    assert peer.returncode == 0 and peer.ev("end")[-1]["status"] == "ok", str(peer)
    request = peer.http("recv", "request")
    assert (request["method"], request["target"], request["complete"]) == ("GET", "/", True)
    assert peer.expects("http_request")[0]["ok"]
    sent = peer.http("sent", "response")
    assert (sent["framing"], sent["body_bytes"], sent["body_sent"], sent["complete"]) == \
        (framing, BODY, body_sent, framed), sent
    assert sent["body_sha256"] == sha(H.body(BODY))
    assert sent["sent_sha256"] == sha(H.body(body_sent))
    partial = peer.ev("record", dir="sent", type="application_data")
    assert any("partial" in r for r in partial) == fields.get("cut_in_record", False)

    # the client: whatever it saved is a prefix of the body (no byte of
    # framing, no data after close_notify, RFC 8446 §6.1)
    assert c.returncode is not None, f"{client} hung: {c.stderr}"
    assert c.body == H.body(len(c.body)), f"{client} saved bytes that are not the body"
    if client == "curl" and not ending.endswith("rst"):
        assert len(c.body) == body_sent, "curl saves what arrived: it must match body_sent"
    if accepted and rfc:
        assert c.body == H.body(BODY)
    reason = known(client, framing, ending, rfc)
    if reason:
        assert accepted and not rfc, f"the known deviation is gone: {describe(c)}; update KNOWN"
        pytest.xfail(reason)
    assert accepted == rfc, f"{client}: {describe(c)}; RFC 9112 §9.8 complete: {rfc}"


# ---- the peer as a client, against a Python ssl server ----

SERVER_ENDINGS = {  # name -> (cut, ending of PyTLSServer)
    "complete+close_notify": (None, "close_notify"),
    "complete+fin": (None, "fin"),
    "after-headers+fin": ("after-headers", "fin"),
    "mid-body+fin": ("mid-body", "fin"),
    "mid-record+fin": ("mid-body", "in_record"),
    "chunk-boundary+fin": ("chunk-boundary", "fin"),
    "before-last-byte+fin": ("before-last-byte", "fin"),
    "mid-body+rst": ("mid-body", "rst"),
}


def cut_at(wire: bytes, framing: str, cut: str | None) -> int:
    head = wire.index(b"\r\n\r\n") + 4
    if cut is None:
        return len(wire)
    if cut == "after-headers":
        return head
    if cut == "chunk-boundary":
        return len(wire) - 5
    if cut == "before-last-byte":
        return len(wire) - 1
    if framing != "chunked":                  # mid-body: where body byte BODY/2 is
        return head + BODY // 2
    at, left = head, BODY // 2
    while True:                               # walk the chunks: size line, data, CRLF
        nl = wire.index(b"\r\n", at)
        size = int(wire[at:nl], 16)
        if left < size:
            return nl + 2 + left
        left -= size
        at = nl + 2 + size + 2


def body_within(prefix: bytes, framing: str) -> int:
    """Body bytes in a prefix of a response, decoded plainly."""
    head = prefix.find(b"\r\n\r\n")
    if head < 0:
        return 0
    rest = prefix[head + 4:]
    if framing != "chunked":
        return len(rest)
    total = at = 0
    while True:
        nl = rest.find(b"\r\n", at)
        if nl < 0:
            return total
        size = int(rest[at:nl], 16)
        got = min(size, len(rest) - nl - 2)
        total += got
        if size == 0 or got < size:
            return total
        at = nl + 2 + size + 2


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("ending", list(SERVER_ENDINGS))
def test_peer_reads_python_server(progs, observe, framing, ending):
    cut, how = SERVER_ENDINGS[ending]
    if cut == "chunk-boundary" and framing != "chunked":
        pytest.skip("chunk-boundary needs chunked framing")
    wire = H.response_bytes(framing, BODY)
    at = cut_at(wire, framing, cut)
    script = {"actions": [{"do": "http_send_request"},
                          {"do": "http_read_response", "timeout_ms": 4000}, {"do": "close"}]}
    with H.PyTLSServer(progs, "1.3", wire, at, how) as server:
        peer = H.connect_one(progs, script, server.port)
    assert server.failure is None, server.failure
    assert peer.returncode == 0, str(peer)
    got = peer.http("recv", "response")
    observe("servers", server="python-ssl (test double)", tls="1.3",
            scenario=f"{framing} {ending}",
            report=f"peer read: complete={got['complete']} ended_by={got['ended_by']} "
                   f"body={got['body']} state={got['state']}")
    delivered = body_within(wire[:at], framing)
    framed = at == len(wire) or (framing == "chunked" and at >= len(wire) - 2)
    rfc = rfc_complete(framing, framed, how == "close_notify")
    assert server.read_end == "complete"
    assert (got["status"], got["framing"], got["complete"]) == (200, framing, rfc), got
    assert peer.expects("http_response")[0]["ok"] == rfc
    if how == "rst":
        assert got["ended_by"] == "reset" and got["body"] <= delivered
        return
    assert got["body"] == delivered and got["body_sha256"] == sha(H.body(delivered)), got
    ends_by_framing = framing != "close-delimited" and cut is None
    assert got["ended_by"] == (None if ends_by_framing else
                               "close_notify" if how == "close_notify" else "fin"), got
    truncated = peer.ev("bad_record", why="truncated")
    assert bool(truncated) == (how == "in_record"), peer.ev("bad_record")


# ---- the peer's request endings, seen by a Python ssl server ----

REQUEST_ENDINGS = {  # name -> (http_send_request fields, actions after it, what the server sees)
    "complete": ({}, [{"do": "http_read_response"}, {"do": "close"}], "complete"),
    "complete+close_notify": ({}, [CLOSE_NOTIFY, {"do": "http_read_response"}, {"do": "close"}],
                              "complete"),
    "after-headers+fin": ({"cut": "after-headers"}, [{"do": "fin"}, {"do": "read_all"}, {"do": "close"}], "eof"),
    "mid-body+fin": ({"cut": "mid-body"}, [{"do": "fin"}, {"do": "read_all"}, {"do": "close"}], "eof"),
    "mid-record+fin": ({"cut": "mid-body", "cut_in_record": True},
                       [{"do": "fin"}, {"do": "read_all"}, {"do": "close"}], "eof"),
    "chunk-boundary+fin": ({"cut": "chunk-boundary"}, [{"do": "fin"}, {"do": "read_all"}, {"do": "close"}],
                           "eof"),
    "mid-body+close_notify": ({"cut": "mid-body"}, [CLOSE_NOTIFY, {"do": "read_all"}, {"do": "close"}],
                              "close_notify"),
    "mid-body+rst": ({"cut": "mid-body"}, [{"do": "rst"}], "reset"),
}


@pytest.mark.parametrize("framing", ("content-length", "chunked"))
@pytest.mark.parametrize("ending", list(REQUEST_ENDINGS))
def test_request_endings_seen_by_python_server(progs, observe, framing, ending):
    fields, after, seen = REQUEST_ENDINGS[ending]
    if fields.get("cut") == "chunk-boundary" and framing != "chunked":
        pytest.skip("chunk-boundary needs chunked framing")
    request = {"do": "http_send_request", "method": "POST", "target": "/upload",
               "framing": framing, "body_bytes": 10000, **fields}
    response = H.response_bytes("content-length", 1000)
    with H.PyTLSServer(progs, "1.3", response) as server:
        peer = H.connect_one(progs, {"actions": [request, *after]}, server.port)
    assert server.failure is None, server.failure
    assert peer.returncode == 0, str(peer)
    sent = peer.http("sent", "request")
    observe("requests", server="python-ssl (test double, EOF not ignored)", tls="1.3",
            scenario=f"POST {framing} {ending}",
            report=f"{server.read_end}: {server.read_error or 'request read whole'}; "
                   f"{len(server.request)} of {sent['wire_bytes']} bytes")
    assert server.read_end == seen, (server.read_end, server.read_error)
    assert server.request.startswith(b"POST /upload HTTP/1.1\r\n")
    if seen == "reset":
        assert len(server.request) <= sent["wire_sent"]
    else:
        assert len(server.request) == sent["wire_sent"], (len(server.request), sent)
    assert sent["complete"] == (seen == "complete")
    if seen == "complete":
        got = peer.http("recv", "response")
        assert (got["status"], got["body"], got["complete"]) == (200, 1000, True), got


# ---- the peer as a client, against openssl s_server -WWW ----

WWW_SCRIPTS = {
    "complete": [{"do": "http_send_request", "target": "/file.txt"},
                 {"do": "http_read_response"}, CLOSE_NOTIFY, {"do": "close"}],
    "request+close_notify": [{"do": "http_send_request", "target": "/file.txt"}, CLOSE_NOTIFY,
                             {"do": "http_read_response"}, {"do": "close"}],
    "request+fin": [{"do": "http_send_request", "target": "/file.txt"}, {"do": "fin"},
                    {"do": "http_read_response"}, {"do": "close"}],
    "request-cut-before-last-byte+fin": [
        {"do": "http_send_request", "target": "/file.txt", "cut": "before-last-byte"},
        {"do": "fin"}, {"do": "http_read_response", "timeout_ms": 3000}, {"do": "close"}],
    "request-cut-in-record+fin": [
        {"do": "http_send_request", "target": "/file.txt", "cut": "before-last-byte",
         "cut_in_record": True},
        {"do": "fin"}, {"do": "http_read_response", "timeout_ms": 3000}, {"do": "close"}],
}


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("scenario", list(WWW_SCRIPTS))
def test_s_server_www(progs, observe, tls, scenario):
    with tempfile.TemporaryDirectory(prefix="tlsclose-www-") as tmp:
        docroot = pathlib.Path(tmp)
        (docroot / "file.txt").write_bytes(H.body(BODY))
        with H.s_server_www(progs, docroot, tls) as (port, _lines):
            peer = H.connect_one(progs, {"actions": WWW_SCRIPTS[scenario]}, port, tls)
    assert peer.returncode == 0, str(peer)
    got = peer.http("recv", "response")
    observe("servers", server="openssl s_server -WWW", tls=tls, scenario=scenario,
            report=f"{got['version']} {got['status']} {got['framing']}, body {got['body']} B, "
                   f"ended by {got['ended_by']}, complete={got['complete']}")
    # a close-delimited response is complete only after a closure alert
    # (RFC 9112 §9.8), which the server must send before closing (RFC 8446 §6.1)
    assert (got["status"], got["framing"]) == (200, "close-delimited"), got
    assert got["complete"] == (got["ended_by"] == "close_notify")
    assert got["ended_by"] == "close_notify", got
    assert got["body"] == BODY and got["body_sha256"] == sha(H.body(BODY))


# ---- the script checks of the new actions ----

@pytest.mark.parametrize("action,message", [
    ({"do": "http_send_response", "framing": "gzip"}, "field 'framing'"),
    ({"do": "http_send_response", "cut": "middle"}, "field 'cut'"),
    ({"do": "http_send_response", "status": 204}, "field 'status'"),
    ({"do": "http_send_response", "status": 99}, "field 'status'"),
    ({"do": "http_send_response", "body_bytes": 16777217}, "field 'body_bytes'"),
    ({"do": "http_send_response", "record": 16385}, "field 'record'"),
    ({"do": "http_send_response", "chunk": 10}, "field 'chunk': only with chunked"),
    ({"do": "http_send_response", "framing": "chunked", "chunk": 0}, "field 'chunk'"),
    ({"do": "http_send_response", "cut": "mid-body", "body_bytes": 1}, "field 'cut'"),
    ({"do": "http_send_response", "cut": "chunk-boundary"}, "field 'cut'"),
    ({"do": "http_send_response", "cut_in_record": True}, "field 'cut_in_record'"),
    ({"do": "http_send_response", "body_bytes": 0, "cut": "after-headers", "cut_in_record": True},
     "field 'cut_in_record'"),
    ({"do": "http_send_response", "bytes": 1}, "unknown field 'bytes'"),
    ({"do": "http_send_request", "method": "PUT"}, "field 'method'"),
    ({"do": "http_send_request", "body_bytes": 5}, "field 'body_bytes'"),
    ({"do": "http_send_request", "framing": "chunked"}, "field 'framing'"),
    ({"do": "http_send_request", "method": "POST", "framing": "close-delimited"}, "field 'framing'"),
    ({"do": "http_send_request", "target": "/a b"}, "field 'target'"),
    ({"do": "http_send_request", "host": ""}, "field 'host'"),
    ({"do": "http_send_request", "status": 200}, "unknown field 'status'"),
    ({"do": "http_read_request", "bytes": 1}, "unknown field 'bytes'"),
    ({"do": "http_read_response", "framing": "chunked"}, "unknown field 'framing'"),
])
def test_bad_http_action_exits_2_naming_the_field(progs, tmp_path, action, message):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"actions": [{"do": "close"}, action]}))
    p = subprocess.run([*H.peer_argv(progs, "server", "1.3", script), "--fd", "0"],
                       capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p.stdout + p.stderr
    want = f"action 2 ({action['do']}): {message}"
    assert want in p.stderr, p.stderr
