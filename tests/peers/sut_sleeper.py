#!/usr/bin/env python3
"""The SUT double of sut_python.py with one more step, for the stall tests
(test_stalled_waits.py): a stack that sleeps on a timer before it goes on.

    {"op": "sleep", "ms": 100, "times": 1}   sleeps `ms` milliseconds, `times` times

Each sleep is one timer the process waits on, asleep, as a library's own
short timer would be (GnuTLS's wait for a session ticket).
"""
from __future__ import annotations

import sys
import time

import sut_python


class Sleeper(sut_python.Sut):
    def op_sleep(self, step, deadline):
        for _ in range(step.get("times", 1)):
            time.sleep(step["ms"] / 1000.0)
        return {"outcome": "ok"}


if __name__ == "__main__":
    sut_python.Sut = Sleeper
    sys.exit(sut_python.main())
