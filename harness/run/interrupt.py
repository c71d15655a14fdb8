"""Signals noted, not raised: the runs whose children live in sessions of
their own (the black-box probe, the endpoints) must not lose a child to a
KeyboardInterrupt raised in the middle of starting it.

Contract: `with Interrupt() as interrupt:` installs handlers for SIGINT,
SIGTERM and SIGHUP (in the main thread), `interrupt.r` becomes readable when
one arrives, and `interrupt.check()` raises KeyboardInterrupt at a point the
caller chooses; leaving the block restores the old handlers.
"""
from __future__ import annotations

import os
import signal
import threading


class Interrupt:
    """SIGINT, SIGTERM and SIGHUP during a run of processes in their own sessions (probe, endpoints) only note the signal and
    wake the wait in progress; the wait then raises KeyboardInterrupt, at a
    point where every child is known. (Raised inside subprocess.Popen, it
    would lose a client that already runs, in its own session.)"""
    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self.r, self.w = os.pipe()
        os.set_blocking(self.w, False)
        self.signum: int | None = None
        self.old: dict = {}

    def _note(self, signum, frame) -> None:
        self.signum = signum
        try:
            os.write(self.w, b"x")
        except BlockingIOError:
            pass

    def check(self) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt(signal.Signals(self.signum).name)

    def __enter__(self) -> "Interrupt":
        if threading.current_thread() is threading.main_thread():
            self.old = {s: signal.signal(s, self._note) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self.old.items():
            signal.signal(s, handler)
        os.close(self.r)
        os.close(self.w)
