// One connection of the stack under test, and the bare socket.
//
// Needs: an inherited connected TCP descriptor (or an address to dial).
// Gives: conn with two descriptors of the same socket: one for crypto/tls
// (tlsNet, wrapped by tls.Client/tls.Server) and one for the bare-socket
// steps (raw: FIN, drain, plaintext). closeTransport and the end of the run
// close it gracefully: FIN, read and discard until the peer's EOF, close.
// Never: waits past a deadline, closes with unread bytes without draining.
//
// Why two descriptors: tls.Conn.Close closes the net.Conn it wraps at once,
// without draining, so a close_notify the peer sends a moment later could
// meet a closed socket and come back as an RST. With its own descriptor the
// shim keeps the TCP close graceful and ordered by the script; Go's Close
// still closes Go's descriptor (later calls fail with net.ErrClosed).
package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

type conn struct {
	tlsNet     net.Conn     // crypto/tls's descriptor
	raw        *net.TCPConn // ours; nil once the transport is closed
	tls        *tls.Conn    // nil once freed
	shutdowns  int          // shutdown steps on this connection
	peerClosed bool         // a Read returned io.EOF
}

func tcpFromFile(f *os.File) (*net.TCPConn, error) {
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("descriptor %d is not a TCP socket", f.Fd())
	}
	return tcp, nil
}

// fromFile makes the two descriptors from f, then closes f.
func fromFile(f *os.File) (*conn, error) {
	defer f.Close()
	a, err := tcpFromFile(f)
	if err != nil {
		return nil, err
	}
	b, err := tcpFromFile(f)
	if err != nil {
		a.Close()
		return nil, err
	}
	return &conn{tlsNet: a, raw: b}, nil
}

func fromFd(fd int) (*conn, error) {
	return fromFile(os.NewFile(uintptr(fd), fmt.Sprintf("fd %d", fd)))
}

func dial(address string, deadline time.Time) (*conn, error) {
	c, err := net.DialTimeout("tcp", address, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tcp := c.(*net.TCPConn)
	tcp.SetNoDelay(true)
	f, err := tcp.File()
	if err != nil {
		return nil, err
	}
	return fromFile(f)
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// closeGraceful: FIN, drain until EOF, close. Returns the bytes drained and
// whether the peer reset; a deadline that passes still closes the socket.
func closeGraceful(c *net.TCPConn, deadline time.Time) (int, bool, error) {
	defer c.Close()
	if err := c.CloseWrite(); err != nil {
		return 0, isReset(err) || errors.Is(err, syscall.ENOTCONN), nil
	}
	c.SetReadDeadline(deadline)
	n, err := io.Copy(io.Discard, c)
	switch {
	case err == nil:
		return int(n), false, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return int(n), false, err
	}
	return int(n), isReset(err), nil
}

// closeTransport closes the socket without any TLS shutdown; Go's own
// descriptor is closed too, so later library calls meet a closed socket.
func (c *conn) closeTransport(deadline time.Time) (int, bool, error) {
	if c.raw == nil {
		return 0, false, nil
	}
	raw := c.raw
	c.raw = nil
	drained, reset, err := closeGraceful(raw, deadline)
	c.tlsNet.Close()
	return drained, reset, err
}

func (c *conn) plainWrite(data []byte, deadline time.Time) error {
	c.raw.SetWriteDeadline(deadline)
	_, err := c.raw.Write(data)
	return err
}

// plainRead reads exactly len(buf) bytes, fewer only at EOF (eof true).
func (c *conn) plainRead(buf []byte, deadline time.Time) (int, bool, error) {
	c.raw.SetReadDeadline(deadline)
	n, err := io.ReadFull(c.raw, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return n, true, nil
	}
	return n, false, err
}

func (c *conn) closeAtEnd(deadline time.Time) {
	c.closeTransport(deadline)
	c.tlsNet.Close()
	c.tls = nil
}
