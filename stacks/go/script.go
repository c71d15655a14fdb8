// The step script (docs/shim-protocol.md §2), read and checked whole.
//
// Needs: the path of a JSON file.
// Gives: loadScript, which returns the steps or a usage error (exit 2)
// naming the step and the field, before any byte is exchanged.
// Never: decides what this stack can do (the run checks that afterwards).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

const (
	maxStepBytes     = 64 * 1024 * 1024
	maxTimeoutMs     = 3600000
	defaultTimeoutMs = 5000
	markerMax        = 63
)

type step struct {
	index        int // 1-based
	op           string
	timeoutMs    int
	nowait       bool
	bytes        int // -1: not given
	untilClose   bool
	untilBlocked bool
	requestPeer  bool
	marker       string
	text         string
	option       string // set_option
	scope        string // set_option: "connection" (default) or "context"
}

func (s *step) where() string { return fmt.Sprintf("step %d (%s)", s.index, s.op) }

type fieldKind int

const (
	kBool  fieldKind = iota
	kSize            // 0..maxStepBytes
	kCount           // 1..maxStepBytes
	kUntil
	kMarker
	kText
	kOption
	kScope
)

var enumValues = map[fieldKind][]string{
	kOption: {"ignore_unexpected_eof", "post_handshake_auth", "quiet_shutdown"},
	kScope:  {"connection", "context"},
}

type opSpec struct {
	fields       map[string]fieldKind
	callsLibrary bool
	required     []string
}

var nowaitOnly = map[string]fieldKind{"nowait": kBool}

var ops = map[string]opSpec{
	"handshake": {nowaitOnly, true, nil},
	"write": {map[string]fieldKind{"bytes": kSize, "nowait": kBool, "until_blocked": kBool},
		true, []string{"bytes"}},
	"read":                  {map[string]fieldKind{"bytes": kCount, "until": kUntil, "nowait": kBool}, true, nil},
	"shutdown":              {nowaitOnly, true, nil},
	"shutdown_quiet":        {nil, true, nil},
	"shutdown_full":         {nowaitOnly, true, nil},
	"get_shutdown":          {nil, false, nil},
	"get_error_after":       {nil, false, nil},
	"keyupdate":             {map[string]fieldKind{"request_peer": kBool}, true, nil},
	"close_transport":       {nil, false, nil},
	"free_without_shutdown": {nil, false, nil},
	"session_resumable":     {nil, false, nil},
	"resume":                {nil, false, nil},
	"signal_peer":           {map[string]fieldKind{"marker": kMarker}, false, []string{"marker"}},
	"wait_peer":             {map[string]fieldKind{"marker": kMarker}, false, []string{"marker"}},
	"plaintext_write":       {map[string]fieldKind{"text": kText}, false, []string{"text"}},
	"plaintext_read":        {map[string]fieldKind{"text": kText}, false, []string{"text"}},
	"set_option":            {map[string]fieldKind{"option": kOption, "scope": kScope}, false, []string{"option"}},
	"clear":                 {nil, false, nil},
}

// jsonInt accepts an integral JSON number only (a bool or 1.5 is not one).
func jsonInt(v interface{}) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int(f), true
}

func checkRange(where, field string, v interface{}, low, high int) (int, error) {
	n, ok := jsonInt(v)
	if !ok {
		return 0, usageError("%s: field '%s': expected an integer", where, field)
	}
	if n < low || n > high {
		return 0, usageError("%s: field '%s': %d is out of range %d..%d", where, field, n, low, high)
	}
	return n, nil
}

func checkString(where, field string, kind fieldKind, v interface{}) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", usageError("%s: field '%s': expected a string", where, field)
	}
	switch {
	case kind == kUntil && s != "close":
		return "", usageError("%s: field 'until': only \"close\" is defined, got \"%s\"", where, s)
	case kind == kMarker && (len(s) == 0 || len(s) > markerMax || bytes.IndexByte([]byte(s), '\n') >= 0):
		return "", usageError("%s: field 'marker': required, 1-%d bytes, no newline", where, markerMax)
	case kind == kText && s == "":
		return "", usageError("%s: field 'text': a non-empty string is required", where)
	}
	if values, ok := enumValues[kind]; ok {
		for _, v := range values {
			if s == v {
				return s, nil
			}
		}
		return "", usageError("%s: field '%s': expected %s, got \"%s\"", where, field,
			strings.Join(values, " or "), s)
	}
	return s, nil
}

func (st *step) setField(field string, kind fieldKind, v interface{}) error {
	w := st.where()
	var err error
	switch kind {
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return usageError("%s: field '%s': expected true or false", w, field)
		}
		*map[string]*bool{"nowait": &st.nowait, "until_blocked": &st.untilBlocked,
			"request_peer": &st.requestPeer}[field] = b
	case kSize:
		st.bytes, err = checkRange(w, field, v, 0, maxStepBytes)
	case kCount:
		st.bytes, err = checkRange(w, field, v, 1, maxStepBytes)
	case kUntil:
		_, err = checkString(w, field, kind, v)
		st.untilClose = err == nil
	case kMarker:
		st.marker, err = checkString(w, field, kind, v)
	case kText:
		st.text, err = checkString(w, field, kind, v)
	case kOption:
		st.option, err = checkString(w, field, kind, v)
	case kScope:
		st.scope, err = checkString(w, field, kind, v)
	}
	return err
}

func (st *step) checkCombinations() error {
	w := st.where()
	switch {
	case st.op == "write" && st.untilBlocked && st.bytes == 0:
		return usageError("%s: 'until_blocked' needs 'bytes' of at least 1", w)
	case st.op == "write" && st.untilBlocked && st.nowait:
		return usageError("%s: 'until_blocked' and 'nowait' exclude each other", w)
	case st.op == "read" && st.untilClose && st.bytes >= 0:
		return usageError("%s: 'bytes' and 'until' exclude each other", w)
	case st.op == "read" && st.untilClose && st.nowait:
		return usageError("%s: 'until' and 'nowait' exclude each other", w)
	}
	return nil
}

func opOf(obj map[string]interface{}, index int) (string, error) {
	v, ok := obj["op"]
	if !ok {
		return "", usageError("step %d: field 'op' is required", index)
	}
	op, ok := v.(string)
	if !ok {
		return "", usageError("step %d: field 'op': expected a string", index)
	}
	if _, known := ops[op]; !known {
		return "", usageError("step %d: unknown op '%s'", index, op)
	}
	return op, nil
}

// decodeFields checks every field of one step, in name order so that the
// same script always gets the same message.
func (st *step) decodeFields(obj map[string]interface{}, spec opSpec) error {
	fields := make([]string, 0, len(obj))
	for field := range obj {
		fields = append(fields, field)
	}
	sort.Strings(fields)
	for _, field := range fields {
		var err error
		kind, known := spec.fields[field]
		switch {
		case field == "op":
		case field == "timeout_ms":
			st.timeoutMs, err = checkRange(st.where(), field, obj[field], 1, maxTimeoutMs)
		case known:
			err = st.setField(field, kind, obj[field])
		default:
			err = usageError("%s: unknown field '%s'", st.where(), field)
		}
		if err != nil {
			return err
		}
	}
	for _, field := range spec.required {
		if _, ok := obj[field]; !ok {
			return usageError("%s: field '%s' is required", st.where(), field)
		}
	}
	return nil
}

func decodeStep(raw interface{}, index int) (*step, error) {
	obj, ok := raw.(map[string]interface{})
	if !ok {
		return nil, usageError("step %d: expected an object", index)
	}
	op, err := opOf(obj, index)
	if err != nil {
		return nil, err
	}
	st := &step{index: index, op: op, timeoutMs: defaultTimeoutMs, bytes: -1, scope: "connection"}
	if err := st.decodeFields(obj, ops[op]); err != nil {
		return nil, err
	}
	return st, st.checkCombinations()
}

func needsSession(st *step) bool {
	switch st.op {
	case "get_shutdown", "get_error_after", "session_resumable", "free_without_shutdown", "clear":
		return true
	case "set_option":
		return st.scope == "connection"
	}
	return ops[st.op].callsLibrary
}

// After `clear` the object waits for a resume: only queries without IO.
func allowedAfterClear(op string) bool {
	return op == "get_shutdown" || op == "session_resumable"
}

// checkSequence: what a step needs must still exist; a resume brings a
// fresh TLS object and socket.
func checkSequence(steps []*step) error {
	freedAt, closedAt, clearedAt := 0, 0, 0
	for i, st := range steps {
		if st.op == "get_error_after" && (i == 0 || !ops[steps[i-1].op].callsLibrary) {
			return usageError("step %d (get_error_after): the previous step must call the "+
				"library (handshake, write, read, shutdown*, keyupdate)", st.index)
		}
		if freedAt > 0 && needsSession(st) {
			return usageError("%s: the TLS object was freed by step %d", st.where(), freedAt)
		}
		if clearedAt > 0 && needsSession(st) && !allowedAfterClear(st.op) {
			return usageError("%s: the TLS object was cleared by step %d and waits for a resume",
				st.where(), clearedAt)
		}
		if closedAt > 0 && (st.op == "plaintext_write" || st.op == "plaintext_read") {
			return usageError("%s: the transport was closed by step %d", st.where(), closedAt)
		}
		switch st.op {
		case "free_without_shutdown":
			freedAt = st.index
		case "close_transport":
			closedAt = st.index
		case "clear":
			clearedAt = st.index
		case "resume":
			freedAt, closedAt, clearedAt = 0, 0, 0
		}
	}
	return nil
}

func loadScript(path string) ([]*step, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("%s: %v", path, err)
	}
	return parseScript(path, data)
}

// parseScript checks a script given as JSON text: a file's, or the inline
// script of a persistent-mode request (what names it in messages).
func parseScript(what string, data []byte) ([]*step, error) {
	var root interface{}
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, usageError("%s: not JSON: %v", what, err)
	}
	list, ok := root.([]interface{})
	if !ok {
		return nil, usageError("step script: expected a JSON array of steps")
	}
	if len(list) == 0 {
		return nil, usageError("step script: no steps")
	}
	steps := make([]*step, 0, len(list))
	for i, raw := range list {
		st, err := decodeStep(raw, i+1)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, checkSequence(steps)
}
