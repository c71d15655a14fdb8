"""A stand-in mock peer for harness tests: prints a transcript in which the
SUT's close_notify arrives, without any TLS. FAKE_PEER_SILENT=1 leaves that
close_notify out (a SUT that never sent one).

Persistent mode (docs/peer.md), `--serve`: one request per line on standard
input; each cell listens on its `--listen` address (its `listen` event first), accepts
one connection plus one per `next_connection` action of its script, reads
each to its end (the `tcp` event says how many bytes came) and ends with
`exit` and `cell`; a connection that does not come by the cell's
--deadline-ms ends it with status timeout (exit 3). Every start event names
the serving process ("server": pid)."""
import json
import os
import socket
import sys
import time


def emit(obj):
    print(json.dumps(obj), flush=True)


def arg(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def transcript(role, tls):
    events = [{"ev": "start", "role": role, "tls": tls, "server": os.getpid(), "ms": 0.0},
              {"ev": "handshake", "conn": 1, "tls": tls, "cipher": "TLS_AES_128_GCM_SHA256",
               "resumed": False, "ms": 1.0}]
    if os.environ.get("FAKE_PEER_SILENT") != "1":
        events.append({"ev": "record", "dir": "recv", "by": "sut", "conn": 1, "type": "alert",
                       "level": "warning", "level_byte": 1, "alert": "close_notify", "code": 0,
                       "epoch": 0, "seq": 0, "len": 2, "ms": 2.0})
    return events


def main():
    if "--serve" in sys.argv:
        return serve()
    for event in transcript(arg(sys.argv, "--role"), arg(sys.argv, "--tls")):
        emit(event)
    emit({"ev": "end", "status": "ok", "ms": 3.0})
    return 0


def read_to_end(conn, deadline):
    got = 0
    while True:
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = conn.recv(65536)
        if not chunk:
            return got
        got += len(chunk)


def serve_cell(request):
    cell, argv, script = request["cell"], request["args"], request["script"]
    deadline = time.monotonic() + int(arg(argv, "--deadline-ms") or 8000) / 1000
    connections = 1 + sum(1 for a in (script or {}).get("actions") or []
                          if a.get("do") == "next_connection")
    host, port = (arg(argv, "--listen") or "127.0.0.1:0").rsplit(":", 1)
    with socket.socket() as lst:
        lst.bind((host, int(port)))
        lst.listen(connections)
        emit({"ev": "listen", "port": lst.getsockname()[1], "ms": 0.0})
        status, code, seen = "ok", 0, []
        for n in range(1, connections + 1):
            lst.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                conn, _ = lst.accept()
                with conn:
                    seen.append(read_to_end(conn, deadline))
            except socket.timeout:
                status, code = "timeout", 3
                break
    events = transcript(arg(argv, "--role"), arg(argv, "--tls")) if seen and seen[0] else \
        [{"ev": "start", "role": arg(argv, "--role"), "tls": arg(argv, "--tls"),
          "server": os.getpid(), "ms": 0.0}]
    for event in events:
        emit(event)
    for n, got in enumerate(seen, start=1):
        emit({"ev": "tcp", "dir": "recv", "what": "eof", "conn": n, "bytes": got, "ms": 2.5})
    emit({"ev": "end", "status": status, "exit": code, "cell": cell, "ms": 3.0})


def serve():
    for line in sys.stdin:
        if line.strip():
            serve_cell(json.loads(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
