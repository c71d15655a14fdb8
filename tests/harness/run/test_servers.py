"""Persistent mode (harness/run/servers.py) with the fake peer and shim in
their --serve mode (tests/support/fakes): a pool keeps one server per
program and reuses it for every cell, a server that dies in a cell is that
cell's CRASH and is replaced, connections the shim never opened are hung up
so the peer does not wait for them, and closing the pool reaps everything."""
from __future__ import annotations

import os
from collections import Counter

from harness.base.paths import ROOT
from harness.run import runner, servers
from harness.run.detect import detect
from harness.run.matrix import Selection, expand
from support.harness_files import FAKES

TLS13_CLIENT = Selection(("1.3",), ("blocking", "nonblocking", "memory"), ("client",))


def serve_env(**extra: str) -> str:
    return "{" + ", ".join(f'{k} = "{v}"' for k, v in {"FAKE_SERVE": "1", **extra}.items()) + "}"


def run(cells, build, pool, jobs=1):
    env = runner.Environment(ROOT, build.resolve())
    infos = {c.stack.name: detect(c.stack, env.bin_dir, env.root) for c in cells}
    assert all(info.serve for info in infos.values())
    outcome = runner.run_cells(cells, env, infos, jobs, pool=pool)
    assert len(outcome.results) == len(cells) and not outcome.incomplete
    return outcome.results


def shim_server(result: dict) -> int:
    return next(line["server"] for line in result["ops"] if "shim" in line)


def peer_server(result: dict) -> int:
    return next(e["server"] for e in result["wire"] if e.get("ev") == "start")


def test_one_server_per_program_serves_every_cell(make_case, make_stack, fake_build):
    cells = expand([make_case()], [make_stack(name="one", env=serve_env()),
                                   make_stack(name="two", env=serve_env())])
    pool = servers.Pool()
    try:
        first = run(cells, fake_build, pool)
        again = run(cells, fake_build, pool)              # a daemon's next request
        started = list(pool.started)
    finally:
        pool.close()
    assert len(first) == 24 and {r["verdict"] for r in first + again} == {"PASS"}
    # One shim server per stack, one peer server for all: every TLS version, IO mode and
    # role of a stack through the same process, the second run too.
    per_stack = {stack: {shim_server(r) for r in first + again if r["stack"] == stack}
                 for stack in ("one", "two")}
    assert all(len(pids) == 1 for pids in per_stack.values())
    assert per_stack["one"] != per_stack["two"]
    assert len({peer_server(r) for r in first + again}) == 1
    assert {(r["tls"], r["io"], r["role"]) for r in first if r["stack"] == "one"} == \
        {(t, io, role) for t in ("1.2", "1.3") for io in ("blocking", "nonblocking", "memory")
         for role in ("client", "server")}
    assert len(started) == 3
    # close() ended every server it started, and reaped it.
    assert all(s.proc.returncode is not None for s in started)


def test_a_pool_of_two_workers_has_at_most_two_sets(make_case, make_stack, fake_build):
    cells = expand([make_case()], [make_stack(env=serve_env())])
    pool = servers.Pool()
    try:
        results = run(cells, fake_build, pool, jobs=2)
        started = list(pool.started)
    finally:
        pool.close()
    assert {r["verdict"] for r in results} == {"PASS"}
    shims = {shim_server(r) for r in results}
    assert 1 <= len(shims) <= 2 and len(started) == 2 * len(shims)
    assert all(s.proc.poll() is not None for s in started)


def test_a_server_that_dies_is_its_cells_crash_and_is_replaced(make_case, make_stack,
                                                                fake_build):
    stack = make_stack(env=serve_env(FAKE_SERVE_CRASH_IO="nonblocking"))
    cells = expand([make_case()], [stack], select=TLS13_CLIENT)
    pool = servers.Pool()
    try:
        blocking, nonblocking, memory = run(cells, fake_build, pool)
        started = list(pool.started)
    finally:
        pool.close()
    assert [c["io"] for c in (blocking, nonblocking, memory)] == \
        ["blocking", "nonblocking", "memory"]
    assert (blocking["verdict"], memory["verdict"]) == ("PASS", "PASS")
    assert nonblocking["verdict"] == "CRASH"
    assert nonblocking["reason"].startswith("shim killed by SIGSEGV in step 2 (shutdown "
                                            "'close'); last output: ")
    # The server that served the first cell died in the second; the third had a new one.
    assert shim_server(nonblocking) == shim_server(blocking) != shim_server(memory)
    assert Counter(s.argv[-2].endswith("fake_shim.py") for s in started)[True] == 2
    assert all(s.proc.poll() is not None for s in started)


def test_a_cell_process_crash_keeps_the_server(make_case, make_stack, fake_build):
    stack = make_stack(env=serve_env(FAKE_CELL_CRASH_IO="nonblocking"))
    cells = expand([make_case()], [stack], select=TLS13_CLIENT)
    pool = servers.Pool()
    try:
        blocking, nonblocking, memory = run(cells, fake_build, pool)
    finally:
        pool.close()
    assert nonblocking["verdict"] == "CRASH"
    assert nonblocking["reason"].startswith("shim killed by SIGSEGV in step 2")
    assert memory["verdict"] == "PASS"
    assert shim_server(blocking) == shim_server(nonblocking) == shim_server(memory)


def test_connections_the_shim_never_opened_are_hung_up(fake_build):
    """A shim cell that ends before connecting (a skip) leaves the peer
    waiting in accept(); the harness opens and closes each connection the
    cell had, so the peer's cell ends now, not at its deadline."""
    peer = servers.Server([str(fake_build / "bin" / "tlsclose-peer")], None)
    shim = servers.Server(["/usr/bin/python3", str(FAKES / "fake_shim.py")],
                          {**os.environ, "FAKE_MODE": "skip"})
    try:
        cell = servers.run_served(
            peer, shim, "c1", ["--role", "server", "--tls", "1.3", "--deadline-ms", "5000"],
            {"actions": [{"do": "close"}, {"do": "next_connection"}, {"do": "close"}]},
            ["--role", "client", "--tls", "1.3", "--io", "blocking", "--deadline-ms", "5000"],
            [{"op": "handshake"}, {"op": "resume"}], 5000, connections=2)
        alive = peer.alive and shim.alive
    finally:
        peer.close()
        shim.close()
    assert alive                                           # nothing was killed
    assert not cell.peer.killed and not cell.sut.killed
    assert (cell.sut.returncode, cell.sut.lines[-1]["end"]) == (77, "skip")
    assert cell.peer.returncode == 0 and cell.peer.lines[-1]["status"] == "ok"
    assert [(e["conn"], e["bytes"]) for e in cell.peer.lines if e.get("ev") == "tcp"] == \
        [(1, 0), (2, 0)]
    # The listen event is the harness's business, not the cell's transcript.
    assert not any(e.get("ev") == "listen" for e in cell.peer.lines)


def test_closing_the_pool_ends_idle_servers(fake_build):
    pool = servers.Pool()
    slot = pool.lease()
    peer, shim = pool.servers(slot, [str(fake_build / "bin" / "tlsclose-peer")], "fake",
                              ["/usr/bin/python3", str(FAKES / "fake_shim.py")], None, None)
    pool.give_back(slot)
    assert pool.lease() is slot                           # the next cell gets the same set
    assert peer.alive and shim.alive
    pool.close()
    # EOF on standard input ended them (exit 0); nothing is left to reap.
    assert (peer.proc.returncode, shim.proc.returncode) == (0, 0)


def test_every_served_cell_listens_on_an_address_of_its_own():
    """A hang-up meant for one cell's peer can never reach another's listener
    that took over the port: each cell has its own loopback address."""
    import ipaddress
    addresses = [servers._cell_address() for _ in range(3 * 254 * 256)]
    assert len(set(addresses)) == len(addresses)
    for text in addresses:
        address = ipaddress.IPv4Address(text)
        assert address.is_loopback and text.split(".")[3] not in ("0", "255")
