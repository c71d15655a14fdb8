"""A real shim behind a wrapper that breaks the way a process can break:
the cells it runs end in CRASH, TIMEOUT or ERROR, with the real shim's
lines up to the fault (tests/reports/make_results_small.py records such
cells for the report writers' fixture).

    broken_shim.py SHIM ARGS...

runs SHIM ARGS... (inherited descriptors passed on), copies its standard
output line by line and, once the line of step BROKEN_AFTER (default 2) has
gone out, breaks according to the cell's IO mode:

  memory       the wrapper dies of SIGSEGV            -> CRASH
  nonblocking  the wrapper stops and waits to be killed -> TIMEOUT
  blocking     the wrapper prints a line that is not JSON -> ERROR

The `--version` line loses "serve": the wrapper breaks per process only.
"""
import json
import os
import signal
import subprocess
import sys


def arg(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def inherited_fds(argv: list[str]) -> list[int]:
    fds = []
    for i, word in enumerate(argv[:-1]):
        if word in ("--marker-in", "--marker-out"):
            fds.append(int(argv[i + 1]))
        elif word in ("--fd", "--listen-fd"):
            fds += [int(x) for x in argv[i + 1].split(",")]
    return fds


def main() -> int:
    argv = sys.argv[1:]
    after = int(os.environ.get("BROKEN_AFTER", "2"))
    io = arg(argv, "--io")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, pass_fds=inherited_fds(argv),
                            text=True)
    for raw in proc.stdout:
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        if isinstance(line, dict) and "--version" in argv:
            line.pop("serve", None)
            raw = json.dumps(line) + "\n"
        sys.stdout.write(raw)
        sys.stdout.flush()
        if not (isinstance(line, dict) and line.get("step") == after and "end" not in line):
            continue
        if io == "blocking":
            print("broken shim: internal state follows", flush=True)
            continue
        proc.stdout.close()
        proc.wait()                       # the real shim ends on its own
        if io == "memory":
            os.kill(os.getpid(), signal.SIGSEGV)
        while True:                       # nonblocking: until the harness kills us
            signal.pause()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
