// Command tlsclose-httpget-go GETs a URL with net/http as an application
// does (Client.Get, then io.ReadAll of the body) and saves the body: exit 0
// when both reported success, 1 with the error on standard error otherwise.
// Usage: tlsclose-httpget-go URL OUTPUT-FILE; --version prints the Go
// release. The certificate is not verified: the endpoint table is about how
// connections end, not about trust.
//
// net/http closes a connection from its own goroutine once the response is
// done (or failed), so a program that exits at once races that close. To
// observe net/http's own closing rather than the process exit, the TCP
// connection is wrapped and the program waits (at most closeWait) until
// net/http has closed it: that is when its close_notify, if any, was written.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"
)

const closeWait = 3 * time.Second

// closeSignal is a TCP connection that says when it was closed.
type closeSignal struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *closeSignal) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.closed) })
	return err
}

func get(url string, conns chan *closeSignal) ([]byte, error) {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			ForceAttemptHTTP2: false,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				wrapped := &closeSignal{Conn: conn, closed: make(chan struct{})}
				conns <- wrapped
				return wrapped, nil
			},
		},
	}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// waitClosed waits until net/http closed every connection it opened.
func waitClosed(conns chan *closeSignal) {
	deadline := time.After(closeWait)
	for {
		select {
		case c := <-conns:
			select {
			case <-c.closed:
			case <-deadline:
				return
			}
		default:
			return
		}
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Printf("Go %s net/http, crypto/tls\n", runtime.Version())
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tlsclose-httpget-go URL OUTPUT-FILE")
		os.Exit(2)
	}
	conns := make(chan *closeSignal, 16)
	body, err := get(os.Args[1], conns)
	waitClosed(conns)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], body, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
