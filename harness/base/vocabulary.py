"""The words of the shim protocol and the peer script, as data.

Everything here restates docs/shim-protocol.md and docs/peer.md so the case
validator can reject a typo before a process ever starts. When those
contracts grow, this file grows with them; nothing else hard-codes an op,
action or outcome name.
"""
from __future__ import annotations

TLS_VERSIONS = ("1.2", "1.3")
IO_MODES = ("blocking", "nonblocking", "memory")
ROLES = ("client", "server")
APIS = ("openssl", "native")

# Sizes the harness accepts from a case. Larger values are almost certainly
# typos and would only turn into slow or stuck cells.
MAX_BYTES = 16 * 1024 * 1024
MAX_RECORD = 16384
MAX_HEX_BYTES = 65536
MAX_TIMEOUT_MS = 120_000
DEFAULT_DEADLINE_MS = 8000
DEFAULT_STEP_TIMEOUT_MS = 5000

# Field kinds used by the schemas below:
#   "bool", "size" (0..MAX_BYTES), "count" (1..MAX_BYTES), "record" (1..MAX_RECORD),
#   "ms" (1..MAX_TIMEOUT_MS), "marker", "text",
#   ("enum", values...), "records" (list of record sizes), "hex", "alert",
#   "level", "alert_list", ("int", lo, hi).

# op -> {field: kind}; `required` lists the fields a step must have.
SHIM_OPS: dict[str, dict[str, object]] = {
    "handshake": {"nowait": "bool"},
    "write": {"bytes": "size", "nowait": "bool", "until_blocked": "bool"},
    "read": {"bytes": "size", "until": ("enum", "close"), "nowait": "bool"},
    "shutdown": {"nowait": "bool"},
    "shutdown_quiet": {},
    "shutdown_full": {"nowait": "bool"},
    "get_shutdown": {},
    "get_error_after": {},
    "keyupdate": {"request_peer": "bool"},
    "close_transport": {},
    "free_without_shutdown": {},
    "session_resumable": {},
    "resume": {},
    "signal_peer": {"marker": "marker"},
    "wait_peer": {"marker": "marker"},
    "plaintext_write": {"text": "text"},
    "plaintext_read": {"text": "text"},
    "set_option": {"option": ("enum", "ignore_unexpected_eof", "post_handshake_auth",
                              "quiet_shutdown"),
                   "scope": ("enum", "connection", "context")},
    "clear": {},
}
SHIM_REQUIRED = {
    "write": ("bytes",),
    "signal_peer": ("marker",),
    "wait_peer": ("marker",),
    "plaintext_write": ("text",),
    "plaintext_read": ("text",),
    "set_option": ("option",),
}
STEP_COMMON = {"op": "text", "timeout_ms": "ms"}
STEP_HARNESS_ONLY = ("label",)

# Normalized outcomes per op (shim protocol §5). {N} is a count, {CLASS} an
# error class, {NAME} an alert or error name.
_SHUTDOWN = ("sent", "complete", "closed", "want_read", "want_write", "error:{CLASS}")
OUTCOMES: dict[str, tuple[str, ...]] = {
    "handshake": ("ok", "want_read", "want_write", "error:{CLASS}"),
    "write": ("ok:{N}", "want_write", "want_read", "error:{CLASS}"),
    "read": ("data:{N}", "closed", "truncated", "want_read", "want_write", "error:{CLASS}"),
    "shutdown": _SHUTDOWN,
    "shutdown_quiet": _SHUTDOWN,
    "shutdown_full": _SHUTDOWN,
    "get_shutdown": ("none", "sent", "received", "sent+received", "unknown"),
    "get_error_after": ("{NAME}",),
    "keyupdate": ("ok", "error:{CLASS}"),
    "session_resumable": ("resumable", "not_resumable"),
    "resume": ("reused", "not_reused", "error:{CLASS}"),
    "free_without_shutdown": ("ok",),
    "close_transport": ("ok",),
    "signal_peer": ("ok",),
    "wait_peer": ("ok",),
    "plaintext_write": ("ok:{N}", "error:{CLASS}"),
    "plaintext_read": ("match", "mismatch", "eof", "error:reset"),
    "set_option": ("ok", "error:{CLASS}"),
    "clear": ("ok", "error:{CLASS}"),
}
ERROR_CLASSES = ("unexpected_eof", "reset", "shut_down", "data_after_close", "decode",
                 "alert:{NAME}", "warning_alert:{NAME}", "renegotiation", "timeout", "protocol",
                 "other")

# The fields both HTTP sending actions take (docs/peer.md, "HTTP").
HTTP_FRAMINGS = ("enum", "content-length", "chunked", "close-delimited")
HTTP_CUTS = ("enum", "none", "after-headers", "mid-body", "chunk-boundary", "before-last-byte")
_HTTP_SEND = {"body_bytes": "size", "chunk": "count", "record": "record", "cut": HTTP_CUTS,
              "cut_in_record": "bool"}

# Peer actions (docs/peer.md): do -> {field: kind}.
# `hold` (the sending actions): the action's bytes wait and leave in one
# write with the next sending action's.
HANDSHAKE_MESSAGES = ("enum", "hello_request", "client_hello", "new_session_ticket",
                      "certificate_request")
PEER_ACTIONS: dict[str, dict[str, object]] = {
    "send_data": {"bytes": "size", "records": "records", "hold": "bool"},
    "send_alert": {"alert": "alert", "level": "level", "fragment": "record",
                   "trailing": "hex", "coalesce": "alert_list", "hold": "bool"},
    "send_keyupdate": {"request": "bool", "hold": "bool"},
    "send_handshake": {"msg": HANDSHAKE_MESSAGES, "part": ("int", 1, 256), "hold": "bool"},
    "send_partial_record": {"bytes": "record"},
    "send_raw": {"hex": "hex", "hold": "bool"},
    "send_plaintext": {"text": "text", "hold": "bool"},
    "fin": {},
    "rst": {},
    "expect_data": {"bytes": "count"},
    "expect_close_notify": {},
    "expect_eof": {},
    "expect_rst": {},
    "expect_plaintext": {"text": "text"},
    "expect_silence": {},
    "read_all": {},
    "stop_reading": {},
    "signal_sut": {"marker": "marker"},
    "wait_marker": {"marker": "marker"},
    "close": {},
    "next_connection": {},
    # HTTP/1.1 on top of the record layer (docs/peer.md, "HTTP").
    "http_read_request": {},
    "http_read_response": {},
    "http_send_response": {"status": ("int", 200, 599), "framing": HTTP_FRAMINGS,
                           **_HTTP_SEND},
    "http_send_request": {"method": ("enum", "GET", "POST"), "target": "text", "host": "text",
                          "framing": ("enum", "content-length", "chunked"), **_HTTP_SEND},
}
PEER_REQUIRED = {
    "send_data": ("bytes",),
    "send_alert": ("alert",),
    "send_handshake": ("msg",),
    "send_raw": ("hex",),
    "send_plaintext": ("text",),
    "expect_data": ("bytes",),
    "expect_plaintext": ("text",),
    "signal_sut": ("marker",),
    "wait_marker": ("marker",),
}
ACTION_COMMON = {"do": "text", "timeout_ms": "ms"}

PERSONALITIES: dict[str, dict[str, object]] = {
    "well-behaved": {"bytes": "size"},
    "no-close-notify": {"bytes": "size"},
    "data-after-close": {"variant": ("enum", "legal", "illegal"), "bytes": "size"},
    "truncating": {"variant": ("enum", "mid-record", "between-records", "rst"), "bytes": "size"},
    "quiet": {"bytes": "size", "silence_ms": "ms"},
}
# Every personality parameter has a default (docs/peer.md); timeout_ms is
# given to each of the personality's actions.
PERSONALITY_COMMON = {"timeout_ms": "ms"}
PEER_SCRIPT_COMMON = {"answer_keyupdate": "bool"}
# Only next to `actions`: false switches tickets off (SSL_OP_NO_TICKET), so
# TLS 1.2 resumption depends on the server's session-ID cache alone;
# handshake_may_fail lets the first handshake fail (the SUT abandons it): the
# failure is logged and ends the script, the peer exits 0; handshake_after_marker
# leaves the SUT's first flight unread until the SUT sends that marker.
PEER_ACTIONS_SCRIPT = {"session_tickets": "bool", "handshake_may_fail": "bool",
                       "handshake_after_marker": "marker"}
PEER_HARNESS_ONLY = ("cipher",)

# Cipher suites the peer can be restricted to, per TLS version (docs/peer.md).
CIPHERS = {
    "1.3": ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
    "1.2": ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305"),
}

# TLS alert descriptions (IANA TLS Alerts registry).
ALERTS = {
    "close_notify": 0, "unexpected_message": 10, "bad_record_mac": 20,
    "decryption_failed": 21, "record_overflow": 22, "decompression_failure": 30,
    "handshake_failure": 40, "no_certificate": 41, "bad_certificate": 42,
    "unsupported_certificate": 43, "certificate_revoked": 44, "certificate_expired": 45,
    "certificate_unknown": 46, "illegal_parameter": 47, "unknown_ca": 48,
    "access_denied": 49, "decode_error": 50, "decrypt_error": 51,
    "export_restriction": 60, "protocol_version": 70, "insufficient_security": 71,
    "internal_error": 80, "inappropriate_fallback": 86, "user_canceled": 90,
    "no_renegotiation": 100, "missing_extension": 109, "unsupported_extension": 110,
    "certificate_unobtainable": 111, "unrecognized_name": 112,
    "bad_certificate_status_response": 113, "bad_certificate_hash_value": 114,
    "unknown_psk_identity": 115, "certificate_required": 116,
    "no_application_protocol": 120,
}
ALERT_LEVELS = ("warning", "fatal")

# What the peer's `expect` events are about (docs/peer.md, "The transcript"):
# its expect_* and http_read_* actions, and a sending action that could not
# send (named after the action).
PEER_EXPECTS = ("data", "close_notify", "eof", "rst", "plaintext", "silence", "marker",
                "http_request", "http_response")

# Expectation levels (docs/case-format.md, "Levels"), the severities of an
# rfc-level violation, and the API models a stack file can declare.
LEVELS = ("rfc", "model", "api")
SEVERITIES = ("security", "interop", "hygiene")
MODELS = ("ssl_shutdown", "none")

# Transcript events of the peer and the fields a wire pattern may test.
PEER_EVENTS = ("start", "handshake", "record", "bad_record", "tcp", "plaintext", "marker",
               "expect", "action", "end")
EVENT_FIELDS = ("ev", "dir", "by", "conn", "type", "epoch", "seq", "len", "level",
                "level_byte", "alert", "code", "malformed", "handshake", "messages", "request_update",
                "fragment", "hex", "why", "what", "drained", "text", "name", "ok", "detail",
                "do", "status", "message", "role", "tls", "cipher", "resumed", "error",
                "in_handshake", "protected", "partial", "takeover", "record_header")

# api-level fields of one step: the SSL_shutdown(3) contract values and the
# native answers of the session queries (`reused` of resume, `resumable` of
# session_resumable).
API_FIELDS = ("ret", "error", "queue", "errno", "sent", "received", "reused", "resumable")

# Steps and actions that only exist in TLS 1.3.
TLS13_ONLY_OPS = ("keyupdate",)
TLS13_ONLY_ACTIONS = ("send_keyupdate",)

# -- real endpoints (docs/endpoints.md) ----------------------------------------------------
# Scenario files (endpoints/scenarios/*.toml) and endpoint files (endpoints/*.toml).
# What a scenario asks, for the endpoint table: a plain exchange, how the endpoint closes,
# whether it answers the peer's close_notify, whether it detects a truncation, whether it
# takes data after a closure alert.
SCENARIO_QUESTIONS = ("baseline", "closure", "peer-close-notify", "truncation",
                      "data-after-close-notify")
HTTP_FRAMING_NAMES = HTTP_FRAMINGS[1:]
# A client's judged answer: it accepted the response as complete, it rejected it, or (whatever
# it decided) what it delivered is exactly the body served.
CLIENT_EXPECTS = ("accept", "reject", "exact-body")
# A server's judged answer about the request: the application never got it complete.
SERVER_REQUEST_EXPECTS = ("not-complete",)
# Where a client puts the body it received: a file ({body}), its standard output, nowhere.
CLIENT_BODY = ("file", "stdout", "none")
# How a server gets its listening socket: an inherited descriptor ({listen_fd}), systemd
# socket activation (descriptor 3, LISTEN_FDS, LISTEN_PID), or it binds one itself.
SERVER_LISTEN = ("fd", "systemd", "self")
# With listen = "self", where its port comes from: a free port the tool picked ({port} in its
# command or config), the `port` group of the `ready` pattern, its own listening sockets.
SERVER_PORT = ("pick", "ready", "proc")
CLIENT_PLACEHOLDERS = ("port", "url", "body", "dir", "bin", "root", "cert", "key")
SERVER_PLACEHOLDERS = ("port", "listen_fd", "backend_port", "dir", "bin", "root", "cert", "key",
                       "cert_and_key")
