"""Black-box endpoints for `tlsclose probe` (tests/harness/run and
commands): a server or client started for one test, always killed and
reaped, and what the probe's results say.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from harness.spec import corpus

from .build import CERT, KEY, ROOT
from .front_door import run_out

READY_S = 20          # an endpoint says it listens within this, or the test fails
RUN_S = 300           # a whole probe run


class Endpoint:
    """A server started for one test: its output is read all the time (a
    full pipe would stall it), and leaving the block kills its process group
    and reaps it, whatever happened in between."""

    def __init__(self, argv: list[str], ready: str):
        self.argv, self.ready = argv, re.compile(ready)
        self.lines: list[str] = []
        self.match: re.Match | None = None
        self.seen = threading.Event()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.match is None and (m := self.ready.search(line)):
                self.match = m
                self.seen.set()
        self.seen.set()                                  # ended: stop waiting

    def __enter__(self) -> "Endpoint":
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace",
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            if not self.seen.wait(READY_S) or self.match is None:
                pytest.fail(f"{self.argv[0]} did not start listening: {''.join(self.lines)}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stdin.close()
        self.reader.join(READY_S)
        self.proc.stdout.close()


def s_server() -> Endpoint:
    # -accept 127.0.0.1:0 binds a free port and prints it: no port to guess.
    return Endpoint(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", str(CERT),
                     "-key", str(KEY)], r"^ACCEPT 127\.0\.0\.1:(\d+)")


def gnutls_serv() -> Endpoint:
    # -p 0 binds free ports but prints "port 0": the port comes from /proc.
    return Endpoint(["gnutls-serv", "-p", "0", "--echo", "--x509certfile", str(CERT),
                     "--x509keyfile", str(KEY)], r"listening on IPv4 .*done")


def probe(out: Path, *args: str, cases_dir: Path | None = None) -> tuple[int, dict | None, str]:
    """Runs `tlsclose probe`; returns the exit status, results.json (None if
    not written) and the combined output."""
    extra = ["--cases-dir", str(cases_dir)] if cases_dir is not None else []
    return run_out("probe", out, *args, *extra, timeout=RUN_S)


def verdicts(doc: dict) -> dict[tuple[str, str], str]:
    return {(c["case"], c["tls"]): c["verdict"] for c in doc["cells"]}


def probe_cases(role: str) -> list[tuple[str, str]]:
    """(case, tls) of every cell a probe of the corpus has for an endpoint of this role."""
    cases = corpus.load_cases(corpus.case_files(ROOT / "cases"), ROOT)
    return sorted((c.id, t) for c in cases if c.probe and role in c.probe["roles"]
                  for t in c.probe["tls"])
