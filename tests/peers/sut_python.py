#!/usr/bin/env python3
"""A tiny stack-under-test double on Python's ssl module (OpenSSL 3.0).

It speaks a subset of the shim protocol (docs/shim-protocol.md): the same
command line and one JSON line per step, so harness/cell.py can run it
against the mock peer. Python's ssl is OpenSSL, so every cell run with it is
an independent OpenSSL cross-check of the peer's record layer.

The TLS object works over memory BIOs (ssl.SSLObject): this program moves the
bytes between the socket and OpenSSL itself, which lets a step make exactly
the library calls it names (one SSL_shutdown, no hidden second one).

Steps: handshake; write {bytes}; read {bytes | until: "close"}; shutdown
(one SSL_shutdown); shutdown_wait (shutdown until complete); raw {hex}
(bytes on the bare socket); fin; rst; close_transport; resume;
signal_peer / wait_peer {marker}; plaintext_write / plaintext_read {text}.
Every step may carry timeout_ms.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import struct
import sys
import time

SKIP = 77


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def error_fields(exc: BaseException) -> dict:
    return {"error": type(exc).__name__, "reason": getattr(exc, "reason", None),
            "message": str(exc)}


class Timeout(Exception):
    pass


class Conn:
    """One TLS connection over memory BIOs on a connected socket."""

    def __init__(self, sock: socket.socket, ctx: ssl.SSLContext, server: bool, session=None):
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        kwargs = {} if server else {"session": session}
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_side=server, **kwargs)
        self.eof = False
        self.send_error: OSError | None = None

    def flush(self) -> None:
        data = self.outgoing.read()
        if data:
            try:
                self.sock.sendall(data)
            except OSError as e:  # the peer reset: the next step reports it
                self.send_error = e

    def pump(self, deadline: float) -> None:
        """Gives OpenSSL what the socket has; EOF becomes write_eof."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Timeout() from None
        if data:
            self.incoming.write(data)
        else:
            self.eof = True
            self.incoming.write_eof()

    def call(self, fn, deadline: float, *args):
        """One library operation, pumping the socket on want_read."""
        while True:
            try:
                return fn(*args)
            except ssl.SSLWantReadError:
                self.flush()
                if self.eof:
                    raise
                self.pump(deadline)
            finally:
                # Whatever OpenSSL wrote (data, an alert after an error)
                # goes out: the peer's transcript must show it.
                self.flush()


def pattern(n: int) -> bytes:
    return bytes(i & 0xff for i in range(n))


class Sut:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.server = args.role == "server"
        self.ctx = self.make_ctx()
        self.fds = [int(x) for x in args.fd.split(",")]
        self.conn: Conn | None = None
        self.session = None
        self.marker_in = os.fdopen(args.marker_in, "rb", buffering=0) if args.marker_in is not None else None
        self.run_deadline = time.monotonic() + args.deadline_ms / 1000.0

    def make_ctx(self) -> ssl.SSLContext:
        a = self.args
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if a.role == "server" else ssl.PROTOCOL_TLS_CLIENT)
        version = ssl.TLSVersion.TLSv1_3 if a.tls == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = version
        ctx.maximum_version = version
        # Python 3.11 sets this by default, which makes OpenSSL report a FIN
        # without close_notify as a clean close; plain OpenSSL 3 does not.
        ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        if a.role == "server":
            ctx.load_cert_chain(a.cert, a.key)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def open(self, session=None) -> None:
        fd = self.fds.pop(0)
        sock = socket.socket(fileno=fd)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = Conn(sock, self.ctx, self.server, session)

    # ---- steps: each returns the fields of its JSON line ----

    def op_handshake(self, step, deadline):
        self.conn.call(self.conn.tls.do_handshake, deadline)
        return {"outcome": "ok", "cipher": self.conn.tls.cipher()[0], "version": self.conn.tls.version()}

    def op_write(self, step, deadline):
        data = pattern(step.get("bytes", 0))
        n = self.conn.call(self.conn.tls.write, deadline, data)
        return {"outcome": f"ok:{n}", "bytes": n}

    def read_once(self, deadline, cap):
        try:
            data = self.conn.call(self.conn.tls.read, deadline, cap)
        except ssl.SSLZeroReturnError:
            return None, {"outcome": "closed", "error": "SSLZeroReturnError"}
        except ssl.SSLEOFError as e:
            return None, {"outcome": "truncated", **error_fields(e)}
        except ssl.SSLWantReadError as e:
            return None, {"outcome": "truncated", **error_fields(e)}
        except ssl.SSLError as e:
            return None, {"outcome": f"error:{e.reason}", **error_fields(e)}
        if not data:
            return None, {"outcome": "closed", "error": "read returned b''"}
        return data, None

    def op_read(self, step, deadline):
        want = step.get("bytes")
        got = b""
        while want is None or len(got) < want:
            data, end = self.read_once(deadline, 65536 if want is None else want - len(got))
            if end is not None:
                return {**end, "bytes": len(got), "pattern_ok": got == pattern(len(got))}
            got += data
            if want is None and step.get("until") != "close":
                break
        return {"outcome": f"data:{len(got)}", "bytes": len(got), "pattern_ok": got == pattern(len(got))}

    def shutdown_once(self):
        try:
            self.conn.tls.unwrap()
            return "complete"
        except ssl.SSLWantReadError:
            return "sent"

    def op_shutdown(self, step, deadline):
        try:
            outcome = self.shutdown_once()
        except ssl.SSLError as e:
            self.conn.flush()
            return {"outcome": f"error:{e.reason}", **error_fields(e)}
        self.conn.flush()
        return {"outcome": outcome}

    def op_shutdown_wait(self, step, deadline):
        try:
            self.conn.call(self.conn.tls.unwrap, deadline)
        except ssl.SSLError as e:
            return {"outcome": f"error:{e.reason}", **error_fields(e)}
        return {"outcome": "complete"}

    def op_raw(self, step, deadline):
        self.conn.sock.sendall(bytes.fromhex(step["hex"]))
        return {"outcome": "ok"}

    def op_fin(self, step, deadline):
        self.conn.sock.shutdown(socket.SHUT_WR)
        return {"outcome": "ok"}

    def op_rst(self, step, deadline):
        self.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.sock.close()
        return {"outcome": "ok"}

    def op_close_transport(self, step, deadline):
        """FIN, then drain until the peer's EOF: the peer sees FIN, not RST."""
        sock = self.conn.sock
        sock.shutdown(socket.SHUT_WR)
        drained = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                raise Timeout() from None
            except ConnectionResetError:
                break
            if not data:
                break
            drained += len(data)
        sock.close()
        return {"outcome": "ok", "drained": drained}

    def op_resume(self, step, deadline):
        session = None if self.server else self.conn.tls.session
        self.conn.sock.close()
        self.open(session)
        self.conn.call(self.conn.tls.do_handshake, deadline)
        return {"outcome": "reused" if self.conn.tls.session_reused else "not_reused"}

    def op_signal_peer(self, step, deadline):
        os.write(self.args.marker_out, (step["marker"] + "\n").encode())
        return {"outcome": "ok"}

    def op_wait_peer(self, step, deadline):
        line = b""
        while not line.endswith(b"\n"):
            b = self.marker_in.read(1)
            if not b:
                return {"outcome": "eof"}
            line += b
        return {"outcome": "ok" if line[:-1].decode() == step["marker"] else "mismatch"}

    def op_plaintext_write(self, step, deadline):
        self.conn.sock.sendall(step["text"].encode())
        return {"outcome": f"ok:{len(step['text'])}"}

    def op_plaintext_read(self, step, deadline):
        want = step["text"].encode()
        got = self.conn.incoming.read()  # bytes OpenSSL was given but did not use
        while len(got) < len(want):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.conn.sock.settimeout(left)
            data = self.conn.sock.recv(len(want) - len(got))
            if not data:
                return {"outcome": "eof", "text": got.decode("latin-1")}
            got += data
        return {"outcome": "match" if got == want else "mismatch", "text": got.decode("latin-1")}

    def run(self, steps: list) -> int:
        emit({"shim": "python-ssl", "library": ssl.OPENSSL_VERSION, "api": "openssl",
              "role": self.args.role, "tls": self.args.tls, "io": "memory"})
        self.open()
        for i, step in enumerate(steps, 1):
            op = step["op"]
            fn = getattr(self, "op_" + op, None)
            if fn is None:
                emit({"end": "skip", "step": i, "message": f"op {op} not implemented"})
                return SKIP
            deadline = min(time.monotonic() + step.get("timeout_ms", 5000) / 1000.0, self.run_deadline)
            t0 = time.monotonic()
            try:
                fields = fn(step, deadline)
            except Timeout:
                emit({"end": "timeout", "step": i, "message": f"step {i} ({op}): deadline passed"})
                return 3
            except (ssl.SSLError, OSError) as e:
                fields = {"outcome": "error:" + type(e).__name__, **error_fields(e)}
            emit({"step": i, "op": op, **fields, "ms": round((time.monotonic() - t0) * 1000, 3)})
        self.close_at_exit()
        emit({"end": "ok"})
        return 0

    def close_at_exit(self) -> None:
        """FIN, then drain until the peer's EOF, so that the end of this
        process is always a FIN on the wire and never an RST caused by bytes
        left unread."""
        sock = self.conn.sock if self.conn else None
        if sock is None or sock.fileno() < 0:
            return
        try:
            sock.shutdown(socket.SHUT_WR)
            while True:
                left = self.run_deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                if not sock.recv(65536):
                    break
        except OSError:
            pass
        sock.close()


def main() -> int:
    p = argparse.ArgumentParser()
    for name in ("--role", "--tls", "--fd", "--script", "--cert", "--key"):
        p.add_argument(name, required=True)
    p.add_argument("--io", default="memory")
    p.add_argument("--cipher")
    p.add_argument("--marker-in", type=int)
    p.add_argument("--marker-out", type=int)
    p.add_argument("--deadline-ms", type=int, default=10000)
    args = p.parse_args()
    with open(args.script) as f:
        steps = json.load(f)
    return Sut(args).run(steps)


if __name__ == "__main__":
    sys.exit(main())
