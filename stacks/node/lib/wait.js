'use strict';
/*
 * Waiting for library events with a deadline: the event-driven form of
 * "poll, then call again".
 *
 * Needs: a Signal that the owner wakes on every event it hears.
 * Gives: until(signal, pred, deadline, opts) -> Promise of pred()'s first
 * truthy value; it rejects with StepDeadline once the deadline (ms on the
 * now() clock) passes, or with whatever pred() throws. opts.tickMs
 * re-checks pred on a timer too, for kernel state no event reports.
 * ticks() resolves after the process.nextTick callbacks queued so far,
 * without a pass of the event loop.
 * Never: leaves a timer or a waiter behind once it settled.
 */
const { now, StepDeadline } = require('./protocol');

class Signal {
  constructor() {
    this.waiters = new Set();
  }

  /* inLibrary: the event comes from inside an OpenSSL callback (the
   * handshake's end, a new session), i.e. from within SSL_read. */
  wake(inLibrary = false) {
    for (const check of [...this.waiters]) check(inLibrary);
  }
}

function until(signal, pred, deadline, opts = {}) {
  return new Promise((resolve, reject) => {
    let timer = null;
    let tick = null;
    let settled = false;
    const finish = (fn, v) => {
      settled = true;
      signal.waiters.delete(check);
      if (timer) clearTimeout(timer);
      if (tick) clearInterval(tick);
      fn(v);
    };
    /* Woken by an event from inside an OpenSSL callback, the waiter
     * resumes from the event loop (setImmediate), not from the listener:
     * Node's TLS layer is not re-entrant there (a TLS 1.3 client whose
     * end() runs inside the 'secureConnect' listener loses its Finished,
     * and promise continuations may run before SSL_read returned). Other
     * events resume at once, so that the loop takes in no new input
     * between a step's end and the next step. */
    function check(deferred) {
      if (settled) return;
      let v;
      try {
        v = pred();
      } catch (err) {
        finish(reject, err);
        return;
      }
      if (!v) return;
      if (deferred) {
        settled = true;
        signal.waiters.delete(check);
        setImmediate(() => finish(resolve, v));
      } else {
        finish(resolve, v);
      }
    }
    signal.waiters.add(check);
    if (Number.isFinite(deadline)) {
      timer = setTimeout(() => {
        check(false);
        if (!settled) finish(reject, new StepDeadline('deadline passed while waiting'));
      }, Math.max(0, Math.ceil(deadline - now())));
    }
    if (opts.tickMs) tick = setInterval(() => check(false), opts.tickMs);
    check(false);
  });
}

/* Resolves once the callbacks already queued with process.nextTick ran
 * (twice, for a callback that queues one more), without letting the event
 * loop take in new input. */
async function ticks() {
  await new Promise((resolve) => process.nextTick(resolve));
  await new Promise((resolve) => process.nextTick(resolve));
}

module.exports = { Signal, until, ticks };
