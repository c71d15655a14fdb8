"""The command line (docs/shim-protocol.md §1) plus this shim's own option.

Needs: argv without the program name.
Gives: `parse(argv) -> Args`; a bad command line raises ShimExit(2) with a
message naming the argument.
Never: opens a file or a descriptor (that is the run's business).

`--suppress-ragged-eofs true|false` is the one option of this shim: the two
stack files (python-ssl, python-ssl-ragged) differ only in it. It may come
with `--version` and `--serve` too, because the harness appends those to the
stack file's whole command.

Persistent mode: `parse(base + args, cell=True)` parses a request's args
(after the server's own options) with the same code; --fd, --script,
--marker-in and --marker-out have no place there, --connect is required.
"""
from __future__ import annotations

import dataclasses
import re

from pyshim.protocol import EXIT_USAGE, ShimExit

MAX_CONNECTIONS = 4
DEFAULT_DEADLINE_MS = 10000
MAX_DEADLINE_MS = 3600000
CHOICES = {"--role": ("client", "server"), "--tls": ("1.2", "1.3"),
           "--io": ("blocking", "nonblocking", "memory"),
           "--suppress-ragged-eofs": ("true", "false")}
PATHS = {"--cert": "cert", "--key": "key", "--script": "script", "--cipher": "cipher",
         "--session-in": "session_in", "--session-out": "session_out",
         "--connect": "connect"}


@dataclasses.dataclass
class Args:
    role: str = ""
    tls: str = ""
    io: str = ""
    fds: list = dataclasses.field(default_factory=list)
    connect: str | None = None
    cert: str | None = None
    key: str | None = None
    script: str | None = None
    cipher: str | None = None
    session_in: str | None = None
    session_out: str | None = None
    marker_in: int = -1
    marker_out: int = -1
    deadline_ms: int = DEFAULT_DEADLINE_MS
    suppress_ragged_eofs: bool = False
    version_only: bool = False
    serve_loop: bool = False        # --serve: run the persistent-mode server
    serve: bool = False             # a cell of persistent mode

    @property
    def server(self) -> bool:
        return self.role == "server"


def _usage(message: str) -> ShimExit:
    return ShimExit(EXIT_USAGE, message)


def _int(opt: str, val: str, low: int, high: int) -> int:
    n = int(val) if re.fullmatch(r"-?[0-9]{1,10}", val) else None
    if n is None or not low <= n <= high:
        raise _usage(f"{opt}: '{val}' is not an integer in {low}..{high}")
    return n


def _fds(val: str) -> list[int]:
    parts = val.split(",")
    if not 1 <= len(parts) <= MAX_CONNECTIONS:
        raise _usage(f"--fd: '{val}' must list 1 to {MAX_CONNECTIONS} descriptors")
    return [_int("--fd", p, 0, 65535) for p in parts]


def _set(a: Args, opt: str, val: str) -> None:
    if opt in CHOICES and val not in CHOICES[opt]:
        raise _usage(f"{opt}: '{val}' is not one of the accepted values")
    if opt == "--role":
        a.role = val
    elif opt == "--tls":
        a.tls = val
    elif opt == "--io":
        a.io = val
    elif opt == "--suppress-ragged-eofs":
        a.suppress_ragged_eofs = val == "true"
    elif opt == "--fd":
        a.fds = _fds(val)
    elif opt in ("--marker-in", "--marker-out"):
        setattr(a, opt[2:].replace("-", "_"), _int(opt, val, 0, 65535))
    elif opt == "--deadline-ms":
        a.deadline_ms = _int(opt, val, 1, MAX_DEADLINE_MS)
    elif opt in PATHS:
        setattr(a, PATHS[opt], val)
    else:
        raise _usage(f"unknown argument '{opt}'")


PER_PROCESS_ONLY = ("--fd", "--script", "--marker-in", "--marker-out")


def _check_complete(a: Args) -> None:
    """Required arguments are checked after the loop so the message names
    the first one missing whatever order the others came in."""
    if a.serve and not a.connect:
        raise _usage("--connect is required (in persistent mode the shim opens every "
                     "connection itself)")
    if not a.role:
        raise _usage("--role is required (client or server)")
    if not a.tls:
        raise _usage("--tls is required (1.2 or 1.3)")
    if not a.io:
        raise _usage("--io is required (blocking, nonblocking or memory)")
    if not a.fds and not a.connect:
        raise _usage("one of --fd or --connect is required")
    if a.fds and a.connect:
        raise _usage("--fd and --connect exclude each other")
    if not a.script and not a.serve:
        raise _usage("--script is required")
    if not a.cert or not a.key:
        raise _usage("--cert and --key are required")


def _mode(a: Args, rest: list[str]) -> str | None:
    """Takes --version or --serve out of rest; the one given, if any."""
    given = [flag for flag in ("--version", "--serve") if flag in rest]
    if len(given) > 1:
        raise _usage("--version and --serve exclude each other")
    for flag in given:
        rest.remove(flag)
        a.version_only, a.serve_loop = flag == "--version", flag == "--serve"
    return given[0] if given else None


def parse(argv: list[str], cell: bool = False) -> Args:
    a = Args(serve=cell)
    rest = list(argv)
    mode = None if cell else _mode(a, rest)
    i = 0
    while i < len(rest):
        opt = rest[i]
        if mode and opt != "--suppress-ragged-eofs":
            raise _usage(f"{mode} takes no other argument than --suppress-ragged-eofs, "
                         f"got '{opt}'")
        if cell and opt in PER_PROCESS_ONLY:
            raise _usage(f"{opt} has no place in a persistent-mode request (the script comes "
                         "inline, markers in-band, connections from --connect)")
        if not opt.startswith("--") or (opt not in CHOICES and opt not in PATHS and opt not in (
                "--fd", "--marker-in", "--marker-out", "--deadline-ms")):
            raise _usage(f"unknown argument '{opt}'")
        if i + 1 >= len(rest):
            raise _usage(f"{opt} needs a value")
        _set(a, opt, rest[i + 1])
        i += 2
    if not mode:
        _check_complete(a)
    return a
