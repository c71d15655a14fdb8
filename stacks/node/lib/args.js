'use strict';
/*
 * The command line (docs/shim-protocol.md §1), for a per-process run and
 * for the `args` of a serve-mode request (the same parser, minus what the
 * request may not carry).
 *
 * Needs: argv without the program name.
 * Gives: parse(argv) -> Args, parseRequest(args) -> Args; a bad command
 * line throws ShimExit(2) whose message names the argument.
 * Never: opens a file or a descriptor (that is the run's business).
 */
const { EXIT, ShimExit } = require('./protocol');

const MAX_CONNECTIONS = 4;
const DEFAULT_DEADLINE_MS = 10000;
const MAX_DEADLINE_MS = 3600000;
const CHOICES = {
  '--role': ['client', 'server'],
  '--tls': ['1.2', '1.3'],
  '--io': ['blocking', 'nonblocking', 'memory'],
};
const STRINGS = {
  '--cert': 'cert', '--key': 'key', '--script': 'script', '--cipher': 'cipher',
  '--session-in': 'sessionIn', '--session-out': 'sessionOut', '--connect': 'connect',
};
const INTEGERS = ['--fd', '--marker-in', '--marker-out', '--deadline-ms'];
/* What a serve request's args may not hold: the server owns these. */
const NOT_IN_REQUEST = ['--script', '--fd', '--marker-in', '--marker-out'];

function usage(message) {
  return new ShimExit(EXIT.USAGE, message);
}

function integer(opt, val, low, high) {
  const n = /^-?[0-9]{1,10}$/.test(val) ? Number(val) : NaN;
  if (!(n >= low && n <= high)) {
    throw usage(`${opt}: '${val}' is not an integer in ${low}..${high}`);
  }
  return n;
}

function descriptors(val) {
  const parts = val.split(',');
  if (parts.length < 1 || parts.length > MAX_CONNECTIONS) {
    throw usage(`--fd: '${val}' must list 1 to ${MAX_CONNECTIONS} descriptors`);
  }
  return parts.map((p) => integer('--fd', p, 0, 65535));
}

function hostPort(val) {
  const m = /^(\[[^\]]+\]|[^:]+):([0-9]{1,5})$/.exec(val);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw usage(`--connect: '${val}' is not HOST:PORT`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function blank() {
  return {
    role: '', tls: '', io: '', fds: [], connect: null, cert: null, key: null, script: null,
    cipher: null, sessionIn: null, sessionOut: null, markerIn: -1, markerOut: -1,
    deadlineMs: DEFAULT_DEADLINE_MS, version: false, serve: false,
  };
}

function setOption(a, opt, val) {
  if (CHOICES[opt] && !CHOICES[opt].includes(val)) {
    throw usage(`${opt}: '${val}' is not one of the accepted values`);
  }
  if (opt === '--role') a.role = val;
  else if (opt === '--tls') a.tls = val;
  else if (opt === '--io') a.io = val;
  else if (opt === '--fd') a.fds = descriptors(val);
  else if (opt === '--marker-in') a.markerIn = integer(opt, val, 0, 65535);
  else if (opt === '--marker-out') a.markerOut = integer(opt, val, 0, 65535);
  else if (opt === '--deadline-ms') a.deadlineMs = integer(opt, val, 1, MAX_DEADLINE_MS);
  else if (opt === '--connect') a.connect = hostPort(val);
  else a[STRINGS[opt]] = val;
}

/* Required arguments are checked after the loop, so the message names the
 * first one missing whatever order the others came in. */
function checkComplete(a, needScript) {
  if (!a.role) throw usage('--role is required (client or server)');
  if (!a.tls) throw usage('--tls is required (1.2 or 1.3)');
  if (!a.io) throw usage('--io is required (blocking, nonblocking or memory)');
  if (!a.fds.length && !a.connect) throw usage('one of --fd or --connect is required');
  if (a.fds.length && a.connect) throw usage('--fd and --connect exclude each other');
  if (needScript && !a.script) throw usage('--script is required');
  if (!a.cert || !a.key) throw usage('--cert and --key are required');
}

function known(opt) {
  return Boolean(CHOICES[opt] || STRINGS[opt] || INTEGERS.includes(opt));
}

function parseOptions(argv, a) {
  for (let i = 0; i < argv.length; i += 2) {
    const opt = argv[i];
    if (typeof opt !== 'string' || !known(opt)) throw usage(`unknown argument '${opt}'`);
    if (i + 1 >= argv.length) throw usage(`${opt} needs a value`);
    const val = argv[i + 1];
    if (typeof val !== 'string') throw usage(`${opt}: expected a string value`);
    setOption(a, opt, val);
  }
  return a;
}

/* The process's own command line: a run, --version or --serve. */
function parse(argv) {
  const a = blank();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '--serve')) {
    a.version = argv[0] === '--version';
    a.serve = argv[0] === '--serve';
    return a;
  }
  if (argv.includes('--version') || argv.includes('--serve')) {
    throw usage('--version and --serve take no other argument');
  }
  parseOptions(argv, a);
  checkComplete(a, true);
  return a;
}

/* The args of a serve request: a cell's command line without the
 * descriptors and the script, and always --connect. */
function parseRequest(argv) {
  if (!Array.isArray(argv)) throw usage('request: field \'args\' must be an array of strings');
  for (const opt of NOT_IN_REQUEST) {
    if (argv.includes(opt)) throw usage(`${opt} is not allowed in serve mode`);
  }
  const a = parseOptions(argv, blank());
  if (!a.connect) throw usage('--connect is required in serve mode');
  checkComplete(a, false);
  return a;
}

module.exports = { parse, parseRequest, MAX_CONNECTIONS };
