"""The steps of the script, one function each (docs/shim-protocol.md §2).

Needs: a Run (run.py) with the current connection, the step and its
deadline, the Report to fill.
Gives: `STEPS[op](run, step, deadline, report)`; the outcome, bytes and
extras land in the report. A deadline raises StepDeadline, a reset on the
bare socket raises Reset (run.py turns both into the outcome); a reset the
memory pump met is no exception (the library sees EOF, memio.py).
Never: decides whether an op is supported (run.py did, before any IO).

Python's calls: handshake -> do_handshake(); read -> read(n) (SSLSocket or
SSLObject; recv() is the same call while TLS is on but reads plaintext once
unwrap() finished, which a step must never do silently); write -> write();
shutdown and shutdown_full -> unwrap(). get_shutdown has no Python call: its
line says "unknown" with flags null.
"""
from __future__ import annotations

from pyshim.outcome import Call
from pyshim.protocol import Report, StepDeadline, left
from pyshim.rawsock import Reset

READ_CHUNK = 16384


def _finish(run, st, deadline: float, rep: Report, call: Call) -> None:
    """A completed step in memory mode is only over once its bytes are on
    the socket; a want left over (nowait, no progress) is the outcome."""
    if call.want is None and not st.nowait:
        run.cur.flush(deadline)
    if not rep.outcome:
        rep.outcome = call.want or call.outcome or "error:other"


def _finish_data(run, st, deadline, rep, call: Call, prefix: str, total: int) -> None:
    rep.bytes = total
    _finish(run, st, deadline, rep, call)
    if rep.outcome.startswith(prefix):
        rep.outcome = f"{prefix}{total}"


def step_handshake(run, st, deadline, rep):
    tls = run.cur.tls
    _finish(run, st, deadline, rep, run.cur.call(tls.do_handshake, "handshake", deadline,
                                                 st.nowait, rep))


def step_read(run, st, deadline, rep):
    tls, total = run.cur.tls, 0
    while True:
        n = READ_CHUNK if st.bytes < 0 else min(READ_CHUNK, st.bytes - total)
        call = run.cur.call(lambda: tls.read(n), "read", deadline, st.nowait, rep)
        if call.want or call.bytes == 0:
            break
        total += call.bytes
        rep.bytes = total
        more = st.until_close or (st.bytes >= 0 and total < st.bytes)
        if st.nowait or not more:
            break
    _finish_data(run, st, deadline, rep, call, "data:", total)


def _write_block(run, data: bytes, nowait: bool, deadline, rep) -> tuple[Call, int]:
    """Writes data, repeating partial writes; after a want the very same
    buffer is passed again (run.cur.call repeats the same function)."""
    tls, off = run.cur.tls, 0
    while True:
        chunk = data if off == 0 else data[off:]
        call = run.cur.call(lambda: tls.write(chunk), "write", deadline, nowait, rep)
        if call.want or call.bytes == 0:
            return call, off
        off += call.bytes
        if off >= len(data):
            return call, off


def step_write(run, st, deadline, rep):
    data = run.pattern(st.bytes)
    if not st.until_blocked:
        call, total = _write_block(run, data, st.nowait, deadline, rep)
        _finish_data(run, st, deadline, rep, call, "ok:", total)
        return
    total = 0
    while True:
        call, n = _write_block(run, data, True, deadline, rep)
        total += n
        rep.bytes = total
        if call.want or call.bytes == 0:
            break
        if left(deadline) == 0.0:
            raise StepDeadline("the write never blocked")
    _finish_data(run, st, deadline, rep, call, "ok:", total)


def step_shutdown(run, st, deadline, rep):
    run.cur.shut_down = True
    tls = run.cur.tls
    _finish(run, st, deadline, rep, run.cur.call(tls.unwrap, "shutdown", deadline,
                                                 st.nowait, rep))


def step_get_shutdown(run, st, deadline, rep):
    # Python keeps SSL_get_shutdown to itself: the flags cannot be known.
    rep.outcome = "unknown"


def step_close_transport(run, st, deadline, rep):
    drained, reset = run.cur.close_transport(deadline)
    rep.extras["drained"] = drained
    rep.outcome = "error:reset" if reset else "ok"


def step_free(run, st, deadline, rep):
    run.cur.free_tls()
    rep.outcome = "ok"


def step_resume(run, st, deadline, rep):
    session = run.cur.session
    drained, _ = run.cur.close_transport(deadline)
    rep.extras["drained"] = drained
    conn = run.open_conn(deadline, session)
    call = conn.call(conn.tls.do_handshake, "handshake", deadline, False, rep)
    _finish(run, st, deadline, rep, call)
    if rep.outcome != "ok":
        return
    reused = bool(conn.tls.session_reused)
    rep.extras["reused"] = reused
    rep.outcome = "reused" if reused else "not_reused"


def step_signal_peer(run, st, deadline, rep):
    run.markers.send(st.marker)
    rep.outcome = "ok"


def step_wait_peer(run, st, deadline, rep):
    run.markers.wait(st.marker, deadline)
    rep.outcome = "ok"


def step_plaintext_write(run, st, deadline, rep):
    data = st.text.encode()
    try:
        run.cur.plain_write(data, deadline)
    except Reset:
        rep.outcome = "error:reset"
        return
    except OSError:
        rep.outcome = "error:other"
        return
    rep.bytes = len(data)
    rep.outcome = f"ok:{len(data)}"


def step_plaintext_read(run, st, deadline, rep):
    want = st.text.encode()
    try:
        got, eof = run.cur.plain_read(len(want), deadline)
    except Reset:
        rep.outcome = "error:reset"
        return
    except OSError:
        rep.outcome = "error:other"
        return
    rep.bytes = len(got)
    rep.extras["got"] = got.decode("utf-8", "replace")
    rep.outcome = "eof" if eof else "match" if got == want else "mismatch"


def step_set_option(run, st, deadline, rep):
    run.set_option(st.option, st.scope)
    rep.calls = 1
    rep.outcome = "ok"


STEPS = {
    "handshake": step_handshake,
    "write": step_write,
    "read": step_read,
    "shutdown": step_shutdown,
    "shutdown_full": step_shutdown,
    "get_shutdown": step_get_shutdown,
    "close_transport": step_close_transport,
    "free_without_shutdown": step_free,
    "resume": step_resume,
    "signal_peer": step_signal_peer,
    "wait_peer": step_wait_peer,
    "plaintext_write": step_plaintext_write,
    "plaintext_read": step_plaintext_read,
    "set_option": step_set_option,
}
