#!/usr/bin/python3
"""A deliberately hanging shim (tests/system/reliability): says hello, then never
performs its first step and never exits by itself, ignoring its deadline.
When TLSCLOSE_TEST_READY names a FIFO, it writes its pid there first, so a
test knows the cell is running without sleeping or polling."""
import json
import os
import sys
import time


def main() -> int:
    hello = {"shim": "hang", "library": "HangSSL 1.0", "api": "native"}
    if "--version" in sys.argv:
        print(json.dumps(hello), flush=True)
        return 0
    print(json.dumps({**hello, "role": "?", "tls": "?", "io": "?"}), flush=True)
    print("hang shim: stuck in step 1", file=sys.stderr, flush=True)
    ready = os.environ.get("TLSCLOSE_TEST_READY")
    if ready:
        with open(ready, "w") as fifo:
            fifo.write(f"{os.getpid()}\n")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
