"""A stand-in shim for harness tests: prints the shim protocol's JSON lines
for any script without a TLS library. FAKE_MODE chooses how it ends:
ok (default), crash (SIGSEGV in step 2), hang (sleeps in step 2 until the
harness kills it), timeout (exit 3 in step 2), skip (exit 77), badjson.
FAKE_OUTCOME_<N> overrides the outcome of step N."""
import json
import os
import signal
import sys
import time

DEFAULTS = {
    "handshake": ("ok", 1, "", {"sent": False, "received": False}),
    "shutdown": ("sent", 0, "", {"sent": True, "received": False}),
    "read": ("closed", 0, "SSL_ERROR_ZERO_RETURN", {"sent": True, "received": True}),
}


def arg(name):
    return sys.argv[sys.argv.index(name) + 1]


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    if "--version" in sys.argv:
        emit({"shim": "fake", "library": os.environ.get("FAKE_LIBRARY", "FakeSSL 3.0.2"),
              "api": "openssl"})
        return 0
    mode = os.environ.get("FAKE_MODE", "ok")
    with open(arg("--script")) as f:
        script = json.load(f)
    emit({"shim": "fake", "library": os.environ.get("FAKE_LIBRARY", "FakeSSL 3.0.2"),
          "api": "openssl", "role": arg("--role"), "tls": arg("--tls"), "io": arg("--io")})
    if mode == "skip":
        emit({"end": "skip", "step": 1, "message": "fake cannot do this"})
        return 77
    for n, step in enumerate(script, start=1):
        if n == 2 and mode == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if n == 2 and mode == "hang":
            time.sleep(30)
        if n == 2 and mode == "timeout":
            emit({"end": "timeout", "step": 2, "message": "step 2 (shutdown): deadline passed"})
            return 3
        if n == 2 and mode == "badjson":
            print("this is not json", flush=True)
        outcome, ret, error, flags = DEFAULTS.get(step["op"], ("ok", 1, "", None))
        outcome = os.environ.get(f"FAKE_OUTCOME_{n}", outcome)
        emit({"step": n, "op": step["op"], "outcome": outcome, "wants": [], "calls": 1,
              "native": {"ret": ret, "error": error, "queue": [], "errno": 0},
              "flags": flags, "bytes": 0, "ms": 0.1})
    emit({"end": "ok"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
