#!/usr/bin/python3
"""tlsclose shim for Python's ssl module (docs/shim-protocol.md).

Needs: /usr/bin/python3 (3.11, OpenSSL 3 underneath), the harness's
arguments, plus `--suppress-ragged-eofs true|false` from the stack file.
Gives: the hello line, one JSON line per step, the end line and the exit
codes of the shim protocol (0, 2, 3, 4, 77).
Never: uses anything outside the standard library, prints anything but
JSON lines on stdout.

The modules are in pyshim/: args, script, protocol, outcome, rawsock,
memio, conn, steps, run, main. README.md beside this file describes how
the protocol maps onto Python's ssl.
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyshim.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
