"""Running the mock peer's HTTP actions against real HTTP clients and servers.

Server role: the test makes a listening socket on 127.0.0.1 port 0 and hands
it to the peer (--listen-fd); the client connects to that port. The
connection waits in the backlog until the peer accepts, so there is no
readiness race and no port to guess.

Client role: the peer connects (--connect) to a server that already listens:
`openssl s_server -WWW` (which prints the port it bound) or PyTLSServer below,
a Python ssl server that can also end a response in the middle of a record.

Every child writes to files, not pipes (a long transcript must never block
the peer), runs under a deadline and is killed and reaped on every path.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from .build import PYTHON
from .cells import Programs

PEER_DEADLINE_MS = 10000
CLIENT_TIMEOUT_S = 10
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def body(n: int) -> bytes:
    """The peer's deterministic body (peers/http.h): numbered 64-byte lines."""
    lines = (n + 63) // 64
    return "".join(f"{k:010d} {LETTERS}\n" for k in range(lines)).encode()[:n]


@dataclasses.dataclass
class Peer:
    returncode: int | None
    events: list[dict]
    stderr: str

    def ev(self, event: str, /, **match) -> list[dict]:
        return [e for e in self.events if e.get("ev") == event
                and all(e.get(k) == v for k, v in match.items())]

    def http(self, direction: str, what: str) -> dict:
        found = self.ev("http", dir=direction, what=what)
        assert len(found) == 1, f"expected one http {direction} {what} event:\n{self}"
        return found[0]

    def expects(self, what: str) -> list[dict]:
        return self.ev("expect", what=what)

    def __str__(self) -> str:
        return "\n".join([f"peer rc={self.returncode}", *map(json.dumps, self.events), self.stderr])


@dataclasses.dataclass
class Client:
    name: str
    returncode: int | None     # None: killed at the deadline
    stderr: str
    stdout: str
    body: bytes                # what the client saved


def _kill(p: subprocess.Popen) -> None:
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()


def _wait(p: subprocess.Popen, deadline: float) -> int | None:
    try:
        return p.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(p)
        return None


def _events(path: pathlib.Path) -> list[dict]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            obj = json.loads(line)
            if isinstance(obj, dict):
                out.append(obj)
    return out


def peer_argv(progs: Programs, role: str, tls: str, script: pathlib.Path) -> list[str]:
    return [str(progs.peer), "--role", role, "--tls", tls, "--cert", str(progs.cert),
            "--key", str(progs.key), "--script", str(script),
            "--deadline-ms", str(PEER_DEADLINE_MS)]


# ---- the peer as a server, a real client against it ----

def curl_argv(port: int, out: pathlib.Path) -> list[str]:
    return ["curl", "-sS", "-k", "--http1.1", "--max-time", str(CLIENT_TIMEOUT_S),
            f"https://127.0.0.1:{port}/", "-o", str(out)]


# urllib as an application uses it: urlopen, then read() the whole body. The
# partial body of an IncompleteRead is saved; any exception is printed.
URLLIB_CLIENT = r"""
import http.client, json, ssl, sys, urllib.request
port, out = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
data, error = b"", None
try:
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=ctx, timeout=10) as r:
        data = r.read()
except http.client.IncompleteRead as e:
    data, error = e.partial, f"IncompleteRead: {e!r}"
except Exception as e:
    error = f"{type(e).__name__}: {e}"
open(out, "wb").write(data)
print(json.dumps({"error": error}))
sys.exit(1 if error else 0)
"""

# requests (urllib3 underneath) as an application uses it: get, content.
REQUESTS_CLIENT = r"""
import json, sys, warnings
import requests
warnings.simplefilter("ignore")
port, out = int(sys.argv[1]), sys.argv[2]
data, error = b"", None
try:
    data = requests.get(f"https://127.0.0.1:{port}/", verify=False, timeout=10).content
except Exception as e:
    error = f"{type(e).__name__}: {e}"
open(out, "wb").write(data)
print(json.dumps({"error": error}))
sys.exit(1 if error else 0)
"""

CLIENTS = {
    "curl": curl_argv,
    "urllib": lambda port, out: [PYTHON, "-c", URLLIB_CLIENT, str(port), str(out)],
    "requests": lambda port, out: [PYTHON, "-c", REQUESTS_CLIENT, str(port), str(out)],
}


def serve_one(progs: Programs, script: dict, client: str, tls: str = "1.3") -> tuple[Peer, Client]:
    """The peer serves one connection with `script`; `client` fetches
    https://127.0.0.1:PORT/ once."""
    with tempfile.TemporaryDirectory(prefix="tlsclose-http-") as tmp:
        d = pathlib.Path(tmp)
        (d / "script.json").write_text(json.dumps(script))
        saved = d / "body"
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        procs: list[subprocess.Popen] = []
        try:
            lst.bind(("127.0.0.1", 0))
            lst.listen(1)
            port = lst.getsockname()[1]
            deadline = time.monotonic() + PEER_DEADLINE_MS / 1000 + 2
            with open(d / "peer.out", "wb") as po, open(d / "peer.err", "wb") as pe:
                procs.append(subprocess.Popen(
                    [*peer_argv(progs, "server", tls, d / "script.json"),
                     "--listen-fd", str(lst.fileno())],
                    pass_fds=[lst.fileno()], stdin=subprocess.DEVNULL, stdout=po, stderr=pe,
                    start_new_session=True))
            with open(d / "client.out", "wb") as co, open(d / "client.err", "wb") as ce:
                procs.append(subprocess.Popen(
                    CLIENTS[client](port, saved), stdin=subprocess.DEVNULL, stdout=co, stderr=ce,
                    start_new_session=True))
            lst.close()
            client_rc = _wait(procs[1], deadline)
            peer_rc = _wait(procs[0], deadline)
        finally:
            lst.close()
            for p in procs:
                _kill(p)
        peer = Peer(peer_rc, _events(d / "peer.out"), (d / "peer.err").read_text(errors="replace"))
        result = Client(client, client_rc, (d / "client.err").read_text(errors="replace").strip(),
                        (d / "client.out").read_text(errors="replace").strip(),
                        saved.read_bytes() if saved.exists() else b"")
        return peer, result


# ---- the peer as a client, against openssl s_server -WWW ----

@contextlib.contextmanager
def s_server_www(progs: Programs, docroot: pathlib.Path, tls: str = "1.3"):
    """openssl s_server -WWW serving files from docroot; yields its port.
    -accept 127.0.0.1:0 binds a free port and prints it. s_server ends when
    its stdin does, so stdin stays an open pipe until the block ends."""
    argv = ["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", str(progs.cert),
            "-key", str(progs.key), "-WWW", f"-tls{tls.replace('.', '_')}"]
    p = subprocess.Popen(argv, cwd=docroot, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace",
                         start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()
    port: list[int] = []

    def read() -> None:
        for line in p.stdout:
            lines.append(line)
            m = re.match(r"^ACCEPT 127\.0\.0\.1:(\d+)", line)
            if m and not port:
                port.append(int(m.group(1)))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(10) or not port:
            raise AssertionError(f"s_server did not start: {''.join(lines)}")
        yield port[0], lines
    finally:
        _kill(p)
        p.stdin.close()
        reader.join(5)
        p.stdout.close()


def connect_one(progs: Programs, script: dict, port: int, tls: str = "1.3") -> Peer:
    """The peer connects to 127.0.0.1:port and runs `script`."""
    with tempfile.TemporaryDirectory(prefix="tlsclose-http-") as tmp:
        d = pathlib.Path(tmp)
        (d / "script.json").write_text(json.dumps(script))
        with open(d / "peer.out", "wb") as po, open(d / "peer.err", "wb") as pe:
            p = subprocess.Popen([*peer_argv(progs, "client", tls, d / "script.json"),
                                  "--connect", f"127.0.0.1:{port}"],
                                 stdin=subprocess.DEVNULL, stdout=po, stderr=pe,
                                 start_new_session=True)
        try:
            rc = _wait(p, time.monotonic() + PEER_DEADLINE_MS / 1000 + 2)
        finally:
            _kill(p)
        return Peer(rc, _events(d / "peer.out"), (d / "peer.err").read_text(errors="replace"))


# ---- the peer as a client, against a Python ssl server ----

class PyTLSServer:
    """A one-connection HTTPS server on Python's ssl (OpenSSL) over memory
    BIOs, so that it controls every byte it writes: it can end a response in
    the middle of a TLS record, which no socket API allows.

    It reads one request (head, then a body by Content-Length or chunked)
    and records how reading ended ("complete", "close_notify", "eof" for a
    transport end without close_notify, "reset", "timeout") and what Python's
    ssl raised; OP_IGNORE_UNEXPECTED_EOF is cleared so that an EOF without
    close_notify shows as such. If the request is complete it sends `response` (the wire
    bytes of a whole HTTP response) cut at `cut` bytes, then ends as
    `ending` says: "close_notify" (then FIN), "fin" (no close_notify),
    "rst", or "in_record": the bytes after the cut start one more record of
    which only the first half goes out, then FIN."""

    def __init__(self, progs: Programs, tls: str, response: bytes, cut: int | None = None,
                 ending: str = "close_notify", timeout_s: float = 8.0):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(progs.cert), str(progs.key))
        version = ssl.TLSVersion.TLSv1_3 if tls == "1.3" else ssl.TLSVersion.TLSv1_2
        self.ctx.minimum_version = self.ctx.maximum_version = version
        # An instrument must see a truncation: Python 3.11 sets this option on
        # every context, which makes a bare EOF read like close_notify.
        self.ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        # No TLS 1.3 tickets: the server then writes nothing between the
        # handshake and the response, so a client's reset cannot meet a write.
        self.ctx.num_tickets = 0
        self.response, self.ending = response, ending
        self.cut = len(response) if cut is None else cut
        self.deadline = time.monotonic() + timeout_s
        self.lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lst.bind(("127.0.0.1", 0))
        self.lst.listen(1)
        self.port = self.lst.getsockname()[1]
        self.request = b""
        self.read_end: str | None = None
        self.read_error: str | None = None
        self.failure: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "PyTLSServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.thread.join(max(0.0, self.deadline - time.monotonic()) + 2)
        self.lst.close()
        if self.thread.is_alive():
            raise AssertionError("PyTLSServer did not finish")

    # -- plumbing: the socket under the memory BIOs --

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("PyTLSServer deadline")
        return left

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self) -> bool:
        """More bytes from the socket into the TLS object; False at EOF."""
        self.sock.settimeout(self._left())
        data = self.sock.recv(65536)
        if data:
            self.incoming.write(data)
            return True
        self.incoming.write_eof()
        return False

    def _handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ConnectionError("EOF during the handshake")

    # -- reading the request --

    def _request_complete(self) -> bool:
        head_end = self.request.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        head, rest = self.request[:head_end].decode("latin-1"), self.request[head_end + 4:]
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (line.partition(":") for line in head.split("\r\n")[1:])}
        if fields.get("transfer-encoding", "").lower().endswith("chunked"):
            return _chunked_complete(rest)
        return len(rest) >= int(fields.get("content-length", "0"))

    def _read_request(self) -> None:
        while not self._request_complete():
            try:
                data = self.tls.read(65536)
                if not data:   # _ssl.c returns b'' for a received close_notify
                    raise ssl.SSLZeroReturnError
                self.request += data
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                self.read_end, self.read_error = "close_notify", "close_notify read (b'')"
                return
            except ssl.SSLError as e:
                # over memory BIOs an EOF is OpenSSL's own "unexpected eof"
                # error, not SSLEOFError as over a socket
                eof = isinstance(e, ssl.SSLEOFError) or e.reason == "UNEXPECTED_EOF_WHILE_READING"
                self.read_end = "eof" if eof else "ssl_error"
                self.read_error = f"{type(e).__name__}: {e}"
                return
            try:
                self._fill()
            except ConnectionResetError as e:
                self.read_end, self.read_error = "reset", f"ConnectionResetError: {e}"
                return
            except (TimeoutError, socket.timeout):
                self.read_end = "timeout"
                return
        self.read_end = "complete"

    # -- writing the response --

    def _send_response(self) -> None:
        self.tls.write(self.response[:self.cut])
        self._flush()
        if self.ending == "in_record":
            self.tls.write(self.response[self.cut:self.cut + 16384])
            record = self.outgoing.read()
            self.sock.sendall(record[:5 + (len(record) - 5) // 2])
        elif self.ending == "close_notify":
            with contextlib.suppress(ssl.SSLWantReadError):
                self.tls.unwrap()
            self._flush()

    def _end(self) -> None:
        if self.read_end == "reset":
            self.sock.close()
            return
        if self.ending == "rst":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            self.sock.close()
            return
        self.sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):   # drain, so that the FIN stays a FIN
            while True:
                self.sock.settimeout(self._left())
                if not self.sock.recv(65536):
                    break
        self.sock.close()

    def _serve(self) -> None:
        try:
            self.lst.settimeout(self._left())
            self.sock, _ = self.lst.accept()
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = self.ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
            self._handshake()
            self._read_request()
            if self.read_end == "complete":
                self._send_response()
            self._end()
        except Exception as e:  # reported by the test, never swallowed
            self.failure = f"{type(e).__name__}: {e}"
            with contextlib.suppress(Exception):
                self.sock.close()


def _chunked_complete(data: bytes) -> bool:
    """Whether data holds a whole chunked body (trailer section included)."""
    at = 0
    while True:
        nl = data.find(b"\r\n", at)
        if nl < 0:
            return False
        size = int(data[at:nl].split(b";")[0].strip() or b"0", 16)
        at = nl + 2
        if size == 0:
            return data.find(b"\r\n\r\n", at - 2) >= 0
        at += size + 2
        if at > len(data):
            return False


def response_bytes(framing: str, n: int, chunk: int = 4096) -> bytes:
    """A response as the Python server sends it, with the peer's body text so
    the peer's hash can be checked."""
    data = body(n)
    head = "HTTP/1.1 200 OK\r\nServer: python-ssl-test\r\nConnection: close\r\n"
    if framing == "content-length":
        return f"{head}Content-Length: {n}\r\n\r\n".encode() + data
    if framing == "close-delimited":
        return f"{head}\r\n".encode() + data
    chunks = b"".join(f"{len(data[i:i + chunk]):x}\r\n".encode() + data[i:i + chunk] + b"\r\n"
                      for i in range(0, n, chunk))
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"
