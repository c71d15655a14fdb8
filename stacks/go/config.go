// The crypto/tls configuration of the run and what this stack can do.
//
// Needs: the command line and the script.
// Gives: newConfig (one *tls.Config for every connection of the run, so a
// resume offers or accepts the session of the first), checkCapabilities
// (the skips, exit 77, before the usage errors, exit 2, both before IO) and
// the recording client session cache behind session_resumable.
// Never: verifies the peer's certificate (closure is under test, not PKI).
package main

import (
	"crypto/tls"
	"fmt"
	"sync"
)

// serverName keys the client session cache: without it Go keys sessions by
// the remote address, which differs between the harness's connections.
const serverName = "localhost"

var tls12Suites = map[string]uint16{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256":       tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES128-GCM-SHA256":                 tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384":       tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-AES256-GCM-SHA384":                 tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-CHACHA20-POLY1305":                 tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Go offers all three TLS 1.3 suites and cannot be restricted to one
// (Config.CipherSuites does not apply to TLS 1.3); the peer's choice decides.
var tls13Suites = map[string]bool{
	"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true,
	"TLS_CHACHA20_POLY1305_SHA256": true,
}

var unsupportedOps = map[string]string{
	"shutdown_quiet":  "Go's crypto/tls has no quiet shutdown",
	"shutdown_full":   "Go's crypto/tls has no close call that waits for the peer's close_notify (an application reads until io.EOF)",
	"get_error_after": "Go's crypto/tls has no error query on a return value: every call returns its error",
	"keyupdate":       "Go's crypto/tls (1.19) cannot send a KeyUpdate on request",
	"set_option":      "Go's crypto/tls has none of these options: an EOF without close_notify is always an error, a client never offers post-handshake authentication, and Close always sends close_notify",
	"clear":           "Go's crypto/tls cannot reuse a tls.Conn for another connection",
}

// sessionCache records what crypto/tls stores, so that session_resumable
// can say whether the client would offer a session.
type sessionCache struct {
	mu    sync.Mutex
	inner tls.ClientSessionCache
	last  map[string]bool
}

func newSessionCache() *sessionCache {
	return &sessionCache{inner: tls.NewLRUClientSessionCache(8), last: map[string]bool{}}
}

func (s *sessionCache) Get(key string) (*tls.ClientSessionState, bool) {
	return s.inner.Get(key)
}

func (s *sessionCache) Put(key string, cs *tls.ClientSessionState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[key] = cs != nil
	s.inner.Put(key, cs)
}

func (s *sessionCache) holds(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[key]
}

func newConfig(a *args, cache *sessionCache) (*tls.Config, error) {
	version := uint16(tls.VersionTLS12)
	if a.tls == "1.3" {
		version = tls.VersionTLS13
	}
	cfg := &tls.Config{MinVersion: version, MaxVersion: version}
	if id, ok := tls12Suites[a.cipher]; ok && a.tls == "1.2" {
		cfg.CipherSuites = []uint16{id}
	}
	if !a.server() {
		cfg.InsecureSkipVerify = true
		cfg.ServerName = serverName
		cfg.ClientSessionCache = cache
		return cfg, nil
	}
	cert, err := tls.LoadX509KeyPair(a.cert, a.key)
	if err != nil {
		return nil, failure("credentials: %v", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

func skip(step int, format string, v ...interface{}) *shimExit {
	return &shimExit{code: exitSkip, message: fmt.Sprintf(format, v...), step: step}
}

func checkRun(a *args) error {
	switch {
	case a.io != "blocking":
		return skip(0, "Go's crypto/tls has only blocking calls (no nonblocking or memory-buffer API): --io %s is not possible", a.io)
	case a.sessionIn != "" || a.sessionOut != "":
		return skip(0, "Go's crypto/tls (1.19) cannot save or load a client session")
	case a.cipher == "":
		return nil
	case a.tls == "1.3" && !tls13Suites[a.cipher], a.tls == "1.2" && tls12Suites[a.cipher] == 0:
		return skip(0, "--cipher %s: not a TLS %s suite this shim knows", a.cipher, a.tls)
	}
	return nil
}

func checkStep(a *args, st *step) error {
	if why, ok := unsupportedOps[st.op]; ok {
		return skip(st.index, "%s: %s", st.where(), why)
	}
	if st.op == "session_resumable" && a.server() {
		return skip(st.index, "%s: a Go server keeps no session state to ask (its tickets are stateless)", st.where())
	}
	if st.untilBlocked {
		return skip(st.index, "%s: until_blocked needs --io nonblocking or memory (a blocking write never reports a want)", st.where())
	}
	return nil
}

func checkNeeds(a *args, steps []*step) error {
	conns := 1
	for _, st := range steps {
		var err error
		switch {
		case st.op == "signal_peer" && a.markerOut < 0 && !a.serve:
			err = usageError("%s: needs --marker-out", st.where())
		case st.op == "wait_peer" && a.markerIn < 0 && !a.serve:
			err = usageError("%s: needs --marker-in", st.where())
		case st.op == "resume":
			conns++
			if conns > maxConnections || (conns > len(a.fds) && a.connect == "") {
				err = usageError("%s: no --fd left for this connection (give one descriptor per connection, at most %d)", st.where(), maxConnections)
			}
		}
		if err != nil {
			err.(*shimExit).step = st.index
			return err
		}
	}
	return nil
}

// checkCapabilities: all skips before all usage errors, so a script this
// stack cannot run is a skip whatever else the command line lacks.
func checkCapabilities(a *args, steps []*step) error {
	if err := checkRun(a); err != nil {
		return err
	}
	for _, st := range steps {
		if err := checkStep(a, st); err != nil {
			return err
		}
	}
	return checkNeeds(a, steps)
}
