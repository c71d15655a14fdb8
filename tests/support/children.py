"""Children a test starts itself (not through run_cell, which reaps its
own): killed and reaped on every path, so a failing assertion never leaves
a process behind."""
from __future__ import annotations

import os
import signal
import subprocess
from contextlib import contextmanager


@contextmanager
def reaped(proc: subprocess.Popen, group: bool = False):
    """Yields proc; on leaving the block, whatever happened in it, a proc
    still running is killed (with group, its whole process group: a child
    started with start_new_session=True) and waited for."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait()
