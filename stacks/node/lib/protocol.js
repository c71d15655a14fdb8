'use strict';
/*
 * The shim protocol's output, exit codes and clock (docs/shim-protocol.md
 * §3, §6).
 *
 * Needs: nothing but Node's core modules.
 * Gives: writeLine (one JSON object per line, written synchronously so that
 * lines keep their order with everything else the process does), ShimExit
 * (how a run ends early: exit code, message, step to blame), StepDeadline,
 * Reset, Report (the line of one step) and a monotonic clock in ms.
 * Never: writes to stdout anything that is not a JSON object; touches
 * process.stdout (which would make descriptor 1 non-blocking).
 */
const fs = require('fs');

const EXIT = Object.freeze({ OK: 0, USAGE: 2, TIMEOUT: 3, FAILURE: 4, SKIP: 77 });
const END_KIND = { 2: 'error', 3: 'timeout', 4: 'error', 77: 'skip' };
const MAX_WANTS = 64;

function now() {
  return performance.now();
}

/* Synchronous write of a whole buffer; a descriptor someone made
 * non-blocking answers EAGAIN, which is waited out here (the reader is the
 * harness, which reads all the time). */
function writeAll(fd, text) {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function writeLine(obj, fd = 1) {
  writeAll(fd, JSON.stringify(obj) + '\n');
}

/* Diagnostics for people; a failing stderr must not end the run. */
function diag(message) {
  try {
    writeAll(2, `shim-node: ${message}\n`);
  } catch (err) {
    // nothing left to tell it to
  }
}

class ShimExit extends Error {
  /* step 0 names the run as a whole (a skip always names its step). */
  constructor(code, message, step = 0) {
    super(message);
    this.code = code;
    this.step = step;
  }

  endLine() {
    const line = { end: END_KIND[this.code] || 'error' };
    if (this.step > 0 || this.code === EXIT.SKIP) line.step = this.step;
    line.message = this.message;
    return line;
  }
}

/* A wait inside a step met the step's (or the run's) deadline. */
class StepDeadline extends Error {}

/* The runner met a reset on a socket it owns (memory mode). */
class Reset extends Error {}

class Report {
  constructor(step, op) {
    this.step = step;
    this.op = op;
    this.outcome = '';
    this.wants = [];
    this.wantsDropped = 0;
    this.calls = 0;
    this.native = null;
    this.flags = null;
    this.bytes = 0;
    this.ms = 0;
    this.extras = {};
  }

  addWant(want) {
    if (this.wants.length < MAX_WANTS) this.wants.push(want);
    else this.wantsDropped += 1;
  }

  line() {
    const out = { step: this.step, op: this.op, outcome: this.outcome, wants: this.wants };
    if (this.wantsDropped) out.wants_dropped = this.wantsDropped;
    Object.assign(out, {
      calls: this.calls, native: this.native, flags: this.flags, bytes: this.bytes,
      ms: Math.round(this.ms * 100) / 100,
    }, this.extras);
    return out;
  }
}

module.exports = { EXIT, now, writeLine, diag, ShimExit, StepDeadline, Reset, Report };
