// Output of the shim protocol (docs/shim-protocol.md §3, §6): one JSON
// object per line on stdout, flushed at once, and the exit codes.
//
// Needs: nothing but the standard library.
// Gives: emit, the step report, shimExit (how a run ends early).
// Never: writes anything but JSON objects to stdout.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

const (
	exitOK      = 0
	exitUsage   = 2
	exitTimeout = 3
	exitFailure = 4
	exitSkip    = 77
)

// emit writes one JSON line. Fields keep their declared order (structs) so
// the lines read like the C shims' lines.
func emit(v interface{}) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "shim: cannot encode a line: %v\n", err)
		return
	}
	os.Stdout.Write(buf.Bytes())
}

// shimExit ends the run: the end line, then the exit code. step 0 is the
// run as a whole.
type shimExit struct {
	code    int
	message string
	step    int
}

func (e *shimExit) Error() string { return e.message }

func usageError(format string, args ...interface{}) *shimExit {
	return &shimExit{code: exitUsage, message: fmt.Sprintf(format, args...)}
}

type endLine struct {
	End     string `json:"end"`
	Step    *int   `json:"step,omitempty"`
	Message string `json:"message,omitempty"`
}

// serveEnd is an end line of persistent mode: the run's end line plus the
// exit code it would have had and the request's cell (null when the
// request had none).
type serveEnd struct {
	endLine
	Exit int     `json:"exit"`
	Cell *string `json:"cell"`
}

// cellOn and cellID: persistent mode is running a cell (serve.go).
var (
	cellOn bool
	cellID *string
)

// emitEnd prints the run's end line (with exit and cell in persistent mode).
func emitEnd(line endLine, code int) {
	if cellOn {
		emit(serveEnd{line, code, cellID})
		return
	}
	emit(line)
}

func (e *shimExit) endLine() endLine {
	kinds := map[int]string{exitTimeout: "timeout", exitSkip: "skip"}
	kind, ok := kinds[e.code]
	if !ok {
		kind = "error"
	}
	line := endLine{End: kind, Message: e.message}
	if e.step > 0 || e.code == exitSkip {
		step := e.step
		line.Step = &step
	}
	return line
}

// native is what the last library call reported, Go's way: ret is the
// count a Read or Write returned (null for calls that return no count),
// error is err.Error(), queue the chain of error types, errno the system
// error number inside the chain (0 if none).
type native struct {
	Ret   *int     `json:"ret"`
	Error string   `json:"error"`
	Queue []string `json:"queue"`
	Errno int      `json:"errno"`
}

type report struct {
	Step      int       `json:"step"`
	Op        string    `json:"op"`
	Outcome   string    `json:"outcome"`
	Wants     []string  `json:"wants"`
	Calls     int       `json:"calls"`
	Native    *native   `json:"native"`
	Flags     *struct{} `json:"flags"` // Go reports no shutdown flags: always null
	Bytes     int       `json:"bytes"`
	Ms        float64   `json:"ms"`
	Reused    *bool     `json:"reused,omitempty"`
	Resumable *bool     `json:"resumable,omitempty"`
	Got       *string   `json:"got,omitempty"`
	Drained   *int      `json:"drained,omitempty"`
}

func newReport(step int, op string) *report {
	return &report{Step: step, Op: op, Wants: []string{}}
}

func (r *report) setMs(ms float64) {
	r.Ms = math.Round(ms*100) / 100
}
