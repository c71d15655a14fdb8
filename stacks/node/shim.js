#!/usr/bin/node
'use strict';
/*
 * tlsclose shim for Node.js's tls module (docs/shim-protocol.md).
 *
 * Needs: Node.js 20 (Debian's nodejs, OpenSSL 3 underneath), core modules
 * only; the harness's arguments, or --version, or --serve.
 * Gives: the hello line, one JSON line per step, the end line and the exit
 * codes of the shim protocol (0, 2, 3, 4, 77); with --serve, one cell per
 * request line on stdin, each ended by an end line with its exit code.
 * Never: prints anything but JSON lines on stdout.
 *
 * The modules are in lib/: protocol (output, exit codes), args, script,
 * capabilities, outcome, wait, tcpstate, transport, wire, markers, conn,
 * steps, cell, main. README.md beside this file maps the protocol onto
 * Node's tls and gives the facts found in Node 20's source.
 */
const { main, current } = require('./lib/main');
const { writeLine, diag } = require('./lib/protocol');

/* A bug of the shim still ends with an end line (exit 4); a server stops
 * (the harness starts a new one for the next cell). */
process.on('uncaughtException', (err) => {
  diag(`shim failure: ${err && err.stack ? err.stack : err}`);
  const end = { end: 'error', message: `shim failure: ${err && err.message}` };
  writeLine(current.serve ? { ...end, exit: 4, cell: current.cell } : end);
  process.exit(4);
});

main(process.argv.slice(2)).then((code) => process.exit(code));
