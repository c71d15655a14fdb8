'use strict';
/*
 * The kernel's view of a TCP socket, for the two questions Node's API
 * cannot answer: has the send path stalled for good (until_blocked,
 * nowait writes), has the peer's FIN arrived after the TLS layer stopped
 * reporting the transport (close_transport after close_notify), and was an
 * end of the input really a FIN (probeEnd).
 *
 * Needs: a connected net.Socket and its ports, taken while it was
 * connected (getpeername fails once the socket is closed or reset)
 * (Linux: /proc/net/tcp and tcp6).
 * Gives: portsOf(sock), entry(ports) -> {state, txQueue, rxQueue, timer}
 * or null, kernelRefused(sock), sendStalled(sock, ports),
 * peerFinSeen(ports), probeEnd(sock).
 * Never: changes the socket; blocks (the files are small and read at once).
 *
 * Why /proc: Node has no getsockopt, so TCP_INFO (which the C runner asks)
 * is out of reach; /proc/net/tcp shows the same socket's state, queues and
 * active timer. `timer` 1 is the retransmission timer: data in flight, an
 * acknowledgement will come and free room. 4 is the zero-window probe
 * timer: nothing in flight, the receiver's window is closed.
 */
const fs = require('fs');

const ESTABLISHED = 0x01;
const FIN_WAIT1 = 0x04;
const FIN_WAIT2 = 0x05;
const TIMER_RETRANSMIT = 1;

function hexPort(addr) {
  return parseInt(addr.slice(addr.lastIndexOf(':') + 1), 16);
}

/* The line of the socket with these ports; null if none, undefined if
 * the file cannot be read (then nothing is known). */
function scan(file, local, remote) {
  let text;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    return undefined;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || hexPort(f[1]) !== local || hexPort(f[2]) !== remote) continue;
    const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
    return { state: parseInt(f[3], 16), txQueue: tx, rxQueue: rx,
      timer: parseInt(f[5].split(':')[0], 16) };
  }
  return null;
}

function portsOf(sock) {
  return { local: sock.localPort || 0, remote: sock.remotePort || 0 };
}

/* Our socket's line; null when the kernel lists no socket with these
 * ports (it reached CLOSE), undefined when the table cannot be read. */
function entry(ports) {
  if (!ports.local || !ports.remote) return undefined;
  const v4 = scan('/proc/net/tcp', ports.local, ports.remote);
  if (v4) return v4;
  const v6 = scan('/proc/net/tcp6', ports.local, ports.remote);
  if (v6) return v6;
  return v4 === undefined && v6 === undefined ? undefined : null;
}

/* libuv holds bytes the kernel refused (EAGAIN): the send buffer is full. */
function kernelRefused(sock) {
  const h = sock._handle;
  return Boolean(h && typeof h.writeQueueSize === 'number' && h.writeQueueSize > 0);
}

/* The send path is stalled for good: the kernel refuses bytes and nothing
 * is in flight whose acknowledgement could make room. */
function sendStalled(sock, ports) {
  if (!kernelRefused(sock)) return false;
  const e = entry(ports);
  return Boolean(e) && e.timer !== TIMER_RETRANSMIT;
}

/* The peer's FIN has arrived and every byte before it was read from the
 * kernel (or the socket is gone, which only happens after both FINs). */
function peerFinSeen(ports) {
  const e = entry(ports);
  if (e === undefined) return false;
  if (e === null) return true;
  const open = e.state === ESTABLISHED || e.state === FIN_WAIT1 || e.state === FIN_WAIT2;
  return !open && e.rxQueue === 0;
}

/*
 * What ended the transport, asked once the library reported the end of its
 * input. libuv can report a reset as a plain EOF: when a reset arrives
 * behind unread data, one epoll round brings POLLIN and POLLHUP, uv__read
 * takes the data (a partial read) and uv__stream_io then reports EOF
 * without reading again (libuv src/unix/stream.c, "Short-circuit iff
 * POLLHUP is set"), so the ECONNRESET stays unread in the socket. One more
 * read(2) on the descriptor tells: 0 is the peer's FIN, ECONNRESET/EPIPE a
 * reset, EAGAIN a transport still open (the end was a close_notify). After
 * the end of the input nothing the library would still read is lost (a
 * byte it takes there could only follow a close_notify, which TLSWrap
 * drops anyway, or an EOF).
 * Returns 'fin', 'reset', 'open', 'data' or 'unknown'.
 */
function probeEnd(sock) {
  const fd = sock._handle && typeof sock._handle.fd === 'number' ? sock._handle.fd : -1;
  if (fd < 0 || sock.destroyed) return 'unknown';
  try {
    return fs.readSync(fd, Buffer.alloc(1), 0, 1, null) === 0 ? 'fin' : 'data';
  } catch (err) {
    if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK') return 'open';
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
    return 'unknown';
  }
}

module.exports = { probeEnd, portsOf, entry, kernelRefused, sendStalled, peerFinSeen };
