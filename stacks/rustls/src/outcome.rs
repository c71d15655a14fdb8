//! What rustls reported, natively and normalized (docs/shim-protocol.md §3
//! `native`, §5 outcomes and error classes).
//!
//! Needs: a rustls::Error or an io::Error from a reader, read_tls or
//! write_tls. Gives: the outcome and the native fields. Never: calls rustls.
//!
//! rustls 0.20.8 reports closure through its reader (src/conn.rs, Reader::read):
//! Ok(0) once the peer's close_notify was processed and nothing is pending;
//! Err(UnexpectedEof) when the transport ended (read_tls returned 0)
//! without close_notify, with a partial record pending or not;
//! Err(WouldBlock) when it needs more input. Protocol failures come from
//! process_new_packets as a rustls::Error, and every later call returns the
//! same error.

use std::io;

use rustls::Error;

use crate::output::Native;

/// The TLS alert registry, RFC 8446 spelling.
pub fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify", 10 => "unexpected_message", 20 => "bad_record_mac",
        21 => "decryption_failed", 22 => "record_overflow", 30 => "decompression_failure",
        40 => "handshake_failure", 41 => "no_certificate", 42 => "bad_certificate",
        43 => "unsupported_certificate", 44 => "certificate_revoked", 45 => "certificate_expired",
        46 => "certificate_unknown", 47 => "illegal_parameter", 48 => "unknown_ca",
        49 => "access_denied", 50 => "decode_error", 51 => "decrypt_error",
        60 => "export_restriction", 70 => "protocol_version", 71 => "insufficient_security",
        80 => "internal_error", 86 => "inappropriate_fallback", 90 => "user_canceled",
        100 => "no_renegotiation", 109 => "missing_extension", 110 => "unsupported_extension",
        111 => "certificate_unobtainable", 112 => "unrecognized_name",
        113 => "bad_certificate_status_response", 114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity", 116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return code.to_string(),
    };
    name.to_string()
}

/// A failure process_new_packets reported.
pub fn tls_error(e: &Error) -> (String, Native) {
    let outcome = match e {
        Error::AlertReceived(desc) => format!("error:alert:{}", alert_name(desc.get_u8())),
        // Records that do not frame, parse or authenticate.
        Error::CorruptMessage | Error::CorruptMessagePayload(_) | Error::DecryptError
        | Error::PeerSentOversizedRecord => "error:decode".to_string(),
        Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. }
        | Error::PeerMisbehavedError(_) | Error::PeerIncompatibleError(_) => "error:protocol".to_string(),
        _ => "error:other".to_string(),
    };
    let native = Native { ret: None, error: format!("{:?}", e), queue: vec![e.to_string()], errno: 0 };
    (outcome, native)
}

/// A failure of the transport under rustls (read_tls, write_tls) or of the
/// reader. `reading`: a read step, where an EOF without close_notify is
/// `truncated` rather than `error:unexpected_eof`.
pub fn io_error(e: &io::Error, reading: bool) -> (String, Native) {
    let outcome = match e.kind() {
        io::ErrorKind::UnexpectedEof if reading => "truncated",
        io::ErrorKind::UnexpectedEof => "error:unexpected_eof",
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => "error:reset",
        _ => "error:other",
    };
    let native = Native {
        ret: None,
        error: format!("{:?}", e.kind()),
        queue: vec![e.to_string()],
        errno: e.raw_os_error().unwrap_or(0),
    };
    (outcome.to_string(), native)
}

/// The native view of a call that would block: rustls's reader says
/// WouldBlock, or the transport under read_tls/write_tls did.
pub fn would_block() -> Native {
    Native { ret: None, error: "WouldBlock".into(), queue: vec![], errno: 0 }
}
