"""What one Python ssl call reported, natively and normalized
(docs/shim-protocol.md §3 `native`, §5 outcomes and error classes).

Needs: the kind of call ("handshake", "read", "write", "shutdown"), what it
returned or the exception it raised.
Gives: `classify(kind, value, exc) -> Call`.
Never: calls the library, raises.

Native fields, Python's way: `error` is the exception class and its text
("SSLEOFError: EOF occurred in violation of protocol", "" when the call
returned), `queue` holds "library: REASON" when Python names the OpenSSL
reason ("SSL: APPLICATION_DATA_AFTER_CLOSE_NOTIFY"), `errno` is set for
OSError only (an SSLError's errno is OpenSSL's SSL_ERROR_* code, which the
class already says), `ret` is the number a read or write returned and null
for calls that return no number or raised.
"""
from __future__ import annotations

import dataclasses
import errno as E
import re
import ssl

# OpenSSL reason mnemonics (as Python's SSLError.reason spells them) that
# mean the bytes did not parse as records or alerts.
DECODE_REASONS = frozenset((
    "BAD_LENGTH", "BAD_PACKET", "BAD_PACKET_LENGTH", "LENGTH_MISMATCH", "LENGTH_TOO_SHORT",
    "LENGTH_TOO_LONG", "RECORD_LENGTH_MISMATCH", "RECORD_TOO_SMALL", "PACKET_LENGTH_TOO_LONG",
    "ENCRYPTED_LENGTH_TOO_LONG", "DATA_LENGTH_TOO_LONG", "EXCESSIVE_MESSAGE_SIZE",
    "DECRYPTION_FAILED", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC", "INVALID_ALERT",
    "UNKNOWN_ALERT_TYPE", "WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"))
ALERT_PREFIXES = ("SSLV3_ALERT_", "TLSV13_ALERT_", "TLSV1_ALERT_", "TLSV1_")
# TLS alert descriptions, RFC 8446 spelling (IANA TLS Alerts registry).
ALERT_NAMES = frozenset((
    "close_notify", "unexpected_message", "bad_record_mac", "decryption_failed",
    "record_overflow", "decompression_failure", "handshake_failure", "no_certificate",
    "bad_certificate", "unsupported_certificate", "certificate_revoked",
    "certificate_expired", "certificate_unknown", "illegal_parameter", "unknown_ca",
    "access_denied", "decode_error", "decrypt_error", "export_restriction",
    "protocol_version", "insufficient_security", "internal_error", "inappropriate_fallback",
    "user_canceled", "no_renegotiation", "missing_extension", "unsupported_extension",
    "certificate_unobtainable", "unrecognized_name", "bad_certificate_status_response",
    "bad_certificate_hash_value", "unknown_psk_identity", "certificate_required",
    "no_application_protocol"))
# OpenSSL's mnemonic where it differs from the registry's name.
ALERT_SPELLING = {"user_cancelled": "user_canceled"}
SUCCESS = {"handshake": "ok", "shutdown": "complete"}
_SOURCE_SUFFIX = re.compile(r"\s*\(_ssl\.c:\d+\)$")
_REASON_PREFIX = re.compile(r"^\[[^\]]*\]\s*")


@dataclasses.dataclass
class Call:
    outcome: str              # "" when want is set
    want: str | None          # "want_read" / "want_write"
    native: dict
    bytes: int = 0
    timed_out: bool = False   # Python's own timeout (blocking mode) fired


def _text(exc: BaseException) -> str:
    """The human part of an exception, without Python's source location."""
    if isinstance(exc, OSError) and isinstance(exc.strerror, str):
        text = exc.strerror
    elif exc.args and isinstance(exc.args[-1], str):
        text = exc.args[-1]
    else:
        text = str(exc)
    return _SOURCE_SUFFIX.sub("", _REASON_PREFIX.sub("", text))


def native_of(value: object, exc: BaseException | None) -> dict:
    ret = len(value) if isinstance(value, (bytes, bytearray)) else \
        value if isinstance(value, int) and not isinstance(value, bool) else None
    if exc is None:
        return {"ret": ret, "error": "", "queue": [], "errno": 0}
    queue = []
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and reason:
        queue.append(f"{getattr(exc, 'library', None) or 'SSL'}: {reason}")
    os_errno = exc.errno if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) \
        and isinstance(exc.errno, int) else 0
    return {"ret": None, "error": f"{type(exc).__name__}: {_text(exc)}", "queue": queue,
            "errno": os_errno}


def alert_name(reason: str) -> str | None:
    for prefix in ALERT_PREFIXES:
        if reason.startswith(prefix):
            name = reason[len(prefix):].lower()
            name = ALERT_SPELLING.get(name, name)
            return name if name in ALERT_NAMES else None
    return None


def _ssl_error_class(kind: str, exc: ssl.SSLError) -> str:
    reason = exc.reason or ""
    if reason == "UNEXPECTED_EOF_WHILE_READING":
        return "truncated" if kind == "read" else "error:unexpected_eof"
    if reason == "PROTOCOL_IS_SHUTDOWN":
        return "error:shut_down"
    if reason == "APPLICATION_DATA_AFTER_CLOSE_NOTIFY":
        return "error:data_after_close"
    name = alert_name(reason)
    if name:
        return f"error:alert:{name}"
    if reason in DECODE_REASONS:
        return "error:decode"
    return "error:protocol"


def _failure(kind: str, exc: BaseException) -> str:
    """The normalized outcome of a call that raised (wants excluded)."""
    if isinstance(exc, ssl.SSLZeroReturnError):
        return "closed"
    if isinstance(exc, ssl.SSLEOFError):
        return "truncated" if kind == "read" else "error:unexpected_eof"
    if isinstance(exc, ssl.SSLSyscallError):
        return "error:other"
    if isinstance(exc, ssl.SSLError):
        return _ssl_error_class(kind, exc)
    if isinstance(exc, TimeoutError):
        return "error:timeout"
    if isinstance(exc, OSError):
        return "error:reset" if exc.errno in (E.ECONNRESET, E.EPIPE) else "error:other"
    if isinstance(exc, ValueError):
        # "Read/Write on closed or unwrapped SSL socket", "No SSL wrapper
        # around ...": ssl.py refuses because unwrap() already removed TLS.
        return "error:shut_down"
    return "error:other"


def classify(kind: str, value: object, exc: BaseException | None) -> Call:
    native = native_of(value, exc)
    if exc is None:
        if kind == "read":
            # b'' is how Python's read reports the end of the stream: the
            # application sees a clean end, so that is the outcome.
            n = len(value)
            return Call(f"data:{n}" if n else "closed", None, native, n)
        if kind == "write":
            return Call(f"ok:{value}", None, native, int(value))
        return Call(SUCCESS[kind], None, native)
    if isinstance(exc, ssl.SSLWantReadError):
        return Call("", "want_read", native)
    if isinstance(exc, ssl.SSLWantWriteError):
        return Call("", "want_write", native)
    outcome = _failure(kind, exc)
    return Call(outcome, None, native, timed_out=outcome == "error:timeout")
