// tlsclose shim for Go's crypto/tls (docs/shim-protocol.md).
//
// Needs: Go 1.19 standard library only; the harness's arguments.
// Gives: the hello line, one JSON line per step, the end line and the exit
// codes of the shim protocol (0, 2, 3, 4, 77), in the order §6 fixes:
// command line, hello, script syntax, skips, usage, then the steps.
// Never: uses a module outside the standard library, leaves a socket
// without its graceful close.
//
// README.md beside this file maps the protocol onto crypto/tls.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"crypto/tls"
)

const (
	shimName = "go"
	api      = "native"
)

func libraryVersion() string {
	return "Go " + strings.TrimPrefix(runtime.Version(), "go") + " crypto/tls"
}

type hello struct {
	Shim    string `json:"shim"`
	Library string `json:"library"`
	API     string `json:"api"`
	Role    string `json:"role,omitempty"`
	TLS     string `json:"tls,omitempty"`
	IO      string `json:"io,omitempty"`
	Serve   bool   `json:"serve,omitempty"` // --version: this shim has --serve
}

type run struct {
	args        *args
	cfg         *tls.Config
	cache       *sessionCache
	markers     *markers
	conns       []*conn
	cur         *conn
	fdsUsed     int
	patterns    map[int][]byte
	runDeadline time.Time
}

// pattern: the write buffer of size n (byte i is i & 0xff).
func (r *run) pattern(n int) []byte {
	if p, ok := r.patterns[n]; ok {
		return p
	}
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	r.patterns[n] = p
	return p
}

func (r *run) nextConn(deadline time.Time) (*conn, error) {
	if r.args.connect != "" {
		return dial(r.args.connect, deadline)
	}
	fd := r.args.fds[r.fdsUsed]
	r.fdsUsed++
	return fromFd(fd)
}

func (r *run) openConn(deadline time.Time) error {
	c, err := r.nextConn(deadline)
	if err != nil {
		return failure("connection %d: %v", len(r.conns)+1, err)
	}
	if r.args.server() {
		c.tls = tls.Server(c.tlsNet, r.cfg)
	} else {
		c.tls = tls.Client(c.tlsNet, r.cfg)
	}
	r.conns = append(r.conns, c)
	r.cur = c
	return nil
}

func (r *run) oneStep(st *step) error {
	rep := newReport(st.index, st.op)
	deadline := time.Now().Add(time.Duration(st.timeoutMs) * time.Millisecond)
	if deadline.After(r.runDeadline) {
		deadline = r.runDeadline
	}
	start := time.Now()
	err := stepFuncs[st.op](r, st, deadline, rep)
	rep.setMs(float64(time.Since(start).Microseconds()) / 1000.0)
	if dl, ok := err.(*deadlineError); ok {
		rep.Outcome = "error:timeout"
		emit(rep)
		which := "step"
		if deadline.Equal(r.runDeadline) {
			which = "run"
		}
		return &shimExit{code: exitTimeout, step: st.index,
			message: fmt.Sprintf("%s: %s deadline passed (%s)", st.where(), which, dl.what)}
	}
	if ex, ok := err.(*shimExit); ok {
		return &shimExit{code: ex.code, step: st.index, message: st.where() + ": " + ex.message}
	}
	emit(rep)
	return nil
}

func (r *run) cleanup(deadline time.Time) {
	for _, c := range r.conns {
		c.closeAtEnd(deadline)
	}
	r.conns = nil
}

func (r *run) execute(steps []*step) error {
	var err error
	r.cfg, err = newConfig(r.args, r.cache)
	if err == nil {
		err = r.openConn(r.runDeadline)
	}
	for _, st := range steps {
		if err != nil {
			break
		}
		err = r.oneStep(st)
	}
	if err != nil {
		r.cleanup(time.Now())
		return err
	}
	r.cleanup(r.runDeadline)
	emitEnd(endLine{End: "ok"}, exitOK)
	return nil
}

func end(err error) int {
	ex, ok := err.(*shimExit)
	if !ok {
		ex = failure("%v", err)
	}
	fmt.Fprintf(os.Stderr, "shim: %s\n", ex.message)
	emitEnd(ex.endLine(), ex.code)
	return ex.code
}

// runParsed is everything after the command line, for one run or one cell
// of persistent mode: the steps come from load, the markers from m. Every
// run builds its own tls.Config and session cache (newConfig,
// newSessionCache): nothing of a run survives it.
func runParsed(a *args, load func() ([]*step, error), m *markers) int {
	runDeadline := time.Now().Add(time.Duration(a.deadlineMs) * time.Millisecond)
	emit(hello{shimName, libraryVersion(), api, a.role, a.tls, a.io, false})
	steps, err := load()
	if err == nil {
		err = checkCapabilities(a, steps)
	}
	if err == nil {
		r := &run{args: a, cache: newSessionCache(), markers: m,
			patterns: map[int][]byte{}, runDeadline: runDeadline}
		err = r.execute(steps)
	}
	if err != nil {
		return end(err)
	}
	return exitOK
}

func mainCode(argv []string) int {
	if len(argv) == 1 && argv[0] == "--serve" {
		return serve()
	}
	a, err := parseArgs(argv)
	if err != nil {
		return end(err)
	}
	if a.versionOnly {
		emit(hello{Shim: shimName, Library: libraryVersion(), API: api, Serve: true})
		return exitOK
	}
	return runParsed(a, func() ([]*step, error) { return loadScript(a.script) },
		openMarkers(a.markerIn, a.markerOut))
}

func main() {
	os.Exit(mainCode(os.Args[1:]))
}
