'use strict';
/*
 * The shim's two ways to run: one cell per process (the command line of
 * docs/shim-protocol.md §1) and the persistent server (--serve, one cell
 * per request line on stdin).
 *
 * Needs: argv without the program name.
 * Gives: main(argv) -> Promise of the exit code.
 * Order (§6): command line (2), hello line, script syntax (2), what Node
 * cannot do (77), what the command line lacks (2), then the steps.
 * Never: lets an exception end the process without an end line.
 */
const { EXIT, ShimExit, writeLine, diag } = require('./protocol');
const args = require('./args');
const script = require('./script');
const capabilities = require('./capabilities');
const { Cell } = require('./cell');
const { Signal } = require('./wait');
const { LineReader, PipeMarkers, InbandMarkers } = require('./markers');

const SHIM = 'node';
/* The serve request in progress, for an end line after a shim failure. */
const current = { serve: false, cell: null };
const API = 'native';

function library() {
  return `Node.js ${process.version} tls (OpenSSL ${process.versions.openssl})`;
}

function hello(a) {
  return { shim: SHIM, library: library(), api: API, role: a.role, tls: a.tls, io: a.io };
}

/* Everything after the hello line of one cell: {code, end}. */
async function runCell(a, loadSteps, markers) {
  try {
    const steps = loadSteps();
    capabilities.check(a, steps, markers instanceof InbandMarkers);
    return await new Cell(a, steps, markers).run();
  } catch (err) {
    if (!(err instanceof ShimExit)) throw err;
    diag(err.message);
    return { code: err.code, end: err.endLine() };
  }
}

async function perProcess(a) {
  writeLine(hello(a));
  const signal = new Signal();
  const markers = new PipeMarkers(a.markerIn, a.markerOut, signal);
  markers.signal = signal;
  const { code, end } = await runCell(a, () => script.load(a.script), markers);
  writeLine(end);
  return code;
}

/* ---- serve mode ------------------------------------------------------------------ */

function requestOf(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    throw new ShimExit(EXIT.USAGE, `request: not JSON: ${err.message}`);
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) {
    throw new ShimExit(EXIT.USAGE, 'request: expected a JSON object');
  }
  for (const key of Object.keys(req)) {
    if (!['cell', 'args', 'script'].includes(key)) {
      throw new ShimExit(EXIT.USAGE, `request: unknown field '${key}'`);
    }
  }
  return req;
}

async function serveOne(line, reader) {
  let cell = null;
  let result;
  try {
    const req = requestOf(line);
    cell = req.cell === undefined ? null : req.cell;
    current.cell = cell;
    const a = args.parseRequest(req.args);
    writeLine(hello(a));
    const markers = new InbandMarkers(reader);
    markers.signal = new Signal();
    result = await runCell(a, () => script.check(req.script), markers);
  } catch (err) {
    if (!(err instanceof ShimExit)) throw err;
    diag(err.message);
    result = { code: err.code, end: err.endLine() };
  }
  writeLine({ ...result.end, exit: result.code, cell });
  current.cell = null;
}

async function serve() {
  current.serve = true;
  const reader = new LineReader(process.stdin, new Signal());
  for (;;) {
    const line = await reader.next(Infinity);
    if (line === null) return EXIT.OK;
    if (line.trim()) await serveOne(line, reader);
  }
}

async function main(argv) {
  let a;
  try {
    a = args.parse(argv);
  } catch (err) {
    diag(err.message);
    writeLine(err.endLine());
    return err.code;
  }
  if (a.version) {
    writeLine({ shim: SHIM, library: library(), api: API, serve: true });
    return EXIT.OK;
  }
  if (a.serve) return serve();
  return perProcess(a);
}

module.exports = { main, current };
