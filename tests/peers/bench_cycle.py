"""Times one handshake + takeover + close cycle of the mock peer.

Each run is a full cell (harness/run/processes.py): the peer as TLS 1.3 server with
the well-behaved personality against a SUT that handshakes, sends
close_notify and reads until the peer's. Prints the medians of the cell's
wall time (both processes started and reaped) and of the peer's own time
from its "start" event to its "end" event.

From the repository root, as a module (it uses the tests' support package):

    /usr/bin/python3 -m tests.peers.bench_cycle [--runs N] [--sut python|openssl|gnutls]
                     [--tls 1.3|1.2]
"""
from __future__ import annotations

import argparse
import statistics
import sys

from harness.base.vocabulary import TLS_VERSIONS
from tests.support.peers import cell, peer_programs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--sut", default="python", choices=["python", "openssl", "gnutls"])
    ap.add_argument("--tls", default="1.3", choices=TLS_VERSIONS)
    a = ap.parse_args()
    progs = peer_programs()
    shim = None if a.sut == "python" else a.sut
    sut = [{"op": "handshake"}, {"op": "shutdown"}, {"op": "read", "until": "close"}]
    walls, peers = [], []
    for _ in range(a.runs):
        c = cell(progs, {"personality": "well-behaved"}, sut, tls=a.tls, shim=shim)
        c.assert_clean()
        walls.append(c.run.duration_ms)
        peers.append(c.peer_end["ms"] - c.ev("start")[0]["ms"])
    print(f"runs={a.runs} sut={a.sut} tls={a.tls} "
          f"cell_wall_median_ms={statistics.median(walls):.2f} "
          f"peer_start_to_end_median_ms={statistics.median(peers):.2f} "
          f"cell_wall_p90_ms={statistics.quantiles(walls, n=10)[-1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
