"""A stand-in shim for harness tests: prints the shim protocol's JSON lines
for any script without a TLS library.

Per process (docs/shim-protocol.md §2-3). FAKE_MODE chooses how it ends:
ok (default), crash (SIGSEGV in step 2), hang (sleeps in step 2 until the
harness kills it, or FAKE_HANG_S seconds; FAKE_READY names a FIFO it first
writes a line to, so a test knows the cell is under way), timeout (exit 3 in step 2), skip (exit
77), badjson.
FAKE_OUTCOME_<N> and FAKE_BYTES_<N> override the outcome and the byte count
of step N.

Persistent mode (§8), `--serve`: one request per line on standard input;
each cell connects to the `--connect` address of its args, writes a few
bytes, closes, and prints its lines, the end line with `exit` and `cell`.
`--version` says "serve": true only when FAKE_SERVE=1 (the harness then
runs the stack through servers). Every hello line names the serving process
("server": pid). In serve mode FAKE_MODE=skip ends a cell with exit 77
before it connects; FAKE_SERVE_CRASH_IO=IO makes the server itself die of
SIGSEGV after step 1 of a cell of that IO mode; FAKE_CELL_CRASH_IO=IO gives
such a cell the end line of a cell process that crashed, and the server
goes on.

The mutation self-test (docs/mutation.md): `--mutants` lists the variants
named in FAKE_MUTANTS (comma-separated; default
"outcome-2-complete,mode-hang,harmless"), every scope "*". TLSCLOSE_MUTANT
picks one: "mode-M" behaves as FAKE_MODE=M, "outcome-N-X" as
FAKE_OUTCOME_N=X, anything else changes nothing.
"""
import json
import os
import signal
import socket
import sys
import time

DEFAULTS = {
    "handshake": ("ok", 1, "", {"sent": False, "received": False}),
    "shutdown": ("sent", 0, "", {"sent": True, "received": False}),
    "read": ("closed", 0, "SSL_ERROR_ZERO_RETURN", {"sent": True, "received": True}),
}
LIBRARY = os.environ.get("FAKE_LIBRARY", "FakeSSL 3.0.2")
MUTANTS = "outcome-2-complete,mode-hang,harmless"


def arg(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def emit(obj):
    print(json.dumps(obj), flush=True)


def settings():
    """FAKE_MODE and the overrides, with TLSCLOSE_MUTANT applied."""
    env = dict(os.environ)
    mutant = env.get("TLSCLOSE_MUTANT", "")
    if mutant.startswith("mode-"):
        env["FAKE_MODE"] = mutant[len("mode-"):]
    elif mutant.startswith("outcome-"):
        _, n, outcome = mutant.split("-", 2)
        env[f"FAKE_OUTCOME_{n}"] = outcome
    return env


def step_line(n, step, env):
    outcome, ret, error, flags = DEFAULTS.get(step["op"], ("ok", 1, "", None))
    return {"step": n, "op": step["op"], "outcome": env.get(f"FAKE_OUTCOME_{n}", outcome),
            "wants": [], "calls": 1,
            "native": {"ret": ret, "error": error, "queue": [], "errno": 0},
            "flags": flags, "bytes": int(env.get(f"FAKE_BYTES_{n}", "0")), "ms": 0.1}


def hello(argv):
    return {"shim": "fake", "library": LIBRARY, "api": "openssl", "role": arg(argv, "--role"),
            "tls": arg(argv, "--tls"), "io": arg(argv, "--io"), "server": os.getpid()}


def per_process(argv, env):
    mode = env.get("FAKE_MODE", "ok")
    with open(arg(argv, "--script")) as f:
        script = json.load(f)
    emit(hello(argv))
    if mode == "skip":
        emit({"end": "skip", "step": 1, "message": "fake cannot do this"})
        return 77
    for n, step in enumerate(script, start=1):
        if n == 2 and mode == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if n == 2 and mode == "hang":
            if env.get("FAKE_READY"):
                with open(env["FAKE_READY"], "w") as ready:       # a FIFO the test reads
                    ready.write("hanging\n")
            time.sleep(float(env.get("FAKE_HANG_S", "30")))
        if n == 2 and mode == "timeout":
            emit({"end": "timeout", "step": 2, "message": "step 2 (shutdown): deadline passed"})
            return 3
        if n == 2 and mode == "badjson":
            print("this is not json", flush=True)
        emit(step_line(n, step, env))
    emit({"end": "ok"})
    return 0


def serve_cell(request, env):
    cell, argv, script = request["cell"], request["args"], request["script"]
    emit(hello(argv))
    if env.get("FAKE_MODE") == "skip":
        emit({"end": "skip", "step": 1, "message": "fake cannot do this", "exit": 77,
              "cell": cell})
        return
    host, port = arg(argv, "--connect").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"fake close_notify")
    io = arg(argv, "--io")
    for n, step in enumerate(script, start=1):
        if n == 2 and io == env.get("FAKE_SERVE_CRASH_IO"):
            os.kill(os.getpid(), signal.SIGSEGV)
        if n == 2 and io == env.get("FAKE_CELL_CRASH_IO"):
            emit({"end": "crash", "signal": "SIGSEGV", "exit": None, "cell": cell})
            return
        emit(step_line(n, step, env))
    emit({"end": "ok", "exit": 0, "cell": cell})


def serve(env):
    for line in sys.stdin:
        if line.strip():
            serve_cell(json.loads(line), env)
    return 0


def main():
    argv, env = sys.argv, settings()
    if "--version" in argv:
        line = {"shim": "fake", "library": LIBRARY, "api": "openssl"}
        if env.get("FAKE_SERVE") == "1":
            line["serve"] = True
        emit(line)
        return 0
    if "--mutants" in argv:
        for name in env.get("FAKE_MUTANTS", MUTANTS).split(","):
            emit({"mutant": name, "breaks": f"fake variant {name}",
                  "scope": {"tls": "*", "io": "*", "role": "*"}})
        return 0
    if "--serve" in argv:
        return serve(env)
    return per_process(argv, env)


if __name__ == "__main__":
    sys.exit(main())
