"""CPU time per cell, per process vs persistent mode (`--serve`).

    /usr/bin/python3 -m tests.system.serve.measure_cpu [--cells 200] [--shim openssl|python|go]

(from the repository root: it uses the tests' support package).

One cell is `sut-closes-first-shutdown-returns-zero` (TLS 1.3, blocking, the
SUT is the client, the peer `well-behaved`), run N times each way:

- per process: the peer (`--listen-fd`) and the shim (`--connect`) are
  started for every cell, as the harness does with `transport = "connect"`;
  each process's user+system time comes from wait4(2) when it is reaped.
- persistent: one peer server and one shim server run all N cells (the
  connection is opened the same way: the peer listens, the shim connects);
  each server's user+system time, its reaped children included, comes from
  /proc/PID/stat (utime+stime+cutime+cstime) just before its input closes,
  so the server's start and one-time initialisation are counted too.

Every cell must end well (both end lines "ok"), else the script stops with
exit 1: a number from cells that failed would mean nothing. It prints one
line per way and program, CPU milliseconds per cell; nothing is judged (CPU
time depends on the machine; this is a measurement, not a test).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import selectors
import socket
import subprocess
import sys
import time

from tests.support import serve as sc
from tests.support.cells import programs_for, stack_command

STEPS = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
PEER_SCRIPT = {"personality": "well-behaved"}
DEADLINE_MS = 8000
CLK_TCK = os.sysconf("SC_CLK_TCK")
def shim_command(name: str, bin_dir: pathlib.Path) -> list[str]:
    if name == "python":
        return stack_command("stacks/python-ssl/python-ssl.toml")
    return [str(bin_dir / f"tlsclose-shim-{name}")]


def _read_all(procs: list[subprocess.Popen], deadline: float) -> dict:
    out = {p.pid: bytearray() for p in procs}
    sel = selectors.DefaultSelector()
    for p in procs:
        sel.register(p.stdout, selectors.EVENT_READ, p.pid)
        sel.register(p.stderr, selectors.EVENT_READ, None)
    open_streams = 2 * len(procs)
    while open_streams and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
            elif key.data is not None:
                out[key.data].extend(chunk)
    sel.close()
    return out


def _cpu(ru: resource.struct_rusage) -> float:
    return ru.ru_utime + ru.ru_stime


def per_process_cell(shim_cmd, peer_cmd, sut_args, peer_args) -> tuple[float, float]:
    """One cell, two fresh processes: (shim CPU s, peer CPU s)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(2)
    port = lst.getsockname()[1]
    dl = ["--deadline-ms", str(DEADLINE_MS)]
    peer = subprocess.Popen([*peer_cmd, *peer_args, "--listen-fd", str(lst.fileno()),
                             "--script", "/dev/stdin", *dl], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            pass_fds=(lst.fileno(),))
    peer.stdin.write(json.dumps(PEER_SCRIPT).encode())
    peer.stdin.close()
    lst.close()
    shim = subprocess.Popen([*shim_cmd, *sut_args, "--connect", f"127.0.0.1:{port}",
                             "--script", "/dev/stdin", *dl], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    shim.stdin.write(json.dumps(STEPS).encode())
    shim.stdin.close()
    out = _read_all([peer, shim], time.monotonic() + DEADLINE_MS / 1000 + 2)
    cpu = {}
    for p in (peer, shim):
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stdout.close()
        p.stderr.close()
        cpu[p.pid] = _cpu(ru)
    lines = {pid: [json.loads(x) for x in out[pid].splitlines() if x.strip()] for pid in out}
    if peer.returncode != 0 or shim.returncode != 0 or lines[shim.pid][-1].get("end") != "ok":
        sys.exit(f"a per-process cell did not end well: peer {peer.returncode}, "
                 f"shim {shim.returncode}: {lines}")
    return cpu[shim.pid], cpu[peer.pid]


def proc_cpu(pid: int) -> float:
    """utime+stime+cutime+cstime of a live process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / CLK_TCK


def serve_cells(shim_cmd, peer_cmd, sut_args, peer_args, n: int) -> tuple[float, float]:
    """n cells through one server each: (shim CPU s, peer CPU s), in all."""
    shim, peer = sc.Server(shim_cmd), sc.Server(peer_cmd)
    try:
        for i in range(n):
            c = sc.run_cell(shim, peer, f"bench-{i}", sut_args, peer_args, STEPS, PEER_SCRIPT,
                            DEADLINE_MS)
            if c.sut_end.get("end") != "ok" or c.peer_end.get("status") != "ok":
                sys.exit(f"a persistent-mode cell did not end well: {c}")
        cpu = proc_cpu(shim.pid), proc_cpu(peer.pid)
    finally:
        rcs = shim.close(), peer.close()
    if rcs != (0, 0):
        sys.exit(f"a server did not exit 0: {rcs}")
    return cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=200)
    ap.add_argument("--shim", default="openssl", choices=("openssl", "python", "go"))
    opts = ap.parse_args()
    progs = programs_for("tlsclose-shim-openssl")
    shim_cmd = shim_command(opts.shim, progs.peer.parent)
    peer_cmd = [str(progs.peer)]
    common = ["--tls", "1.3", "--cert", str(progs.cert), "--key", str(progs.key)]
    sut_args = ["--role", "client", "--io", "blocking", *common]
    peer_args = ["--role", "server", *common]

    shim_pp = peer_pp = 0.0
    t0 = time.monotonic()
    for _ in range(opts.cells):
        s, p = per_process_cell(shim_cmd, peer_cmd, sut_args, peer_args)
        shim_pp += s
        peer_pp += p
    wall_pp = time.monotonic() - t0
    t0 = time.monotonic()
    shim_sv, peer_sv = serve_cells(shim_cmd, peer_cmd, sut_args, peer_args, opts.cells)
    wall_sv = time.monotonic() - t0

    n = opts.cells
    print(f"cells {n} x sut-closes-first-shutdown-returns-zero, {opts.shim} client, TLS 1.3, "
          f"blocking; CPU ms per cell (user+sys)")
    print(f"per-process  shim {1000 * shim_pp / n:7.2f}  peer {1000 * peer_pp / n:7.2f}  "
          f"both {1000 * (shim_pp + peer_pp) / n:7.2f}   wall {1000 * wall_pp / n:6.2f} ms/cell")
    print(f"persistent   shim {1000 * shim_sv / n:7.2f}  peer {1000 * peer_sv / n:7.2f}  "
          f"both {1000 * (shim_sv + peer_sv) / n:7.2f}   wall {1000 * wall_sv / n:6.2f} ms/cell")
    return 0


if __name__ == "__main__":
    sys.exit(main())
