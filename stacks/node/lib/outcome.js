'use strict';
/*
 * What Node reported for one library call, natively and normalized
 * (docs/shim-protocol.md §3 `native`, §5 outcomes and error classes).
 *
 * Needs: the kind of call and the Error object Node gave (an 'error' event,
 * a callback's argument), or none.
 * Gives: native(ret, err, event) and classify(kind, err, stream).
 * Never: calls the library, throws, looks at an error's message text.
 *
 * Node's errors, by where they come from:
 *   OpenSSL (TLSWrap::ClearOut in src/crypto/crypto_tls.cc): code
 *     "ERR_SSL_" + the reason string upper-cased with '_' for ' '
 *     ("sslv3 alert handshake failure" -> ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE),
 *     with `library` and `reason` set;
 *   the socket (libuv): code ECONNRESET, EPIPE, ... with `syscall` and a
 *     negative `errno`;
 *   the streams layer: ERR_STREAM_WRITE_AFTER_END, ERR_STREAM_ALREADY_FINISHED,
 *     ERR_STREAM_DESTROYED;
 *   _tls_wrap.js onConnectEnd: a ConnResetException (code ECONNRESET, no
 *     syscall) for a transport that ended before the handshake finished.
 */

/* OpenSSL reasons (as Node's code spells them) that mean the bytes did not
 * parse as records or alerts: the same list as the OpenSSL shim's. */
const DECODE_REASONS = new Set([
  'BAD_LENGTH', 'BAD_PACKET', 'BAD_PACKET_LENGTH', 'LENGTH_MISMATCH', 'LENGTH_TOO_SHORT',
  'LENGTH_TOO_LONG', 'RECORD_LENGTH_MISMATCH', 'RECORD_TOO_SMALL', 'PACKET_LENGTH_TOO_LONG',
  'ENCRYPTED_LENGTH_TOO_LONG', 'DATA_LENGTH_TOO_LONG', 'EXCESSIVE_MESSAGE_SIZE',
  'DECRYPTION_FAILED', 'DECRYPTION_FAILED_OR_BAD_RECORD_MAC', 'INVALID_ALERT',
  'UNKNOWN_ALERT_TYPE', 'WRONG_VERSION_NUMBER', 'RECORD_LAYER_FAILURE']);
const ALERT_PREFIXES = ['SSLV3_ALERT_', 'TLSV13_ALERT_', 'TLSV1_ALERT_', 'TLSV1_'];
/* TLS alert descriptions, RFC 8446 spelling (IANA TLS Alerts registry). */
const ALERT_NAMES = new Set([
  'close_notify', 'unexpected_message', 'bad_record_mac', 'decryption_failed',
  'record_overflow', 'decompression_failure', 'handshake_failure', 'no_certificate',
  'bad_certificate', 'unsupported_certificate', 'certificate_revoked', 'certificate_expired',
  'certificate_unknown', 'illegal_parameter', 'unknown_ca', 'access_denied', 'decode_error',
  'decrypt_error', 'export_restriction', 'protocol_version', 'insufficient_security',
  'internal_error', 'inappropriate_fallback', 'user_canceled', 'no_renegotiation',
  'missing_extension', 'unsupported_extension', 'certificate_unobtainable',
  'unrecognized_name', 'bad_certificate_status_response', 'bad_certificate_hash_value',
  'unknown_psk_identity', 'certificate_required', 'no_application_protocol']);
/* OpenSSL's mnemonic where it differs from the registry's name. */
const ALERT_SPELLING = { user_cancelled: 'user_canceled' };
const SHUT_DOWN_CODES = new Set(['ERR_STREAM_WRITE_AFTER_END', 'ERR_STREAM_ALREADY_FINISHED']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);
const MAX_QUEUE = 4;

function systemErrno(err) {
  // libuv reports -errno; only errors that came from a system call carry it.
  return err && err.syscall && Number.isInteger(err.errno) ? Math.abs(err.errno) : 0;
}

function queueOf(err) {
  if (!err) return [];
  if (typeof err.library === 'string' && typeof err.reason === 'string') {
    return [`${err.library}: ${err.reason}`];
  }
  // For people only: nothing here is classified by its text.
  const text = String(err.message || err.code || 'error').split('\n')[0];
  return [`${err.syscall ? err.syscall : 'node'}: ${text}`].slice(0, MAX_QUEUE);
}

/* ret: the call's synchronous return value where it has one (a write's
 * boolean, a read's byte count), else null; event: how the library
 * completed the call ('finish', 'end', 'secureConnect', 'callback', ...). */
function native(ret, err, event) {
  return {
    ret: ret === undefined ? null : ret,
    error: err ? String(err.code || err.name || 'Error') : '',
    queue: queueOf(err),
    errno: systemErrno(err),
    event: event || null,
  };
}

function alertName(reason) {
  for (const prefix of ALERT_PREFIXES) {
    if (reason.startsWith(prefix)) {
      let name = reason.slice(prefix.length).toLowerCase();
      name = ALERT_SPELLING[name] || name;
      return ALERT_NAMES.has(name) ? name : null;
    }
  }
  return null;
}

function sslClass(kind, reason) {
  if (reason === 'UNEXPECTED_EOF_WHILE_READING') {
    return kind === 'read' ? 'truncated' : 'error:unexpected_eof';
  }
  if (reason === 'PROTOCOL_IS_SHUTDOWN') return 'error:shut_down';
  if (reason === 'APPLICATION_DATA_AFTER_CLOSE_NOTIFY') return 'error:data_after_close';
  const name = alertName(reason);
  if (name) return `error:alert:${name}`;
  if (DECODE_REASONS.has(reason)) return 'error:decode';
  return 'error:protocol';
}

/* The normalized outcome of a call that failed with err. stream, when
 * given, is the TLS socket: an operation refused because the stream was
 * destroyed is classified by what destroyed it (the stream's `errored`). */
function classify(kind, err, stream) {
  const code = String((err && err.code) || '');
  if (code.startsWith('ERR_SSL_')) return sslClass(kind, code.slice('ERR_SSL_'.length));
  if (RESET_CODES.has(code)) {
    // onConnectEnd's ConnResetException is a transport EOF, not a reset.
    return err.syscall ? 'error:reset' : 'error:unexpected_eof';
  }
  if (SHUT_DOWN_CODES.has(code)) return 'error:shut_down';
  if (code === 'ERR_STREAM_DESTROYED') {
    const cause = stream && stream.errored;
    return cause && cause !== err ? classify(kind, cause, null) : 'error:shut_down';
  }
  if (code === 'EPROTO') return 'error:protocol';
  if (code === 'ETIMEDOUT') return 'error:timeout';
  return 'error:other';
}

module.exports = { native, classify, alertName };
