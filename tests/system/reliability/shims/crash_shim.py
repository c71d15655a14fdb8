#!/usr/bin/python3
"""A deliberately crashing shim (tests/system/reliability): says hello as the shim
protocol asks, writes one diagnostic line, then kills itself with the signal
named by CRASH_SIGNAL (default SIGSEGV) before its first step ends. The
harness must turn that into CRASH with the signal name and this last line."""
import json
import os
import signal
import sys


def main() -> int:
    hello = {"shim": "crash", "library": "CrashSSL 1.0", "api": "native"}
    if "--version" in sys.argv:
        print(json.dumps(hello), flush=True)
        return 0
    print(json.dumps({**hello, "role": "?", "tls": "?", "io": "?"}), flush=True)
    print("crash shim: giving up inside step 1", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.Signals[os.environ.get("CRASH_SIGNAL", "SIGSEGV")])
    return 4


if __name__ == "__main__":
    sys.exit(main())
