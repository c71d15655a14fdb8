'use strict';
/*
 * The step script (docs/shim-protocol.md §2): read and checked whole.
 *
 * Needs: the path of a JSON file (per-process run) or the parsed array
 * (serve request).
 * Gives: load(path) / check(array) -> steps; unknown ops, unknown fields,
 * wrong types, values out of range and impossible sequences throw
 * ShimExit(2) naming the step and the field, before any byte is exchanged.
 * Never: decides what Node can do (capabilities.js does, after this).
 */
const fs = require('fs');
const { EXIT, ShimExit } = require('./protocol');

const MAX_BYTES = 64 * 1024 * 1024;
const MAX_TIMEOUT_MS = 3600000;
const DEFAULT_TIMEOUT_MS = 5000;
const MARKER_MAX = 63;

const BOOL = 'bool';
const MARKER = 'marker';
const TEXT = 'text';
const UNTIL = 'until';
const OPTION = ['ignore_unexpected_eof', 'post_handshake_auth', 'quiet_shutdown'];
const SCOPE = ['connection', 'context'];
/* op -> [fields besides op and timeout_ms, does the op call the library] */
const OPS = {
  handshake: [{ nowait: BOOL }, true],
  write: [{ bytes: [0, MAX_BYTES], nowait: BOOL, until_blocked: BOOL }, true],
  read: [{ bytes: [1, MAX_BYTES], until: UNTIL, nowait: BOOL }, true],
  shutdown: [{ nowait: BOOL }, true],
  shutdown_quiet: [{}, true],
  shutdown_full: [{ nowait: BOOL }, true],
  get_shutdown: [{}, false],
  get_error_after: [{}, false],
  keyupdate: [{ request_peer: BOOL }, true],
  close_transport: [{}, false],
  free_without_shutdown: [{}, false],
  session_resumable: [{}, false],
  resume: [{}, false],
  signal_peer: [{ marker: MARKER }, false],
  wait_peer: [{ marker: MARKER }, false],
  plaintext_write: [{ text: TEXT }, false],
  plaintext_read: [{ text: TEXT }, false],
  set_option: [{ option: OPTION, scope: SCOPE }, false],
  clear: [{}, false],
};
const REQUIRED = {
  write: ['bytes'], signal_peer: ['marker'], wait_peer: ['marker'],
  plaintext_write: ['text'], plaintext_read: ['text'], set_option: ['option'],
};
const NEEDS_SESSION = ['get_shutdown', 'get_error_after', 'session_resumable',
  'free_without_shutdown', 'clear'];
/* After `clear` the object waits for a resume: only queries without IO. */
const AFTER_CLEAR = ['get_shutdown', 'session_resumable'];
const NEEDS_SOCKET = ['plaintext_write', 'plaintext_read'];

function bad(message) {
  return new ShimExit(EXIT.USAGE, message);
}

function callsLibrary(op) {
  return OPS[op][1];
}

function where(st) {
  return `step ${st.index} (${st.op})`;
}

/* The checked value of one field (JSON types are strict: a boolean is not
 * an integer and an integer is not a boolean). */
function value(w, field, kind, v) {
  if (kind === BOOL) {
    if (typeof v !== 'boolean') throw bad(`${w}: field '${field}': expected true or false`);
    return v;
  }
  if (Array.isArray(kind) && typeof kind[0] === 'string') {
    if (typeof v !== 'string' || !kind.includes(v)) {
      throw bad(`${w}: field '${field}': expected ${kind.join(' or ')}, got "${v}"`);
    }
    return v;
  }
  if (Array.isArray(kind)) {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw bad(`${w}: field '${field}': expected an integer`);
    }
    if (v < kind[0] || v > kind[1]) {
      throw bad(`${w}: field '${field}': ${v} is out of range ${kind[0]}..${kind[1]}`);
    }
    return v;
  }
  if (typeof v !== 'string') throw bad(`${w}: field '${field}': expected a string`);
  if (kind === UNTIL && v !== 'close') {
    throw bad(`${w}: field 'until': only "close" is defined, got "${v}"`);
  }
  if (kind === MARKER) {
    const n = Buffer.byteLength(v);
    if (n < 1 || n > MARKER_MAX || v.includes('\n')) {
      throw bad(`${w}: field 'marker': required, 1-${MARKER_MAX} bytes, no newline`);
    }
  }
  if (kind === TEXT && !v) throw bad(`${w}: field 'text': a non-empty string is required`);
  return v;
}

function combinations(st) {
  const w = where(st);
  if (st.op === 'write' && st.untilBlocked && st.bytes === 0) {
    throw bad(`${w}: 'until_blocked' needs 'bytes' of at least 1`);
  }
  if (st.op === 'write' && st.untilBlocked && st.nowait) {
    throw bad(`${w}: 'until_blocked' and 'nowait' exclude each other`);
  }
  if (st.op === 'read' && st.untilClose && st.bytes >= 0) {
    throw bad(`${w}: 'bytes' and 'until' exclude each other`);
  }
  if (st.op === 'read' && st.untilClose && st.nowait) {
    throw bad(`${w}: 'until' and 'nowait' exclude each other`);
  }
}

const FIELD_NAMES = { until_blocked: 'untilBlocked', request_peer: 'requestPeer' };

function step(obj, index) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw bad(`step ${index}: expected an object`);
  }
  if (!('op' in obj)) throw bad(`step ${index}: field 'op' is required`);
  const op = obj.op;
  if (typeof op !== 'string') throw bad(`step ${index}: field 'op': expected a string`);
  if (!Object.prototype.hasOwnProperty.call(OPS, op)) {
    throw bad(`step ${index}: unknown op '${op}'`);
  }
  const st = {
    index, op, timeoutMs: DEFAULT_TIMEOUT_MS, nowait: false, bytes: -1, untilClose: false,
    untilBlocked: false, requestPeer: false, marker: null, text: null, option: null,
    scope: 'connection',
  };
  const fields = OPS[op][0];
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'op') continue;
    if (key === 'timeout_ms') {
      st.timeoutMs = value(where(st), key, [1, MAX_TIMEOUT_MS], v);
    } else if (key === 'until' && key in fields) {
      st.untilClose = value(where(st), key, UNTIL, v) === 'close';
    } else if (Object.prototype.hasOwnProperty.call(fields, key)) {
      st[FIELD_NAMES[key] || key] = value(where(st), key, fields[key], v);
    } else {
      throw bad(`${where(st)}: unknown field '${key}'`);
    }
  }
  for (const key of REQUIRED[op] || []) {
    if (!(key in obj)) throw bad(`${where(st)}: field '${key}' is required`);
  }
  combinations(st);
  return st;
}

function needsSession(st) {
  return callsLibrary(st.op) || NEEDS_SESSION.includes(st.op)
    || (st.op === 'set_option' && st.scope === 'connection');
}

/* What a step needs must still exist; a `resume` brings a fresh TLS object
 * and socket. */
function checkSequence(steps) {
  let freedAt = 0;
  let closedAt = 0;
  let clearedAt = 0;
  steps.forEach((st, i) => {
    if (st.op === 'get_error_after' && (i === 0 || !callsLibrary(steps[i - 1].op))) {
      throw bad(`step ${st.index} (get_error_after): the previous step must call the `
        + 'library (handshake, write, read, shutdown*, keyupdate)');
    }
    if (freedAt && needsSession(st)) {
      throw bad(`${where(st)}: the TLS object was freed by step ${freedAt}`);
    }
    if (clearedAt && needsSession(st) && !AFTER_CLEAR.includes(st.op)) {
      throw bad(`${where(st)}: the TLS object was cleared by step ${clearedAt} and waits `
        + 'for a resume');
    }
    if (closedAt && NEEDS_SOCKET.includes(st.op)) {
      throw bad(`${where(st)}: the transport was closed by step ${closedAt}`);
    }
    if (st.op === 'free_without_shutdown') freedAt = st.index;
    else if (st.op === 'close_transport') closedAt = st.index;
    else if (st.op === 'clear') clearedAt = st.index;
    else if (st.op === 'resume') {
      freedAt = 0;
      closedAt = 0;
      clearedAt = 0;
    }
  });
}

function check(root) {
  if (!Array.isArray(root)) throw bad('step script: expected a JSON array of steps');
  if (!root.length) throw bad('step script: no steps');
  const steps = root.map((obj, i) => step(obj, i + 1));
  checkSequence(steps);
  return steps;
}

function load(path) {
  let text;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw bad(`${path}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}`);
  }
  let root;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw bad(`${path}: not JSON: ${err.message}`);
  }
  return check(root);
}

module.exports = { load, check, where, callsLibrary };
