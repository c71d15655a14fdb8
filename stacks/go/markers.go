// The marker pipes (docs/shim-protocol.md §2 signal_peer / wait_peer):
// one line "NAME\n" per marker. In persistent mode (serve.go) a marker is
// a JSON line {"marker": NAME} on standard output and on standard input
// (the server's line channel) instead.
//
// Needs: the descriptors from --marker-in / --marker-out (-1 if absent).
// Gives: send, and wait, which reads the next line before the deadline and
// compares it.
// Never: blocks past the deadline (the read end is made nonblocking so that
// Go's poller can apply it).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

type markers struct {
	in, out *os.File
	buf     []byte
	inband  <-chan string // persistent mode: standard input's lines
}

type markerLine struct {
	Marker string `json:"marker"`
}

func openMarkers(inFd, outFd int) *markers {
	m := &markers{}
	if inFd >= 0 {
		syscall.SetNonblock(inFd, true)
		m.in = os.NewFile(uintptr(inFd), "marker-in")
	}
	if outFd >= 0 {
		m.out = os.NewFile(uintptr(outFd), "marker-out")
	}
	return m
}

func failure(format string, args ...interface{}) *shimExit {
	return &shimExit{code: exitFailure, message: fmt.Sprintf(format, args...)}
}

func (m *markers) send(name string) error {
	if m.inband != nil {
		emit(markerLine{name})
		return nil
	}
	if m.out == nil {
		return usageError("marker '%s': no marker pipe to write to (--marker-out)", name)
	}
	if _, err := m.out.Write([]byte(name + "\n")); err != nil {
		return failure("marker write: %v", err)
	}
	return nil
}

var errDeadline = errors.New("deadline passed")

func (m *markers) nextLine(name string, deadline time.Time) (string, error) {
	chunk := make([]byte, 256)
	for bytes.IndexByte(m.buf, '\n') < 0 {
		if len(m.buf) > 256 {
			return "", failure("marker line too long")
		}
		m.in.SetReadDeadline(deadline)
		n, err := m.in.Read(chunk)
		m.buf = append(m.buf, chunk[:n]...)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return "", errDeadline
		case n == 0 && err != nil:
			return "", failure("marker '%s': the other side closed its marker pipe", name)
		}
	}
	i := bytes.IndexByte(m.buf, '\n')
	line := string(m.buf[:i])
	m.buf = m.buf[i+1:]
	return line, nil
}

// nextInband: the name a {"marker": NAME} line on standard input carries.
func (m *markers) nextInband(name string, deadline time.Time) (string, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case line, ok := <-m.inband:
		if !ok {
			return "", failure("marker '%s': the marker channel (standard input) closed", name)
		}
		var got map[string]interface{}
		if json.Unmarshal([]byte(line), &got) != nil || len(got) != 1 {
			return "", failure("expected marker '%s', got a line that is not a marker: %.60q", name, line)
		}
		marker, ok := got["marker"].(string)
		if !ok {
			return "", failure("expected marker '%s', got a line that is not a marker: %.60q", name, line)
		}
		return marker, nil
	case <-timer.C:
		return "", errDeadline
	}
}

func (m *markers) wait(name string, deadline time.Time) error {
	if m.inband != nil {
		got, err := m.nextInband(name, deadline)
		if err == nil && got != name {
			err = failure("expected marker '%s', got '%s'", name, got)
		}
		return err
	}
	if m.in == nil {
		return usageError("marker '%s': no marker pipe to read from (--marker-in)", name)
	}
	got, err := m.nextLine(name, deadline)
	if err != nil {
		return err
	}
	if got != name {
		return failure("expected marker '%s', got '%s'", name, got)
	}
	return nil
}
