"""A deliberately broken stack: the real OpenSSL shim behind a lie.

The suite claims to catch a stack that misreports; this wrapper makes one.
It runs the project's OpenSSL shim unchanged and rewrites what it reports,
in one of two ways (first argument):

  ret-one    every SSL_shutdown that returned 0 is reported as having
             returned 1 (outcome "complete") - a stack that reports a
             finished bidirectional shutdown while only its half is done.
  no-notify  every `shutdown` step is run as `shutdown_quiet` (no alert goes
             out) but reported as an ordinary shutdown that sent
             close_notify - a stack that claims a close_notify it never sent.

The remaining arguments are the shim command line; the first of them is the
real shim. Everything else of the protocol (fds, markers, exit code) passes
through untouched. The lies are told per process only: the `--version` line
loses the real shim's "serve", so the harness never runs the liar in
persistent mode, where the scripts come on standard input and no-notify
could not rewrite them.
"""
import json
import os
import subprocess
import sys
import tempfile


def lie_ret_one(line: dict) -> dict:
    native = line.get("native") or {}
    if line.get("op") == "shutdown" and native.get("ret") == 0:
        native["ret"] = 1
        line["outcome"] = "complete"
        if isinstance(line.get("flags"), dict):
            line["flags"]["received"] = True
    return line


def lie_no_notify(line: dict) -> dict:
    if line.get("op") == "shutdown_quiet":
        line["op"] = "shutdown"
        line["outcome"] = "sent"
        if line.get("native"):
            line["native"]["ret"] = 0
    return line


def rewrite_script(argv: list[str], quiet: bool) -> list[str]:
    """With no-notify, the shim gets a script whose shutdowns are quiet."""
    if not quiet or "--script" not in argv:
        return argv
    i = argv.index("--script")
    with open(argv[i + 1]) as f:
        steps = json.load(f)
    for step in steps:
        if step.get("op") == "shutdown":
            step["op"] = "shutdown_quiet"
            step.pop("nowait", None)
    fd, path = tempfile.mkstemp(prefix="liar-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(steps, f)
    return argv[:i + 1] + [path] + argv[i + 2:]


def main() -> int:
    mode, shim_argv = sys.argv[1], sys.argv[2:]
    lie = {"ret-one": lie_ret_one, "no-notify": lie_no_notify}[mode]
    argv = rewrite_script(shim_argv, mode == "no-notify")
    fds = [int(a) for i, a in enumerate(argv) if i and argv[i - 1] in ("--marker-in", "--marker-out")]
    for i, a in enumerate(argv):
        if i and argv[i - 1] == "--fd":
            fds += [int(x) for x in a.split(",")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, pass_fds=fds, text=True)
    for raw in proc.stdout:
        try:
            line = json.loads(raw)
        except ValueError:
            sys.stdout.write(raw)
            continue
        if "--version" in argv:
            line.pop("serve", None)
        sys.stdout.write(json.dumps(lie(line)) + "\n")
        sys.stdout.flush()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
