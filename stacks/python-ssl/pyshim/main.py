"""The shim's main: command line, hello line, script, run, end line.

Needs: argv without the program name.
Gives: `main(argv) -> exit code` in the order docs/shim-protocol.md §6
fixes: command line (2), hello, script syntax (2), what Python's ssl
cannot do (77), what the command line lacks (2), then the steps.
`--serve` runs the persistent mode instead (pyshim/serve.py), whose cells
go through `run_cell`, the same path with the request's args and script.
Never: lets an exception escape as a traceback instead of an end line.
"""
from __future__ import annotations

import platform
import ssl
import sys
import traceback

from pyshim import args as A
from pyshim import script
from pyshim.protocol import EXIT_FAILURE, ShimExit, emit, emit_end, now
from pyshim.rawsock import Markers
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
    emit_end(exc.end_line(), exc.code)
    return exc.code


def _run_parsed(a: A.Args, load_steps, markers: Markers | None = None) -> int:
    """Everything after the command line, for one run or one cell."""
    run_deadline = now() + a.deadline_ms / 1000.0
    emit({**_base(a), "role": a.role, "tls": a.tls, "io": a.io,
          "suppress_ragged_eofs": a.suppress_ragged_eofs})
    try:
        steps = load_steps()
        check_capabilities(a, steps)
        return Run(a, run_deadline, markers).execute(steps)
    except ShimExit as exc:
        return _end(exc)
    except Exception as exc:  # a bug of the shim: still an end line, exit 4
        traceback.print_exc()
        return _end(ShimExit(EXIT_FAILURE, f"shim failure: {type(exc).__name__}: {exc}"))


def run_cell(server_argv: list[str], args: list[str], steps: object, reader) -> int:
    """One cell of persistent mode: the server's own options (e.g.
    --suppress-ragged-eofs), then the request's args; the script inline,
    markers in-band over `reader` (standard input)."""
    try:
        a = A.parse([*server_argv, *args], cell=True)
    except ShimExit as exc:
        return _end(exc)
    return _run_parsed(a, lambda: script.from_json(steps), Markers(-1, -1, reader))


def main(argv: list[str]) -> int:
    try:
        a = A.parse(argv)
    except ShimExit as exc:
        return _end(exc)
    if a.version_only:
        emit({**_base(a), "serve": True})
        return 0
    if a.serve_loop:
        from pyshim import serve
        return serve.serve([x for x in argv if x != "--serve"], run_cell)
    return _run_parsed(a, lambda: script.load(a.script))
