'use strict';
/*
 * The bare TCP sockets: adopting an inherited descriptor or connecting,
 * and the shim-owned link of memory mode.
 *
 * Needs: connected TCP sockets from the harness (--fd) or HOST:PORT
 * (--connect), a Signal to wake on socket events.
 * Gives: openSocket(args, index, deadline, signal) -> net.Socket (TCP,
 * TCP_NODELAY, allowHalfOpen so that a FIN from the peer never ends our
 * side), and RawLink: the socket of memory mode, read eagerly into the
 * runner's buffer, handed to the library one TLS record at a time
 * (nextPiece), written with completion (send), closed gracefully (FIN, read
 * and discard until the peer's EOF, close).
 * Never: waits past a deadline; closes a socket with unread bytes in it
 * without draining first (that would turn the FIN into an RST).
 */
const net = require('net');
const { EXIT, ShimExit, now } = require('./protocol');
const { until } = require('./wait');
const { probeEnd } = require('./tcpstate');

const HEADER = 5;
const PIECE = 16384;
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

function failure(message) {
  return new ShimExit(EXIT.FAILURE, message);
}

function adopt(fd) {
  let sock;
  try {
    // readable/writable: a socket made from a descriptor is neither by default.
    sock = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
  } catch (err) {
    throw failure(`descriptor ${fd}: ${err.message}`);
  }
  if (!sock.remotePort) {
    sock.destroy();
    throw failure(`descriptor ${fd} is not a connected TCP socket`);
  }
  sock.setNoDelay(true);
  return sock;
}

async function connect(target, deadline, signal) {
  const sock = net.connect({ host: target.host, port: target.port, allowHalfOpen: true,
    noDelay: true });
  let error = null;
  let connected = false;
  sock.once('connect', () => { connected = true; signal.wake(); });
  sock.once('error', (err) => { error = err; signal.wake(); });
  try {
    await until(signal, () => connected || error, deadline);
  } catch (err) {
    sock.destroy();
    throw failure(`connect ${target.host}:${target.port}: no connection by the deadline`);
  }
  if (error) {
    sock.destroy();
    throw failure(`connect ${target.host}:${target.port}: ${error.message}`);
  }
  sock.setNoDelay(true);
  return sock;
}

/* The index-th connection of the run (0-based). */
async function openSocket(args, index, deadline, signal) {
  if (args.connect) return connect(args.connect, deadline, signal);
  if (index >= args.fds.length) {
    throw new ShimExit(EXIT.USAGE, `no --fd left for connection ${index + 1}`);
  }
  return adopt(args.fds[index]);
}

/* Memory mode: the runner owns the socket, as an application that moves
 * the bytes itself. */
class RawLink {
  constructor(sock, signal) {
    this.sock = sock;
    this.signal = signal;
    this.chunks = [];
    this.length = 0;
    this.recLeft = 0;
    this.eof = false;          // the peer's FIN arrived
    this.reset = false;        // the peer reset the connection
    this.error = null;
    this.draining = false;     // closing: what arrives now is discarded
    this.drained = 0;
    this.closed = false;       // our descriptor is closed
    this.finSent = false;
    this.arrivals = 0;         // counts data, EOF and errors: something new to look at
    sock.on('data', (chunk) => this.onData(chunk));
    sock.on('end', () => {
      // libuv may report a reset behind data as EOF (tcpstate.js probeEnd).
      if (probeEnd(sock) === 'reset') this.reset = true;
      this.eof = true;
      this.arrivals += 1;
      signal.wake();
    });
    sock.on('error', (err) => {
      this.arrivals += 1;
      this.error = err;
      if (RESET_CODES.has(err.code)) this.reset = true;
      this.eof = true;
      signal.wake();
    });
    sock.on('close', () => { this.closed = true; signal.wake(); });
  }

  onData(chunk) {
    this.arrivals += 1;
    if (this.draining) this.drained += chunk.length;
    else {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    this.signal.wake();
  }

  /* Up to n bytes of what arrived and was not given to the library. */
  take(n) {
    const parts = [];
    let need = Math.min(n, this.length);
    while (need > 0) {
      const head = this.chunks[0];
      if (head.length <= need) {
        parts.push(this.chunks.shift());
        need -= head.length;
        this.length -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.chunks[0] = head.subarray(need);
        this.length -= need;
        need = 0;
      }
    }
    return Buffer.concat(parts);
  }

  peek(n) {
    return Buffer.concat(this.chunks, this.length).subarray(0, n);
  }

  /* The next piece of the current TLS record (at most 16 KiB), or null
   * when nothing whole enough arrived. Record by record, because whatever
   * follows the TLS stream (plaintext) must stay with the runner. */
  nextPiece() {
    if (this.recLeft === 0 && this.length >= HEADER) {
      this.recLeft = HEADER + this.peek(HEADER).readUInt16BE(3);
    } else if (this.recLeft === 0 && this.eof && this.length > 0) {
      this.recLeft = this.length;  // a piece of a header before EOF
    }
    if (this.recLeft === 0 || this.length === 0) return null;
    const piece = this.take(Math.min(this.recLeft, PIECE));
    this.recLeft -= piece.length;
    return piece;
  }

  /* Resolves once the socket took the bytes, or at once when the transport
   * is gone (the bytes are dropped, as the kernel would refuse them). */
  send(buf) {
    return new Promise((resolve) => {
      if (this.closed || this.finSent || this.sock.destroyed) {
        resolve(false);
        return;
      }
      this.sock.write(buf, (err) => resolve(!err));
    });
  }

  fin() {
    if (!this.finSent && !this.sock.destroyed) {
      this.finSent = true;
      this.sock.end();
    }
  }

  /* FIN, then read and discard until the peer's EOF, then close. Bytes that
   * arrived before stay buffered (the library may still be given them).
   * Returns {drained, reset}; a deadline that passes still closes. */
  async close(deadline) {
    if (this.closed) return { drained: 0, reset: false };
    this.draining = true;
    this.drained = 0;
    this.fin();
    let deadlinePassed = null;
    try {
      await until(this.signal, () => this.eof || this.closed, deadline);
    } catch (err) {
      deadlinePassed = err;
    }
    this.sock.destroy();
    await until(this.signal, () => this.closed, now() + 1000).catch(() => {});
    if (deadlinePassed) throw deadlinePassed;
    return { drained: this.drained, reset: this.reset };
  }

  /* Writes plaintext on the bare socket. */
  async plainWrite(buf, deadline) {
    if (this.reset) return 'error:reset';
    if (this.closed || this.finSent) return 'error:other';
    let result = null;
    this.sock.write(buf, (err) => {
      result = err ? (RESET_CODES.has(err.code) ? 'error:reset' : 'error:other') : 'ok';
      this.signal.wake();
    });
    await until(this.signal, () => result || (this.reset && 'error:reset'), deadline);
    return result || 'error:reset';
  }
}

module.exports = { openSocket, RawLink, RESET_CODES };
