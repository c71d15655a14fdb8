// The command line (docs/shim-protocol.md §1).
//
// Needs: os.Args without the program name.
// Gives: parseArgs, which returns the arguments or a usage error (exit 2)
// naming the argument.
// Never: opens a descriptor (that is the run's business).
package main

import (
	"regexp"
	"strconv"
	"strings"
)

const (
	maxConnections    = 4
	defaultDeadlineMs = 10000
	maxDeadlineMs     = 3600000
)

type args struct {
	role, tls, io         string
	fds                   []int
	connect               string
	cert, key, script     string
	cipher                string
	sessionIn, sessionOut string
	markerIn, markerOut   int
	deadlineMs            int
	versionOnly           bool
	serve                 bool // a cell of persistent mode (serve.go)
}

func (a *args) server() bool { return a.role == "server" }

var choices = map[string][]string{
	"--role": {"client", "server"},
	"--tls":  {"1.2", "1.3"},
	"--io":   {"blocking", "nonblocking", "memory"},
}

var intPattern = regexp.MustCompile(`^-?[0-9]{1,10}$`)

func parseInt(opt, val string, low, high int) (int, error) {
	n, err := strconv.Atoi(val)
	if !intPattern.MatchString(val) || err != nil || n < low || n > high {
		return 0, usageError("%s: '%s' is not an integer in %d..%d", opt, val, low, high)
	}
	return n, nil
}

func parseFds(val string) ([]int, error) {
	parts := strings.Split(val, ",")
	if len(parts) > maxConnections {
		return nil, usageError("--fd: '%s' must list 1 to %d descriptors", val, maxConnections)
	}
	fds := make([]int, 0, len(parts))
	for _, p := range parts {
		fd, err := parseInt("--fd", p, 0, 65535)
		if err != nil {
			return nil, err
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func (a *args) setChoice(opt, val string) error {
	for _, c := range choices[opt] {
		if c == val {
			switch opt {
			case "--role":
				a.role = val
			case "--tls":
				a.tls = val
			default:
				a.io = val
			}
			return nil
		}
	}
	return usageError("%s: '%s' is not one of the accepted values", opt, val)
}

func (a *args) setString(opt, val string) bool {
	targets := map[string]*string{
		"--cert": &a.cert, "--key": &a.key, "--script": &a.script, "--cipher": &a.cipher,
		"--session-in": &a.sessionIn, "--session-out": &a.sessionOut, "--connect": &a.connect,
	}
	if p, ok := targets[opt]; ok {
		*p = val
		return true
	}
	return false
}

func (a *args) set(opt, val string) error {
	var err error
	switch {
	case choices[opt] != nil:
		return a.setChoice(opt, val)
	case a.setString(opt, val):
		return nil
	case opt == "--fd":
		a.fds, err = parseFds(val)
	case opt == "--marker-in":
		a.markerIn, err = parseInt(opt, val, 0, 65535)
	case opt == "--marker-out":
		a.markerOut, err = parseInt(opt, val, 0, 65535)
	case opt == "--deadline-ms":
		a.deadlineMs, err = parseInt(opt, val, 1, maxDeadlineMs)
	default:
		return usageError("unknown argument '%s'", opt)
	}
	return err
}

// checkComplete runs after the loop so the message names the first missing
// argument whatever order the others came in.
func (a *args) checkComplete() error {
	switch {
	case a.serve && a.connect == "":
		return usageError("--connect is required (in persistent mode the shim opens every connection itself)")
	case a.role == "":
		return usageError("--role is required (client or server)")
	case a.tls == "":
		return usageError("--tls is required (1.2 or 1.3)")
	case a.io == "":
		return usageError("--io is required (blocking, nonblocking or memory)")
	case len(a.fds) == 0 && a.connect == "":
		return usageError("one of --fd or --connect is required")
	case len(a.fds) > 0 && a.connect != "":
		return usageError("--fd and --connect exclude each other")
	case a.script == "" && !a.serve:
		return usageError("--script is required")
	case a.cert == "" || a.key == "":
		return usageError("--cert and --key are required")
	}
	return nil
}

func knownOption(opt string) bool {
	switch opt {
	case "--role", "--tls", "--io", "--fd", "--connect", "--cert", "--key", "--script",
		"--cipher", "--session-in", "--session-out", "--marker-in", "--marker-out",
		"--deadline-ms":
		return true
	}
	return false
}

// perProcessOnly: what a persistent-mode request cannot carry (the script
// comes inline, markers in-band, connections from --connect).
func perProcessOnly(opt string) bool {
	switch opt {
	case "--fd", "--script", "--marker-in", "--marker-out":
		return true
	}
	return false
}

func parseArgs(argv []string) (*args, error) {
	if len(argv) == 1 && argv[0] == "--version" {
		return &args{markerIn: -1, markerOut: -1, deadlineMs: defaultDeadlineMs, versionOnly: true}, nil
	}
	return parseOptions(argv, false)
}

// parseCellArgs parses the args of a persistent-mode request.
func parseCellArgs(argv []string) (*args, error) {
	return parseOptions(argv, true)
}

func parseOptions(argv []string, serve bool) (*args, error) {
	a := &args{markerIn: -1, markerOut: -1, deadlineMs: defaultDeadlineMs, serve: serve}
	for i := 0; i < len(argv); i += 2 {
		if !knownOption(argv[i]) {
			return nil, usageError("unknown argument '%s'", argv[i])
		}
		if serve && perProcessOnly(argv[i]) {
			return nil, usageError("%s has no place in a persistent-mode request (the script comes inline, markers in-band, connections from --connect)", argv[i])
		}
		if i+1 >= len(argv) {
			return nil, usageError("%s needs a value", argv[i])
		}
		if err := a.set(argv[i], argv[i+1]); err != nil {
			return nil, err
		}
	}
	return a, a.checkComplete()
}
