'use strict';
/*
 * Memory mode: the stream Node's TLS layer reads and writes instead of a
 * socket. tls.connect({socket}) / tls.Server wrap a stream without a native
 * handle in a JSStreamSocket (lib/internal/js_stream_socket.js), so TLSWrap
 * talks to this Duplex, and the runner moves the bytes between it and the
 * socket it owns (transport.js RawLink), as an application that uses TLS
 * over its own transport does.
 *
 * Needs: the connection's RawLink and Signal, an event recorder.
 * Gives: makeWire(link, signal, record) -> a Duplex with give(piece) (the
 * next input piece, or null for EOF) and `ended` (the library ended its
 * transport).
 * Never: hands the library input on its own (only give() does), or makes
 * the library wait for anything but the socket taking its bytes.
 *
 * The library's writes complete when the socket took the bytes (a stalled
 * peer stalls the library's write, as a full BIO would). The library's
 * transport shutdown (TLSWrap::DoShutdown -> JSStreamSocket.doShutdown ->
 * Duplex end) completes once the bytes before it are on the socket; it is
 * recorded, and the FIN is the runner's to send (close_transport, resume,
 * end of run), because in this mode the socket is the application's.
 */
const { Duplex } = require('stream');

function makeWire(link, signal, record) {
  const wire = new Duplex({
    allowHalfOpen: true,
    read() {},
    write(chunk, encoding, callback) {
      link.send(chunk).then(() => {
        callback();
        signal.wake();
      });
    },
    final(callback) {
      wire.ended = true;
      record({ ev: 'transport_end', by: 'library' });
      signal.wake();
      callback();
    },
  });
  wire.ended = false;
  wire.eofGiven = false;
  wire.give = (piece) => {
    if (piece === null) wire.eofGiven = true;
    if (!wire.destroyed) wire.push(piece);
  };
  return wire;
}

module.exports = { makeWire };
