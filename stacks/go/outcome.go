// What one crypto/tls call reported, natively and normalized
// (docs/shim-protocol.md §3 `native`, §5 outcomes and error classes).
//
// Needs: the kind of call, the count it returned and its error.
// Gives: classify, which returns the outcome and the native fields.
// Never: calls the library.
//
// Go's errors carry the facts: io.EOF from Read is Go's end of stream (the
// peer's close_notify, and also a FIN at a record boundary, which Go
// accepts as a clean end: conn.go readRecordOrCCS), io.ErrUnexpectedEOF a
// FIN inside a record, a *net.OpError with Op "remote error" an alert the
// peer sent, "local error" an alert Go sent because of what it received.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"syscall"

	"crypto/tls"
)

// alertNames: the TLS alert registry, RFC 8446 spelling.
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
	21: "decryption_failed", 22: "record_overflow", 30: "decompression_failure",
	40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
	46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
	90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
	110: "unsupported_extension", 111: "certificate_unobtainable", 112: "unrecognized_name",
	113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
	115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

// Alerts Go sends when the bytes it received did not parse or authenticate.
var decodeAlerts = map[uint8]bool{20: true, 22: true, 50: true}

// errShutdown of crypto/tls is not exported; its text is the contract.
const shutdownText = "tls: protocol is shutdown"

type callKind int

const (
	callHandshake callKind = iota
	callRead
	callWrite
	callShutdown
)

func alertName(code uint8) string {
	if name, ok := alertNames[code]; ok {
		return name
	}
	return fmt.Sprint(code)
}

// alertIn finds crypto/tls's (unexported) alert type in an error chain.
func alertIn(err error) (uint8, bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		if t.PkgPath() == "crypto/tls" && t.Name() == "alert" && t.Kind() == reflect.Uint8 {
			return uint8(reflect.ValueOf(e).Uint()), true
		}
	}
	return 0, false
}

func opErrorOp(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op
	}
	return ""
}

func alertOutcome(err error) (string, bool) {
	code, ok := alertIn(err)
	if !ok {
		return "", false
	}
	if opErrorOp(err) == "remote error" {
		return "error:alert:" + alertName(code), true
	}
	if decodeAlerts[code] {
		return "error:decode", true
	}
	return "error:protocol", true
}

func eofOutcome(kind callKind, truncated bool) string {
	switch {
	case kind == callRead && truncated:
		return "truncated"
	case kind == callRead:
		return "closed"
	}
	return "error:unexpected_eof"
}

func failureOutcome(kind callKind, err error) string {
	var header tls.RecordHeaderError
	if out, ok := alertOutcome(err); ok {
		return out
	}
	switch {
	case errors.Is(err, io.EOF):
		return eofOutcome(kind, false)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return eofOutcome(kind, true)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "error:timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "error:reset"
	case errors.Is(err, net.ErrClosed), err.Error() == shutdownText:
		return "error:shut_down"
	case errors.As(err, &header):
		return "error:decode"
	}
	return "error:other"
}

func errnoIn(err error) int {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return int(errno)
	}
	return 0
}

func nativeOf(kind callKind, n int, err error) *native {
	nat := &native{Queue: []string{}}
	if kind == callRead || kind == callWrite {
		count := n
		nat.Ret = &count
	}
	if err == nil {
		return nat
	}
	nat.Error = err.Error()
	for e := err; e != nil && len(nat.Queue) < 4; e = errors.Unwrap(e) {
		nat.Queue = append(nat.Queue, fmt.Sprintf("%T", e))
	}
	nat.Errno = errnoIn(err)
	return nat
}

func successOutcome(kind callKind, n int, peerClosed bool) string {
	switch kind {
	case callRead:
		return fmt.Sprintf("data:%d", n)
	case callWrite:
		return fmt.Sprintf("ok:%d", n)
	case callShutdown:
		if peerClosed {
			return "complete"
		}
		return "sent"
	}
	return "ok"
}

// classify: the outcome of one call. peerClosed says whether a Read on this
// connection already returned io.EOF (Go's only sign of the peer's close).
func classify(kind callKind, n int, err error, peerClosed bool) (string, *native) {
	nat := nativeOf(kind, n, err)
	if err == nil {
		return successOutcome(kind, n, peerClosed), nat
	}
	return failureOutcome(kind, err), nat
}
