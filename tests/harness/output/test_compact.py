"""What results.json keeps of a cell (harness/output/compact.py): compact
cells keep what the reports read, check definitions written once come back
whole, and a file whose reference names no definition is refused."""
from __future__ import annotations

import copy
import json
import re

import pytest

from harness.base.problems import ResultsError
from harness.output import compact, results
from reports import model, rosetta
from support.recorded import PEER_OK, SUT_OK

CASE = "peer-sends-bulk-then-closes"
PEER_SCRIPT = {"actions": [{"do": "send_data", "bytes": 1600, "records": [16] * 100},
                           {"do": "send_alert", "alert": "close_notify"}]}


def data_record(seq: int, length: int = 16, by: str = "peer", dir_: str = "sent") -> dict:
    return {"ev": "record", "dir": dir_, "by": by, "conn": 1, "type": "application_data",
            "epoch": 0, "seq": seq, "len": length, "ms": 5.0 + seq / 100}


def bulk_wire() -> list[dict]:
    """A transcript as the peer prints it: a takeover record, 100 data records
    back to back, one the SUT sent, then the close."""
    head = PEER_OK[:2] + [{"ev": "record", "dir": "sent", "by": "library", "conn": 1,
                           "type": "application_data", "epoch": 0, "seq": 0, "len": 16,
                           "takeover": True, "ms": 3.0},
                          {"ev": "action", "n": 1, "do": "send_data", "ms": 3.1}]
    data = [data_record(seq) for seq in range(1, 101)]
    sut = [data_record(1, 5, by="sut", dir_="recv")]
    close = [{"ev": "record", "dir": "sent", "by": "peer", "conn": 1, "type": "alert",
              "level": "warning", "level_byte": 1, "alert": "close_notify", "code": 0,
              "epoch": 0, "seq": 101, "len": 2, "ms": 9.0}, PEER_OK[-1]]
    return copy.deepcopy(head + data + sut + close)


def checks() -> list[dict]:
    return [{"level": "rfc", "step": 3, "what": "read 'eof' outcome", "expected": "closed",
             "actual": "closed", "ok": True, "known": False,
             "rule": "tls13-close-notify-is-end-of-data", "severity": "hygiene"},
            {"level": "model", "step": 2, "what": "shutdown 'close' outcome",
             "expected": "sent", "actual": "complete", "ok": False, "known": True,
             "known_summary": "answers at once", "statements": ["S10"]},
            {"level": "model", "step": 2, "what": "shutdown 'close' sent flag",
             "expected": True, "actual": None, "ok": False, "known": False,
             "difference": True, "statements": ["S14"]},
            {"level": "api", "step": 2, "what": "shutdown 'close' ret", "expected": 0,
             "actual": 0, "ok": True, "known": False}]


def runner_cell(verdict: str = "KNOWN", stack: str = "openssl", io: str = "blocking") -> dict:
    """A cell as harness.run.runner hands it over, before compaction."""
    cid = f"{CASE}/{stack}/tls1.3/{io}/client"
    return {"id": cid, "case": CASE, "stack": stack, "tls": "1.3", "io": io, "role": "client",
            "verdict": verdict, "reason": "known deviation: answers at once",
            "peer": PEER_SCRIPT, "ops": copy.deepcopy(SUT_OK), "wire": bulk_wire(),
            "checks": checks(), "notes": [], "duration_ms": 12.5,
            "command": f"./tlsclose run --stack {stack} --case {CASE}",
            "stderr": {"peer": "", "sut": ""},
            "argv": {"peer": ["tlsclose-peer", "--role", "server"], "sut": ["shim"]}}


def app_data(wire: list[dict], by: str = "peer") -> list[dict]:
    return [e for e in wire if e.get("type") == "application_data" and e.get("by") == by]


def test_a_run_of_data_records_becomes_its_first_record_with_totals():
    wire = compact.compact_cell(runner_cell())["wire"]
    (run,) = app_data(wire)
    assert (run["seq"], run["count"], run["len_total"], run["last_seq"]) == (1, 100, 1600, 100)
    # What is not part of the run stays as it was: the takeover record, the SUT's record,
    # every other event.
    assert app_data(wire, "library") == app_data(bulk_wire(), "library")
    assert app_data(wire, "sut") == app_data(bulk_wire(), "sut")
    others = [e for e in bulk_wire() if e.get("type") != "application_data"]
    assert [e for e in wire if e.get("type") != "application_data"] == others


def test_compact_cell_keeps_what_the_reports_read():
    full = runner_cell()
    small = compact.compact_cell(full)
    for key in ("id", "case", "stack", "tls", "io", "role", "verdict", "reason", "ops",
                "duration_ms", "command", "stderr", "argv"):
        assert small[key] == full[key], key
    # The bytes the peer sent, the event the Rosetta table derives, the failed checks.
    sent = sum(e.get("len_total", e.get("len", 0)) for e in app_data(small["wire"]))
    assert sent == sum(e["len"] for e in app_data(full["wire"]))
    assert rosetta.event_from_transcript(small["wire"], PEER_SCRIPT) == \
        rosetta.event_from_transcript(full["wire"], PEER_SCRIPT) == "clean_close"
    def failed(cell):
        return [(c["level"], c["what"], c.get("difference")) for c in model.failed_checks(cell)]
    assert failed(small) == failed(full) and failed(small)
    # Left out: the peer script (the case's, written once), defaults.
    assert "peer" not in small and "notes" not in small
    assert [c.get("known") for c in small["checks"]] == [None, True, None, None]
    assert small["checks"][2]["difference"] is True
    # A note is kept.
    assert compact.compact_cell(dict(full, notes=["n"]))["notes"] == ["n"]
    # The input is not changed.
    assert full == runner_cell()


@pytest.mark.parametrize("verdict, keeps", [
    ("PASS", False), ("SKIP", False), ("FAIL", True), ("KNOWN", True), ("ERROR", True),
    ("TIMEOUT", True), ("CRASH", True)])
def test_command_lines_only_for_cells_worth_running_by_hand(verdict, keeps):
    assert ("argv" in compact.compact_cell(runner_cell(verdict))) is keeps


def test_compacting_twice_changes_nothing():
    """merge compacts cells that were compacted when written."""
    once = compact.compact_cell(runner_cell())
    assert compact.compact_cell(copy.deepcopy(once)) == once


def doc_with(cells: list[dict]) -> dict:
    return results.build({"name": "tlsclose", "incomplete": False},
                         {"openssl": {"title": "t", "api": "openssl", "model": "ssl_shutdown",
                                      "available": True},
                          "other": {"title": "o", "api": "openssl", "model": "ssl_shutdown",
                                    "available": True}},
                         {CASE: {"title": "t", "cites": ["S10"], "peer": PEER_SCRIPT}}, cells)


def test_pack_writes_each_definition_once_and_unpack_restores_the_document():
    doc = doc_with([runner_cell(), runner_cell("FAIL", io="memory"),
                    runner_cell("KNOWN", stack="other")])
    packed = compact.pack(doc)
    # Three cells check the same four expectations: four definitions.
    assert len(packed["check_defs"]) == 4
    for cell in packed["cells"]:
        assert [c["def"] for c in cell["checks"]] == [0, 1, 2, 3]
        for check in cell["checks"]:
            assert not set(check) & set(compact.DEF_KEYS)
    assert packed["check_defs"][1] == {"level": "model", "step": 2,
                                       "what": "shutdown 'close' outcome", "expected": "sent",
                                       "statements": ["S10"]}
    assert compact.unpack(packed) == doc
    assert "check_defs" not in doc                              # pack copies


def test_write_then_load_is_the_document(tmp_path):
    doc = doc_with([runner_cell(), runner_cell("PASS", io="memory")])
    path = results.write(doc, tmp_path)
    on_disk = json.loads(path.read_text())
    assert "check_defs" in on_disk and "level" not in on_disk["cells"][0]["checks"][0]
    assert results.load(path) == json.loads(json.dumps(doc))


def test_different_expectations_get_different_definitions():
    other = runner_cell(io="memory")
    other["checks"][0]["expected"] = ["closed", "truncated"]
    packed = compact.pack(doc_with([runner_cell(), other]))
    assert len(packed["check_defs"]) == 5
    assert [c["def"] for c in packed["cells"][1]["checks"]] == [4, 1, 2, 3]


@pytest.mark.parametrize("ref", [7, -1, "0", None, 1.0, True])
def test_load_refuses_a_dangling_def(tmp_path, ref):
    path = results.write(doc_with([runner_cell(), runner_cell(io="memory")]), tmp_path)
    text = json.loads(path.read_text())
    text["cells"][1]["checks"][2]["def"] = ref
    path.write_text(json.dumps(text))
    problem = f"results.json: cells[2].checks[3]: 'def' {ref!r} names no entry of check_defs"
    with pytest.raises(ResultsError, match=re.escape(problem)):
        results.load(path)


def test_load_refuses_check_defs_that_are_not_a_list(tmp_path):
    path = results.write(doc_with([runner_cell()]), tmp_path)
    text = json.loads(path.read_text())
    text["check_defs"] = {"0": {}}
    path.write_text(json.dumps(text))
    with pytest.raises(ResultsError, match="'check_defs' is not an array"):
        results.load(path)
