'use strict';
/*
 * The marker channel between the shim and the mock peer
 * (docs/shim-protocol.md §2 signal_peer / wait_peer; serve mode: in-band).
 *
 * Needs: the two pipe descriptors (per-process run) or the server's stdin
 * line reader and stdout (serve mode).
 * Gives: PipeMarkers and InbandMarkers, both with send(name) and
 * wait(name, deadline); LineReader, the line splitter both read with.
 * A closed channel or another marker is ShimExit(4); a missing pipe is
 * ShimExit(2) (capabilities.js checks that before any IO).
 * Never: reads past the line it needs (a marker sent early for a later
 * step stays queued).
 *
 * The incoming pipe is read through the event loop (a net.Socket on the
 * descriptor, i.e. epoll), not through the thread pool: the kernel reports
 * readiness in the order it happened, so whatever the peer did to the TCP
 * connection before it wrote a marker (a reset, a ticket, a FIN) reaches
 * the TLS layer before the marker reaches wait_peer.
 */
const fs = require('fs');
const net = require('net');
const { EXIT, ShimExit, writeLine } = require('./protocol');
const { until } = require('./wait');

const MAX_LINE = 256;

class LineReader {
  constructor(stream, signal) {
    this.signal = signal;
    this.buf = '';
    this.lines = [];
    this.eof = false;
    this.error = null;
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      this.buf += text;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      signal.wake();
    });
    stream.on('end', () => { this.eof = true; signal.wake(); });
    stream.on('error', (err) => { this.error = err; this.eof = true; signal.wake(); });
    this.stream = stream;
  }

  /* The next line, or null at EOF (and a partial last line is no line). */
  async next(deadline) {
    await until(this.signal, () => this.lines.length > 0 || this.eof
      || this.buf.length > MAX_LINE, deadline);
    if (this.lines.length) return this.lines.shift();
    if (this.buf.length > MAX_LINE) return this.buf;
    return null;
  }
}

function closedChannel(name) {
  return new ShimExit(EXIT.FAILURE, `marker '${name}': the marker channel is closed`);
}

class PipeMarkers {
  constructor(inFd, outFd, signal) {
    this.inFd = inFd;
    this.outFd = outFd;
    this.signal = signal;
    this.reader = null;
  }

  /* Started before the first step, so that the order argument above holds
   * from the beginning. */
  start() {
    if (this.inFd < 0 || this.reader) return;
    let sock;
    try {
      sock = new net.Socket({ fd: this.inFd, readable: true, writable: false });
    } catch (err) {
      throw new ShimExit(EXIT.FAILURE, `--marker-in ${this.inFd}: ${err.message}`);
    }
    this.reader = new LineReader(sock, this.signal);
  }

  send(name) {
    if (this.outFd < 0) {
      throw new ShimExit(EXIT.USAGE, `marker '${name}': no marker pipe to write to (--marker-out)`);
    }
    try {
      fs.writeSync(this.outFd, `${name}\n`);
    } catch (err) {
      // Node ignores SIGPIPE: a peer that closed its end is EPIPE here.
      if (err.code === 'EPIPE') throw closedChannel(name);
      throw new ShimExit(EXIT.FAILURE, `marker write: ${err.message}`);
    }
  }

  async wait(name, deadline) {
    if (!this.reader) {
      throw new ShimExit(EXIT.USAGE, `marker '${name}': no marker pipe to read from (--marker-in)`);
    }
    const got = await this.reader.next(deadline);
    if (got === null) throw closedChannel(name);
    if (got !== name) {
      throw new ShimExit(EXIT.FAILURE, `expected marker '${name}', got '${got.slice(0, 64)}'`);
    }
  }

  close() {
    if (this.reader) this.reader.stream.destroy();
  }
}

/* Serve mode: markers travel as JSON lines on the server's stdout/stdin. */
class InbandMarkers {
  constructor(reader) {
    this.reader = reader;
  }

  start() {}

  send(name) {
    writeLine({ marker: name });
  }

  async wait(name, deadline) {
    const got = await this.reader.next(deadline);
    if (got === null) throw closedChannel(name);
    let obj = null;
    try {
      obj = JSON.parse(got);
    } catch (err) {
      obj = null;
    }
    const marker = obj && typeof obj === 'object' ? obj.marker : undefined;
    if (marker !== name) {
      throw new ShimExit(EXIT.FAILURE,
        `expected marker '${name}', got ${JSON.stringify(got.slice(0, 80))}`);
    }
  }

  close() {}
}

module.exports = { LineReader, PipeMarkers, InbandMarkers };
