"""The shim's main: command line, hello line, script, run, end line.

Needs: argv without the program name.
Gives: `main(argv) -> exit code` in the order docs/shim-protocol.md §6
fixes: command line (2), hello, script syntax (2), what Python's ssl
cannot do (77), what the command line lacks (2), then the steps.
Never: lets an exception escape as a traceback instead of an end line.
"""
from __future__ import annotations

import platform
import ssl
import sys
import traceback

from pyshim import args as A
from pyshim import script
from pyshim.protocol import EXIT_FAILURE, ShimExit, emit, now
from pyshim.run import Run, check_capabilities

API = "native"


def shim_name(suppress_ragged: bool) -> str:
    return "python-ssl-ragged" if suppress_ragged else "python-ssl"


def library_version() -> str:
    return f"Python {platform.python_version()} ssl ({ssl.OPENSSL_VERSION})"


def _base(a: A.Args) -> dict:
    return {"shim": shim_name(a.suppress_ragged_eofs), "library": library_version(),
            "api": API}


def _end(exc: ShimExit) -> int:
    print(f"shim: {exc.message}", file=sys.stderr, flush=True)
    emit(exc.end_line())
    return exc.code


def main(argv: list[str]) -> int:
    try:
        a = A.parse(argv)
    except ShimExit as exc:
        return _end(exc)
    if a.version_only:
        emit(_base(a))
        return 0
    run_deadline = now() + a.deadline_ms / 1000.0
    emit({**_base(a), "role": a.role, "tls": a.tls, "io": a.io,
          "suppress_ragged_eofs": a.suppress_ragged_eofs})
    try:
        steps = script.load(a.script)
        check_capabilities(a, steps)
        return Run(a, run_deadline).execute(steps)
    except ShimExit as exc:
        return _end(exc)
    except Exception as exc:  # a bug of the shim: still an end line, exit 4
        traceback.print_exc()
        return _end(ShimExit(EXIT_FAILURE, f"shim failure: {type(exc).__name__}: {exc}"))
