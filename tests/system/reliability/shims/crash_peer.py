#!/usr/bin/python3
"""A deliberately crashing mock peer (tests/system/reliability): prints its start
event, one diagnostic line, then aborts (SIGABRT). The harness must report
CRASH naming the peer, the signal and this last line."""
import json
import os
import signal
import sys

print(json.dumps({"ev": "start", "role": "?", "tls": "?", "ms": 0.0}), flush=True)
print("crash peer: aborting before the handshake", file=sys.stderr, flush=True)
os.kill(os.getpid(), signal.SIGABRT)
sys.exit(4)
