"""A stand-in mock peer for harness tests: prints a transcript in which the
SUT's close_notify arrives, without any TLS."""
import json
import sys


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    role = sys.argv[sys.argv.index("--role") + 1]
    tls = sys.argv[sys.argv.index("--tls") + 1]
    emit({"ev": "start", "role": role, "tls": tls, "ms": 0.0})
    emit({"ev": "handshake", "conn": 1, "tls": tls, "cipher": "TLS_AES_128_GCM_SHA256",
          "resumed": False, "ms": 1.0})
    emit({"ev": "record", "dir": "recv", "by": "sut", "conn": 1, "type": "alert",
          "level": "warning", "level_byte": 1, "alert": "close_notify", "code": 0, "epoch": 0,
          "seq": 0, "len": 2, "ms": 2.0})
    emit({"ev": "end", "status": "ok", "ms": 3.0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
