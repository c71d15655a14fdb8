// Persistent mode (`--serve`, docs/shim-protocol.md "Persistent mode").
//
// Needs: requests on standard input, one JSON object per line:
// {"cell": ID, "args": [...], "script": [...]}.
// Gives: serve, which runs the cells one after the other in this process
// and returns 0 at EOF. Go cannot fork, so a cell is a call: runParsed with
// the request's args and inline script, markers in-band over the same line
// channel the requests come from. Each cell builds its own tls.Config
// (hence its own session ticket keys) and client session cache; only the
// loaded program is shared. A bad request gets an end line with exit 2; a
// marker line between cells (one the last cell never waited for) is
// dropped.
// Never: survives a cell that panicked: a panic ends the server as it ends
// a per-process run, and the harness starts a new server.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
	"unsafe"
)

// stdinLines sends every line of standard input (without its newline),
// then closes the channel at EOF.
func stdinLines() <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		in := bufio.NewReaderSize(os.Stdin, 65536)
		for {
			line, err := in.ReadString('\n')
			if line != "" {
				lines <- strings.TrimSuffix(line, "\n")
			}
			if err != nil {
				if err != io.EOF {
					fmt.Fprintf(os.Stderr, "shim: serve: standard input: %v\n", err)
				}
				return
			}
		}
	}()
	return lines
}

type request struct {
	cell   string
	args   []string
	script json.RawMessage
}

// parseRequest: the request; nil for a stray marker line.
func parseRequest(line string) (*request, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		return nil, usageError("request: not a JSON object: %v", err)
	}
	if _, ok := fields["marker"]; ok && len(fields) == 1 {
		return nil, nil
	}
	r := &request{}
	if raw, ok := fields["cell"]; ok && json.Unmarshal(raw, &r.cell) == nil {
		cellID = &r.cell
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k != "cell" && k != "args" && k != "script" {
			return nil, usageError("request: unknown field '%s'", k)
		}
	}
	if cellID == nil {
		return nil, usageError("request: field 'cell': a string is required")
	}
	if raw, ok := fields["args"]; !ok || json.Unmarshal(raw, &r.args) != nil || r.args == nil {
		return nil, usageError("request: field 'args': an array of strings is required")
	}
	var ok bool
	if r.script, ok = fields["script"]; !ok {
		return nil, usageError("request: field 'script' is required")
	}
	return r, nil
}

func serveCell(r *request, lines <-chan string) {
	a, err := parseCellArgs(r.args)
	if err != nil {
		end(err)
		return
	}
	load := func() ([]*step, error) { return parseScript("inline script", r.script) }
	runParsed(a, load, &markers{inband: lines})
}

func serveLine(line string, lines <-chan string) {
	cellOn, cellID = true, nil
	defer func() { cellOn, cellID = false, nil }()
	r, err := parseRequest(line)
	switch {
	case err != nil:
		end(err)
	case r == nil:
		fmt.Fprintf(os.Stderr, "shim: a marker arrived between cells and was dropped: %s\n", line)
	default:
		serveCell(r, lines)
	}
}

func isTerminal(fd int) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TCGETS,
		uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// ownProcessGroup: one kill of the group ends the server. A shell with job
// control already gives a job its own group (and a group that is not the
// terminal's would be stopped reading it).
func ownProcessGroup() {
	if !isTerminal(0) && syscall.Getpgrp() != syscall.Getpid() {
		syscall.Setpgid(0, 0)
	}
}

func serve() int {
	ownProcessGroup()
	lines := stdinLines()
	for line := range lines {
		if strings.TrimSpace(line) != "" {
			serveLine(line, lines)
		}
	}
	return exitOK
}
