// The steps of the script, one function each (docs/shim-protocol.md §2).
//
// Needs: the run (current connection, config, markers), the step, its
// deadline and the report to fill.
// Gives: stepFuncs; each sets the report's outcome and returns an error
// only when the run must end (a deadline: *deadlineError; a shim failure
// or usage error: *shimExit).
// Never: decides whether an op is supported (config.go did, before IO).
//
// crypto/tls calls: handshake -> Handshake, read -> Read, write -> Write,
// shutdown -> CloseWrite the first time on a connection (close_notify, the
// socket stays open and reads go on: the half-close of RFC 8446 §6.1), then
// Close (the full close; it sends no second close_notify). Before every
// call the step's deadline is set with SetDeadline.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

const readChunk = 16384

type deadlineError struct{ what string }

func (e *deadlineError) Error() string { return e.what }

type stepFunc func(r *run, st *step, deadline time.Time, rep *report) error

// call makes one library call and records it in the report; a call that
// met the step's deadline ends the run.
func (r *run) call(kind callKind, deadline time.Time, rep *report,
	fn func() (int, error)) (int, string, error) {
	c := r.cur
	c.tls.SetDeadline(deadline)
	n, err := fn()
	outcome, nat := classify(kind, n, err, c.peerClosed)
	rep.Calls++
	rep.Native = nat
	if kind == callRead && outcome == "closed" {
		c.peerClosed = true
	}
	if outcome == "error:timeout" {
		return n, outcome, &deadlineError{"the library call met the deadline"}
	}
	return n, outcome, nil
}

func stepHandshake(r *run, st *step, deadline time.Time, rep *report) error {
	tc := r.cur.tls
	_, out, err := r.call(callHandshake, deadline, rep, func() (int, error) {
		return 0, tc.Handshake()
	})
	rep.Outcome = out
	return err
}

// stepRead: Go may return data and an error from one Read (n > 0 with io.EOF
// when a close_notify follows the data in its buffer). The data counts; the
// error is the outcome only if the step would have read on.
func stepRead(r *run, st *step, deadline time.Time, rep *report) error {
	tc := r.cur.tls
	buf := make([]byte, readChunk)
	total := 0
	for {
		want := len(buf)
		if st.bytes >= 0 && st.bytes-total < want {
			want = st.bytes - total
		}
		n, out, err := r.call(callRead, deadline, rep, func() (int, error) {
			return tc.Read(buf[:want])
		})
		total += n
		rep.Bytes = total
		isData := strings.HasPrefix(out, "data:")
		more := st.untilClose || (st.bytes >= 0 && total < st.bytes)
		if isData && n > 0 && more && !st.nowait {
			continue
		}
		rep.Outcome = out
		if isData || (n > 0 && !more) {
			rep.Outcome = fmt.Sprintf("data:%d", total)
		}
		return err
	}
}

func stepWrite(r *run, st *step, deadline time.Time, rep *report) error {
	tc := r.cur.tls
	data := r.pattern(st.bytes)
	n, out, err := r.call(callWrite, deadline, rep, func() (int, error) {
		return tc.Write(data)
	})
	rep.Bytes = n
	rep.Outcome = out
	if len(out) > 3 && out[:3] == "ok:" {
		rep.Outcome = fmt.Sprintf("ok:%d", n)
	}
	return err
}

func stepShutdown(r *run, st *step, deadline time.Time, rep *report) error {
	c := r.cur
	tc := c.tls
	c.shutdowns++
	closeCall := tc.CloseWrite
	if c.shutdowns > 1 {
		closeCall = tc.Close
	}
	_, out, err := r.call(callShutdown, deadline, rep, func() (int, error) {
		return 0, closeCall()
	})
	rep.Outcome = out
	return err
}

func stepGetShutdown(r *run, st *step, deadline time.Time, rep *report) error {
	// crypto/tls keeps its closeNotifySent state to itself.
	rep.Outcome = "unknown"
	return nil
}

func stepCloseTransport(r *run, st *step, deadline time.Time, rep *report) error {
	drained, reset, err := r.cur.closeTransport(deadline)
	rep.Drained = &drained
	rep.Outcome = "ok"
	if reset {
		rep.Outcome = "error:reset"
	}
	if err != nil {
		return &deadlineError{"deadline passed while draining"}
	}
	return nil
}

// stepFree drops the tls.Conn without any close call; the client's session
// is already in the session cache (crypto/tls stores it when it arrives).
func stepFree(r *run, st *step, deadline time.Time, rep *report) error {
	r.cur.tls = nil
	rep.Outcome = "ok"
	return nil
}

func stepSessionResumable(r *run, st *step, deadline time.Time, rep *report) error {
	yes := r.cache.holds(serverName)
	rep.Resumable = &yes
	rep.Outcome = map[bool]string{true: "resumable", false: "not_resumable"}[yes]
	return nil
}

func stepResume(r *run, st *step, deadline time.Time, rep *report) error {
	drained, _, err := r.cur.closeTransport(deadline)
	rep.Drained = &drained
	if err != nil {
		return &deadlineError{"deadline passed while draining"}
	}
	if err := r.openConn(deadline); err != nil {
		return err
	}
	if err := stepHandshake(r, st, deadline, rep); err != nil || rep.Outcome != "ok" {
		return err
	}
	reused := r.cur.tls.ConnectionState().DidResume
	rep.Reused = &reused
	rep.Outcome = map[bool]string{true: "reused", false: "not_reused"}[reused]
	return nil
}

func stepSignalPeer(r *run, st *step, deadline time.Time, rep *report) error {
	rep.Outcome = "ok"
	return r.markers.send(st.marker)
}

func stepWaitPeer(r *run, st *step, deadline time.Time, rep *report) error {
	err := r.markers.wait(st.marker, deadline)
	rep.Outcome = "ok"
	if err == errDeadline {
		return &deadlineError{fmt.Sprintf("deadline passed waiting for marker '%s'", st.marker)}
	}
	return err
}

func transportOutcome(err error) string {
	switch {
	case isReset(err):
		return "error:reset"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "error:timeout"
	}
	return "error:other"
}

// deadlineOf: a bare-socket error that ends the run (the deadline), or nil.
func deadlineOf(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &deadlineError{"deadline passed on the bare socket"}
	}
	return nil
}

func stepPlaintextWrite(r *run, st *step, deadline time.Time, rep *report) error {
	if err := r.cur.plainWrite([]byte(st.text), deadline); err != nil {
		rep.Outcome = transportOutcome(err)
		return deadlineOf(err)
	}
	rep.Bytes = len(st.text)
	rep.Outcome = fmt.Sprintf("ok:%d", len(st.text))
	return nil
}

func stepPlaintextRead(r *run, st *step, deadline time.Time, rep *report) error {
	buf := make([]byte, len(st.text))
	n, eof, err := r.cur.plainRead(buf, deadline)
	rep.Bytes = n
	got := string(buf[:n])
	rep.Got = &got
	switch {
	case err != nil:
		rep.Outcome = transportOutcome(err)
		return deadlineOf(err)
	case eof:
		rep.Outcome = "eof"
	case got == st.text:
		rep.Outcome = "match"
	default:
		rep.Outcome = "mismatch"
	}
	return nil
}

var stepFuncs = map[string]stepFunc{
	"handshake":             stepHandshake,
	"read":                  stepRead,
	"write":                 stepWrite,
	"shutdown":              stepShutdown,
	"get_shutdown":          stepGetShutdown,
	"close_transport":       stepCloseTransport,
	"free_without_shutdown": stepFree,
	"session_resumable":     stepSessionResumable,
	"resume":                stepResume,
	"signal_peer":           stepSignalPeer,
	"wait_peer":             stepWaitPeer,
	"plaintext_write":       stepPlaintextWrite,
	"plaintext_read":        stepPlaintextRead,
}
