"""The statements every case traces back to (docs/case-format.md, "cites").

S1-S21 are statements of the SSL_shutdown(3) manual page; R1-R12 are closure
requirements of RFC 8446 and RFC 5246. A case cites the ids it checks; the
corpus check (`tlsclose cases --check`) demands that every id is cited at
least once, and the report's traceability page is generated from this table.
"""
from __future__ import annotations

SOURCES = {
    "S": "SSL_shutdown(3)",
    "R": "RFC 8446 / RFC 5246",
}

STATEMENTS: dict[str, str] = {
    "S1": "SSL_shutdown sends a close_notify alert.",
    "S2": "Whether or not sending succeeds, SSL_SENT_SHUTDOWN is set and the session counts as "
          "good and stays in the cache.",
    "S3": "SSL_shutdown must not be called after a fatal error (SSL_ERROR_SYSCALL / "
          "SSL_ERROR_SSL); if it is, no close_notify may follow a fatal alert on the wire.",
    "S4": "Two steps, sending and receiving close_notify, in either order.",
    "S5": "Unidirectional close: sending close_notify and closing the transport without waiting "
          "is fine when the peer sends nothing more.",
    "S6": "Otherwise it risks truncation: a transport close without close_notify must be "
          "reportable as truncation, never as a clean end.",
    "S7": "TLS 1.3: a client that only writes and never reads may miss the session ticket; a "
          "complete bidirectional shutdown makes resumption work.",
    "S8": "Transport reuse after TLS needs the complete shutdown so both sides stay in sync.",
    "S9": "SSL_shutdown closes only the write direction: SSL_write afterwards fails; reading "
          "continues until the peer closes.",
    "S10": "First to close: SSL_shutdown returns 0, SENT set, RECEIVED not set.",
    "S11": "RECEIVED is set after the peer's close_notify has been received and processed.",
    "S12": "The peer may still send data after receiving close_notify; SSL_read returns it all, "
           "then ends with <= 0 and SSL_ERROR_ZERO_RETURN.",
    "S13": "Peer closed first (seen inside SSL_read: <= 0, ZERO_RETURN, RECEIVED set): "
           "SSL_shutdown sends close_notify and returns 1.",
    "S14": "SSL_get_shutdown reports RECEIVED/SENT at every point.",
    "S15": "Blocking BIO: SSL_shutdown returns only when its step is finished or an error "
           "occurred.",
    "S16": "Nonblocking BIO: SSL_ERROR_WANT_READ / WANT_WRITE, repeat the call; with a BIO pair "
           "the application moves the bytes.",
    "S17": "After 0, a second SSL_shutdown waits for the peer's close_notify and returns 1.",
    "S18": "Quiet shutdown: always returns 1, sends no alert; the peer then sees an unexpected "
           "EOF.",
    "S19": "Peers that never send close_notify: waiting for it ends in an error; not waiting is "
           "fine.",
    "S20": "After a 0 return, SSL_get_error may misleadingly report an error.",
    "S21": "< 0 when not all data was read (application data arrives while SSL_shutdown waits).",
    "R1": "Send close_notify before closing the write side unless an error alert was sent "
          "(RFC 8446 §6.1, RFC 5246 §7.2.1).",
    "R2": "Data received after a closure alert must be ignored (RFC 8446 §6.1).",
    "R3": "Half-close: a closure alert closes one direction; the other may keep sending "
          "(RFC 8446 §6.1).",
    "R4": "user_canceled is not fatal and should be followed by close_notify (RFC 8446 §6.1).",
    "R5": "TLS 1.2: respond with close_notify and discard pending writes (RFC 5246 §7.2.1).",
    "R6": "No need to wait for the peer's close_notify before closing the read side "
          "(RFC 5246 §7.2.1).",
    "R7": "A transport close before close_notify means data may be missing (RFC 8446 §6.1).",
    "R8": "TLS 1.3 alerts must not be fragmented or coalesced (RFC 8446 §5.1).",
    "R9": "TLS 1.3 alert level is implicit: close_notify is closure whatever its level byte "
          "(RFC 8446 §6).",
    "R10": "After a fatal alert: close at once, no close_notify, the session is not resumable "
           "(RFC 5246 §7.2.2, RFC 8446 §6.2).",
    "R11": "KeyUpdate just before close_notify: the alert arrives under the new key "
           "(RFC 8446 §4.6.3).",
    "R12": "A malformed alert record (wrong length, unknown description) is a decode error "
           "(RFC 8446 §6).",
}


def source_of(statement_id: str) -> str:
    return SOURCES[statement_id[0]]
