#!/usr/bin/python3
"""Writes the fuzzers' seed corpus (fuzz/corpus/) and dictionaries from the
case files and the vocabulary, so the seeds follow the case corpus:

    /usr/bin/python3 fuzz/make_corpus.py

corpus/step_script/CASE.json   the case's SUT step script, as the shim reads it
corpus/peer_script/CASE.bin    byte 0: 1 for TLS 1.3 (0 if the case is 1.2
                               only), then the peer script as the peer reads it
corpus/record/*.bin            byte 0: suite, byte 1: mode, then data
                               (fuzz_record.c)
step_script.dict, peer_script.dict   the op, action, field and value names
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from harness.base import vocabulary as V  # noqa: E402
from harness.spec import corpus  # noqa: E402


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def scripts() -> None:
    for case in corpus.load_cases(corpus.case_files(ROOT / "cases"), ROOT):
        steps = json.dumps(case.sut_script(), separators=(",", ":")).encode()
        write(HERE / "corpus" / "step_script" / f"{case.id}.json", steps)
        tls13 = b"\x01" if "1.3" in case.applies["tls"] else b"\x00"
        peer = json.dumps(case.peer, separators=(",", ":")).encode()
        write(HERE / "corpus" / "peer_script" / f"{case.id}.bin", tls13 + peer)


def records() -> None:
    seeds = {
        # stream mode: a framed record that fails authentication, then a
        # header alone; an oversized header; an empty record
        "stream-bad-mac": b"\x00\x00" + b"\x17\x03\x03\x00\x20" + bytes(32) + b"\x17\x03",
        "stream-oversized": b"\x03\x00" + b"\x17\x03\x03\xff\xff" + bytes(8),
        "stream-empty": b"\x04\x00" + b"\x17\x03\x03\x00\x00",
        "stream-alert-plain": b"\x01\x00" + b"\x15\x03\x03\x00\x02\x01\x00",
    }
    for suite in range(6):
        # round trip: application data, an alert, a corrupted record, padding
        seeds[f"rt{suite}-data"] = bytes([suite, 1, 23, 0, 0xff]) + b"hello, world"
        seeds[f"rt{suite}-alert"] = bytes([suite, 1, 21, 3, 0xff]) + b"\x01\x00"
        seeds[f"rt{suite}-corrupt"] = bytes([suite, 1, 23, 0, 9]) + b"tampered"
        seeds[f"rt{suite}-empty"] = bytes([suite, 1, 22, 7, 0xff])
    for name, data in seeds.items():
        write(HERE / "corpus" / "record" / f"{name}.bin", data)


def dictionaries() -> None:
    step_words = {"op", "timeout_ms", "close"}
    for op, fields in V.SHIM_OPS.items():
        step_words |= {op, *fields}
    peer_words = {"do", "actions", "personality", "timeout_ms", "warning", "fatal",
                  *V.PEER_SCRIPT_COMMON, *V.PEER_ACTIONS_SCRIPT, *V.ALERTS}
    for name, fields in {**V.PEER_ACTIONS, **V.PERSONALITIES}.items():
        peer_words |= {name, *fields}
    peer_words |= {"legal", "illegal", "mid-record", "between-records", "rst"}
    common = ['"{"', '"}"', '"["', '"]"', '":"', '","', '"true"', '"false"', '"null"', '"-1"',
              '"0"', '"16384"', '"67108864"', '"4294967296"']
    for fname, words in (("step_script.dict", step_words), ("peer_script.dict", peer_words)):
        lines = [f'"\\"{w}\\""' for w in sorted(words)] + common
        write(HERE / fname, ("\n".join(lines) + "\n").encode())


if __name__ == "__main__":
    scripts()
    records()
    dictionaries()
