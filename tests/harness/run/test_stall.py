"""Stall detection (harness/run/stall.py): the predicate on /proc samples
(a fake /proc tree), the watch's decisions on scripted samples, the
deadlines it compares, the connection check on real loopback sockets, and
the persistent path end to end with the real peer and the Python shim."""
from __future__ import annotations

import math
import socket
import sys
from pathlib import Path

import pytest

from harness.run import stall
from harness.run.servers import Server, run_served
from support.build import CERT, KEY, PEER, ROOT, require_built

# ---- the predicate, on a fake /proc ----------------------------------------


def write_task(proc: Path, pid: int, tid: int, state: str = "S", ran: int = 7,
               children: tuple = (), comm: str = "shim") -> None:
    task = proc / str(pid) / "task" / str(tid)
    task.mkdir(parents=True, exist_ok=True)
    (task / "stat").write_text(f"{tid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560 0 0\n")
    (task / "schedstat").write_text(f"{ran * 1000} 0 {ran}\n")
    (task / "children").write_text("".join(f"{c} " for c in children))


def sample(proc: Path, *roots: int):
    return stall.read_threads(roots, proc=str(proc))


def test_every_thread_of_roots_and_descendants_is_read(tmp_path):
    write_task(tmp_path, 10, 10, children=(20,))
    write_task(tmp_path, 10, 11)
    write_task(tmp_path, 20, 20, comm="cell (fork) x")   # ") " in the name
    write_task(tmp_path, 30, 30)
    threads = sample(tmp_path, 10, 30)
    assert set(threads) == {(10, 10), (10, 11), (20, 20), (30, 30)}
    assert threads[(20, 20)][0] == "S"


def test_asleep_and_never_scheduled_is_still(tmp_path):
    write_task(tmp_path, 10, 10)
    write_task(tmp_path, 20, 20)
    a = sample(tmp_path, 10, 20)
    assert stall.still(a, sample(tmp_path, 10, 20))


@pytest.mark.parametrize("change", ["ran", "runnable", "disk", "zombie", "new thread", "gone"])
def test_anything_that_moved_is_not_still(tmp_path, change):
    write_task(tmp_path, 10, 10)
    write_task(tmp_path, 20, 20)
    before = sample(tmp_path, 10, 20)
    if change == "ran":                      # woke from a timer and slept again
        write_task(tmp_path, 20, 20, ran=8)
    elif change == "runnable":               # woken, not scheduled yet
        write_task(tmp_path, 20, 20, state="R")
    elif change == "disk":
        write_task(tmp_path, 20, 20, state="D")
    elif change == "zombie":
        write_task(tmp_path, 20, 20, state="Z")
    elif change == "new thread":
        write_task(tmp_path, 20, 21)
    else:
        (tmp_path / "20" / "task" / "20" / "schedstat").unlink()
        (tmp_path / "20" / "task" / "20" / "stat").unlink()
    after = sample(tmp_path, 10, 20)
    assert not stall.still(before, after)


def test_a_process_that_is_gone_gives_no_sample(tmp_path):
    write_task(tmp_path, 10, 10)
    assert sample(tmp_path, 10, 99) is None
    assert not stall.still(None, sample(tmp_path, 10))


def test_context_switches_stand_in_for_schedstat(tmp_path):
    write_task(tmp_path, 10, 10)
    task = tmp_path / "10" / "task" / "10"
    (task / "schedstat").unlink()
    (task / "status").write_text("Name:\tx\nvoluntary_ctxt_switches:\t5\n"
                                 "nonvoluntary_ctxt_switches:\t1\n")
    a = sample(tmp_path, 10)
    assert stall.still(a, sample(tmp_path, 10))
    (task / "status").write_text("Name:\tx\nvoluntary_ctxt_switches:\t6\n"
                                 "nonvoluntary_ctxt_switches:\t1\n")
    assert not stall.still(a, sample(tmp_path, 10))


# ---- the watch, on scripted samples ------------------------------------------

STILL = {(1, 1): ("S", "5 0 5"), (2, 2): ("S", "9 0 9")}
MOVED = {(1, 1): ("S", "5 0 5"), (2, 2): ("S", "10 0 10")}
STEPS = [{"op": "handshake"}, {"op": "read", "until": "close"}]


# A little more than the sample interval, so that every tick takes a sample
# and float sums never land a hair below a window.
STEP_S = stall.SAMPLE_S + 0.001


class Clock:
    def __init__(self):
        self.now = 100.0
        self.ticks: list[float] = []

    def __call__(self):
        return self.now


def make_watch(samples, queued=False, ports=frozenset({4433}), steps=STEPS, deadline_ms=8000,
               peer_timeout_ms=2000, sut_timeout_ms=None):
    clock, notices = Clock(), []
    feed = iter(samples)
    steps = [dict(s) for s in steps]
    if sut_timeout_ms is not None:
        steps[1]["timeout_ms"] = sut_timeout_ms
    w = stall.Watch(lambda: [1, 2], lambda: set(ports) or None,
                    lambda t0, t1: notices.append((t0, t1)),
                    stall.Deadlines(steps, deadline_ms, clock.now),
                    threads=lambda roots: next(feed), queued=lambda ports: queued, clock=clock)
    # The peer is in its first action, the SUT in its second step.
    w.peer_line({"ev": "start"}, clock.now)
    w.peer_line({"ev": "action", "n": 1, "do": "expect_close_notify",
                 "timeout_ms": peer_timeout_ms}, clock.now)
    w.sut_line({"shim": "x"}, clock.now)
    w.sut_line({"step": 1, "op": "handshake"}, clock.now)
    return w, clock, notices


def run_ticks(w, clock, n):
    for _ in range(n):
        clock.now += STEP_S
        clock.ticks.append(clock.now)
        w.tick(clock.now)


def ticks_for_window() -> int:
    """Samples until the first one of a still period is a window old."""
    return math.ceil(stall.WINDOW_S / STEP_S) + 1


def test_a_full_window_of_stillness_is_one_notice():
    w, clock, notices = make_watch([STILL] * 20)
    run_ticks(w, clock, ticks_for_window())
    assert len(notices) == 1
    t0, t1 = notices[0]
    assert t1 - t0 >= stall.WINDOW_S * 1000 - 1
    run_ticks(w, clock, 10)
    assert len(notices) == 1, "one notice per still period"


def test_less_than_a_window_is_no_notice():
    w, clock, notices = make_watch([STILL] * 20)
    run_ticks(w, clock, ticks_for_window() - 1)
    assert notices == []


def test_a_thread_that_ran_starts_the_window_again():
    n = ticks_for_window()
    w, clock, notices = make_watch([STILL] * (n - 1) + [MOVED] * (n + 5))
    run_ticks(w, clock, n)
    assert notices == []
    run_ticks(w, clock, n - 2)
    assert notices == []
    run_ticks(w, clock, 1)
    assert len(notices) == 1 and notices[0][0] == int(clock.ticks[n - 1] * 1000)


def test_output_starts_the_window_again_and_rearms():
    n = ticks_for_window()
    w, clock, notices = make_watch([STILL] * 40)
    run_ticks(w, clock, n)
    assert len(notices) == 1
    w.output()
    run_ticks(w, clock, n - 1)
    assert len(notices) == 1
    run_ticks(w, clock, 2)
    assert len(notices) == 2


def test_bytes_on_the_connections_hold_the_notice_back():
    w, clock, notices = make_watch([STILL] * 40, queued=True)
    run_ticks(w, clock, 30)
    assert notices == []


@pytest.mark.parametrize("queued", [None, True])
def test_a_connection_state_it_cannot_read_is_no_notice(queued):
    w, clock, notices = make_watch([STILL] * 40, queued=queued)
    run_ticks(w, clock, 30)
    assert notices == []


def test_unknown_ports_are_no_notice():
    w, clock, notices = make_watch([STILL] * 40, ports=frozenset())
    run_ticks(w, clock, 30)
    assert notices == []


def test_a_sut_step_that_times_out_first_is_left_alone():
    """The SUT's own deadline would end the mutual wait first: that is what
    the cell is about, so the peer is not told."""
    w, clock, notices = make_watch([STILL] * 40, peer_timeout_ms=3000, sut_timeout_ms=1000)
    run_ticks(w, clock, 30)
    assert notices == []


def test_a_peer_deadline_first_is_a_notice():
    w, clock, notices = make_watch([STILL] * 40, peer_timeout_ms=1000, sut_timeout_ms=3000)
    run_ticks(w, clock, ticks_for_window())
    assert len(notices) == 1


def test_samples_are_taken_only_when_due():
    taken = []
    clock = Clock()
    w = stall.Watch(lambda: [1], lambda: {1}, lambda t0, t1: None,
                    stall.Deadlines(STEPS, 8000, clock.now),
                    threads=lambda roots: taken.append(clock.now) or STILL, clock=clock)
    assert w.wait_s(clock.now) == pytest.approx(stall.SAMPLE_S)
    w.tick(clock.now)
    assert taken == []
    clock.now += stall.SAMPLE_S
    w.tick(clock.now)
    w.tick(clock.now)
    assert len(taken) == 1


# ---- the deadlines the watch compares ------------------------------------------

def deadlines(steps, deadline_ms=8000):
    return stall.Deadlines(steps, deadline_ms, 0.0)


def test_action_without_timeout_has_the_default():
    d = deadlines([{"op": "read", "timeout_ms": 5500}])
    d.peer_line({"ev": "start"}, 0.0)
    d.peer_line({"ev": "action", "n": 1, "do": "close"}, 0.0)
    d.sut_line({"shim": "x"}, 0.0)
    assert d.peer_first()                       # 5.0 s before 5.5 s - slack
    d.sut_line({"shim": "x"}, -0.5)
    assert not d.peer_first()


def test_after_the_last_step_the_sut_waits_until_its_run_deadline():
    d = deadlines([{"op": "handshake"}], deadline_ms=3000)
    d.peer_line({"ev": "start"}, 0.0)
    d.peer_line({"ev": "action", "n": 1, "do": "read_all", "timeout_ms": 4000}, 0.0)
    d.sut_line({"step": 1, "op": "handshake"}, 0.0)
    assert not d.peer_first()                   # the SUT gives up at 3 s


def test_the_peer_run_deadline_cuts_its_action():
    d = deadlines([{"op": "read", "timeout_ms": 4000}], deadline_ms=3000)
    d.peer_line({"ev": "start"}, 0.0)
    d.peer_line({"ev": "action", "n": 1, "do": "read_all", "timeout_ms": 60000}, 0.0)
    d.sut_line({"shim": "x"}, 0.0)
    assert not d.peer_first()                   # both end by their run deadlines


@pytest.mark.parametrize("line", [{"end": "ok"}, {"end": "timeout", "step": 2}])
def test_nothing_is_known_once_a_side_ended(line):
    d = deadlines(STEPS)
    d.peer_line({"ev": "action", "n": 1, "do": "close"}, 0.0)
    d.sut_line({"shim": "x"}, 0.0)
    d.sut_line(line, 0.0)
    assert not d.peer_first()


def test_a_script_that_is_not_steps_tells_nothing():
    d = deadlines({"not": "steps"})
    d.peer_line({"ev": "action", "n": 1, "do": "close"}, 0.0)
    d.sut_line({"shim": "x"}, 0.0)
    assert not d.peer_first()


def test_lines_are_taken_from_bytes_in_any_pieces():
    d = deadlines(STEPS)
    w = stall.Watch(lambda: [], lambda: None, lambda t0, t1: None, d)
    w.peer_bytes(b'{"ev": "start", "ms": 0}\n{"ev": "act', 0.0)
    w.peer_bytes(b'ion", "n": 1, "do": "close", "timeout_ms": 100}\nnot json\n', 0.0)
    w.sut_bytes(b'{"shim": "x"}\n{"step": 1', 0.0)
    assert d.sut_end is not None and d.sut_end > 4
    w.sut_bytes(b', "op": "handshake"}\n', 0.0)
    assert d.peer_end == pytest.approx(0.1)
    assert d.sut_end == pytest.approx(5.0 - stall.CLOCK_SLACK_S)


# ---- the connections, on real loopback sockets ---------------------------------------

def loopback_pair():
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        a = socket.create_connection(lst.getsockname())
        b, _ = lst.accept()
    return a, b


def test_unread_bytes_are_queued_and_an_idle_connection_is_not():
    a, b = loopback_pair()
    try:
        ports = {a.getsockname()[1], b.getsockname()[1]}
        assert stall.cell_queued(ports) is False
        a.sendall(b"x" * 100)
        assert stall.cell_queued(ports) is True
        assert stall.cell_queued({1}) is False      # another port: not the cell's
    finally:
        a.close()
        b.close()


# ---- the persistent path, end to end ------------------------------------------------

PYTHON_SHIM = ROOT / "stacks" / "python-ssl" / "shim_python.py"


def test_a_served_mutual_wait_ends_at_the_stall():
    """The peer server gets the stall pipe, the cell's request names it, and
    a mutual wait (the peer expects close_notify, the SUT reads until the
    close) ends with the peer's expectation "stalled", long before its
    timeout; the peer then goes on as after a timeout."""
    require_built(PEER, CERT, KEY)
    peer = Server([str(PEER)], None, stall_pipe=True)
    shim = Server([sys.executable, str(PYTHON_SHIM)], None)
    try:
        common = ["--tls", "1.3", "--cert", str(CERT), "--key", str(KEY),
                  "--deadline-ms", "9000"]
        peer_script = {"actions": [{"do": "expect_close_notify", "timeout_ms": 6000},
                                   {"do": "send_alert", "alert": "close_notify"},
                                   {"do": "close"}]}
        steps = [{"op": "handshake"}, {"op": "read", "until": "close", "timeout_ms": 8000}]
        run = run_served(peer, shim, "stall-cell", ["--role", "server", *common], peer_script,
                         ["--role", "client", "--io", "blocking", *common], steps, 9000)
    finally:
        peer.close()
        shim.close()
    expects = [e for e in run.peer.lines if e.get("ev") == "expect"]
    assert [(e["what"], e["ok"], e.get("detail")) for e in expects] == \
        [("close_notify", False, "stalled")], run.peer.lines
    action = next(e for e in run.peer.lines if e.get("ev") == "action")
    assert expects[0]["ms"] - action["ms"] < 6000
    outcomes = [line.get("outcome") for line in run.sut.lines if "step" in line]
    assert outcomes == ["ok", "closed"], run.sut.lines
    assert run.peer.returncode == 0 and run.sut.returncode == 0
