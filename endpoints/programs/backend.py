"""The plain-HTTP application behind a server endpoint (nginx, apache2,
lighttpd, haproxy, stunnel4 in front of it): it tells what reached the
application, so a request cut short can be judged by what the server passed on.

Usage: backend.py --fd N [--body-bytes B]
- N is a listening TCP socket the harness bound and hands down.
- Each connection carries one request (the servers in front are told to close
  upstream connections). GET answers 200 with a Content-Length body of B bytes
  of the mock peer's body text; POST reads the body by its Content-Length or
  chunked coding and answers 200 only when the whole body arrived.
- One JSON line per request on standard output, once its reading ended:
  {"ev": "request", "method", "target", "framing", "content_length", "body",
   "complete", "ended_by"}, ended_by one of "framing" (the framing said the
  message is whole), "eof", "reset", "timeout", "bad" (malformed).
- Standard input's end stops it: it closes the listening socket, waits for
  the connections in progress (each reads with a timeout), prints
  {"ev": "end"} and exits 0. Replies end with FIN after draining the input,
  so a closing backend never turns into a reset.
"""
import argparse
import json
import socket
import sys
import threading

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
READ_TIMEOUT_S = 8.0
LOCK = threading.Lock()


def body_text(n: int) -> bytes:
    """The mock peer's body (peers/http.h): numbered 64-byte lines."""
    lines = (n + 63) // 64
    return "".join(f"{k:010d} {LETTERS}\n" for k in range(lines)).encode()[:n]


def log(event: dict) -> None:
    with LOCK:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class Reader:
    """Bytes of one connection, with how the input ended."""

    def __init__(self, conn: socket.socket):
        self.conn, self.buf, self.ended = conn, b"", None

    def more(self) -> bool:
        if self.ended:
            return False
        try:
            data = self.conn.recv(65536)
        except socket.timeout:
            self.ended = "timeout"
            return False
        except ConnectionResetError:
            self.ended = "reset"
            return False
        if not data:
            self.ended = "eof"
            return False
        self.buf += data
        return True

    def until(self, marker: bytes) -> bytes | None:
        while marker not in self.buf:
            if not self.more():
                return None
        head, _, self.buf = self.buf.partition(marker)
        return head

    def take(self, n: int) -> bytes:
        while len(self.buf) < n and self.more():
            pass
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_chunked(r: Reader) -> tuple[int, bool]:
    """(body bytes decoded, whether the zero-sized chunk and trailers came)."""
    total = 0
    while True:
        line = r.until(b"\r\n")
        if line is None:
            return total, False
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            r.ended = "bad"
            return total, False
        if size == 0:
            while True:                      # the trailer section, to its empty line
                trailer = r.until(b"\r\n")
                if trailer is None:
                    return total, False
                if trailer == b"":
                    return total, True
        got = r.take(size)
        total += len(got)
        if len(got) < size or r.until(b"\r\n") is None:
            return total, False


def handle(conn: socket.socket) -> None:
    conn.settimeout(READ_TIMEOUT_S)
    r = Reader(conn)
    head = r.until(b"\r\n\r\n")
    if head is None:
        if r.buf or r.ended not in ("eof", None):
            log({"ev": "request", "method": None, "target": None, "framing": None,
                 "content_length": None, "body": 0, "complete": False, "ended_by": r.ended})
        return finish(conn, None)
    lines = head.decode("latin-1").split("\r\n")
    method, target = (lines[0].split(" ") + ["", ""])[:2]
    fields = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    event = {"ev": "request", "method": method, "target": target, "framing": "none",
             "content_length": None, "body": 0, "complete": True, "ended_by": "framing"}
    if "chunked" in fields.get("transfer-encoding", "").lower():
        event["framing"] = "chunked"
        event["body"], event["complete"] = read_chunked(r)
    elif "content-length" in fields:
        n = int(fields["content-length"]) if fields["content-length"].isdigit() else -1
        event.update(framing="content-length", content_length=n)
        event["body"] = len(r.take(max(n, 0)))
        event["complete"] = n >= 0 and event["body"] == n
    if not event["complete"]:
        event["ended_by"] = r.ended or "bad"
    log(event)
    if not event["complete"]:
        return finish(conn, None)
    body = body_text(ARGS.body_bytes) if method == "GET" else \
        f"received {event['body']} bytes\n".encode()
    return finish(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def finish(conn: socket.socket, reply: bytes | None) -> None:
    try:
        if reply:
            conn.sendall(reply)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):              # drain: a FIN must stay a FIN
            pass
    except OSError:
        pass
    finally:
        conn.close()


def serve(listener: socket.socket, workers: list) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:                       # closed: stopping
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = threading.Thread(target=handle, args=(conn,), daemon=True)
        t.start()
        workers.append(t)


def main() -> int:
    listener = socket.socket(fileno=ARGS.fd)
    workers: list = []
    acceptor = threading.Thread(target=serve, args=(listener, workers), daemon=True)
    acceptor.start()
    sys.stdin.read()                          # until the harness closes it
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    acceptor.join(READ_TIMEOUT_S)
    for t in list(workers):
        t.join(READ_TIMEOUT_S + 1)
    log({"ev": "end"})
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--body-bytes", type=int, default=20000)
    ARGS = parser.parse_args()
    sys.exit(main())
