"""index.html from the fixture: self-contained, complete, safe; the blob it
embeds; the baseline changes; write_all's contract."""
from __future__ import annotations

import base64
import copy
import gzip
import json
import os
import re

import pytest

from reports import ResultsError, html, write_all
from support.results_docs import cell_by

BLOB = re.compile(r'<script type="application/json" id="tc-data" data-encoding="([^"]+)">(.*?)</script>',
                  re.S)


def embedded(page: str) -> dict:
    m = BLOB.search(page)
    assert m, "the page embeds no data blob"
    encoding, text = m.groups()
    if encoding == "gzip+base64":
        text = gzip.decompress(base64.b64decode(text)).decode("utf-8")
    else:
        assert encoding == "json"
    return json.loads(text)


def test_write_all_writes_both_files(small, tmp_path):
    out = tmp_path / "deep" / "out"
    write_all(small, str(out))
    assert sorted(os.listdir(out)) == ["index.html", "junit.xml"]
    assert (out / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_bad_document_writes_nothing(small, tmp_path):
    del small["cells"][3]["verdict"]
    with pytest.raises(ResultsError, match=r"cells\[3\]\.verdict"):
        write_all(small, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    with pytest.raises(ResultsError, match="format"):
        write_all({"format": 1, "cells": []}, str(tmp_path / "out"))   # before the levels
    with pytest.raises(ResultsError, match="'stacks' must be an object"):
        write_all({"format": 2, "stacks": [], "cells": []}, str(tmp_path / "out"))


def test_page_is_self_contained(small):
    page = html.render(small)
    # No resource may come from elsewhere: the page must work from file:// offline.
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    assert "@import" not in page
    assert page.count("<script") == 2  # the data blob and the inline script
    assert "<link rel=\"stylesheet\"" not in page


def test_header_shows_versions_and_totals(small):
    page = html.render(small)
    for info in small["stacks"].values():
        if info["available"]:
            assert info["library"] in page
    # The stack whose shim is not built says what to install.
    assert small["stacks"]["absent"]["hint"] == \
        "unavailable: apt-get install libtlsclose-absent-dev and rebuild"
    assert small["stacks"]["absent"]["hint"] in page
    for verdict, n in small["summary"].items():
        if verdict != "total":
            assert re.search(rf'data-verdict="{verdict}">.*?<b>{n}</b>', page), verdict


def test_matrix_has_every_cell_once(small):
    page = html.render(small)
    # A matrix button is its verdict and its cell's index in results.json.
    buttons = re.findall(r'<button class="cellbtn v-(\w+)" data-cell="(\d+)">\1</button>', page)
    assert sorted(int(i) for _, i in buttons) == list(range(len(small["cells"])))
    for verdict, index in buttons:
        assert small["cells"][int(index)]["verdict"] == verdict


def test_matrix_groups_by_first_citation(small):
    page = html.render(small)
    groups = re.findall(r'<tbody class="group" data-group="([^"]*)">', page)
    firsts = {info["cites"][0] for info in small["cases"].values()}
    assert set(groups) == firsts
    # catalogue order: S before R, numbers ascending
    assert groups == sorted(groups, key=lambda s: (s[0] != "S", int(s[1:])))


def test_blob_holds_every_cell_and_the_statements(small):
    data = embedded(html.render(small))
    assert [c["id"] for c in data["cells"]] == [c["id"] for c in small["cells"]]
    assert data["statements"]["S10"].startswith("First to close")
    cell = data["cells"][0]
    assert cell["wire"] and cell["ops"] and cell["checks"] and cell["command"]


def test_run_text_cannot_escape_the_page(small):
    evil = '</script><script>alert(1)</script><!-- & <b>'
    small["cells"][0]["reason"] = evil
    small["cells"][0]["wire"][0]["role"] = evil
    small["cases"][small["cells"][0]["case"]]["title"] = evil
    page = html.render(small)
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == 2
    data = embedded(page)
    assert data["cells"][0]["reason"] == evil


def test_large_blob_is_compressed_and_complete(big_doc):
    page = html.render(big_doc)
    assert BLOB.search(page).group(1) == "gzip+base64"
    data = embedded(page)
    assert len(data["cells"]) == len(big_doc["cells"]) == 1200
    assert len(page.encode("utf-8")) < 5 * 1024 * 1024


def test_long_transcripts_are_cut_in_the_middle(small):
    cell = small["cells"][0]
    cell["wire"] = [{"ev": "record", "dir": "recv", "by": "sut", "type": "application_data",
                     "seq": i, "len": 16384, "ms": float(i)} for i in range(5000)]
    data = embedded(html.render(small))
    wire = data["cells"][0]["wire"]
    assert len(wire) == html.WIRE_MAX + 1
    assert wire[html.WIRE_MAX // 2] == {"ev": "elided", "count": 5000 - html.WIRE_MAX}
    assert wire[0]["seq"] == 0 and wire[-1]["seq"] == 4999


def test_baseline_leads_with_the_changes(small):
    baseline = copy.deepcopy(small)
    now = small
    regressed = cell_by(now, "peer-fin-without", "openssl")
    regressed["verdict"] = "FAIL"
    native = cell_by(now, "sut-closes-first", "openssl")
    drain = next(op for op in native["ops"] if op.get("step") == 3)
    drain["native"]["error"] = "SSL_ERROR_SYSCALL"
    now["cells"].pop()  # a cell the baseline has and this run lacks
    page = html.render(now, baseline)
    changes = page.index('id="changes"')
    assert changes < page.index('id="matrix-section"')
    section = page[changes:page.index('id="matrix-section"')]
    assert regressed["id"] in section and native["id"] in section
    assert "SSL_ERROR_SYSCALL" in section
    assert "1 cell(s) of the baseline not in this run" in section
    assert "▼ worse" in section


def test_same_run_as_baseline_says_nothing_changed(small):
    page = html.render(small, copy.deepcopy(small))
    assert "No change" in page


def test_partial_cells_still_render(small):
    """A harness that crashed mid-run may leave cells with only the required keys."""
    small["cells"].append({"case": "bare", "stack": "openssl", "verdict": "ERROR"})
    small["tool"]["incomplete"] = True
    page = html.render(small)
    assert "bare/openssl/tls?/?/?" in page
    assert "incomplete" in page


def test_non_finite_numbers_do_not_break_the_blob(small):
    small["cells"][0]["duration_ms"] = float("nan")
    small["cells"][0]["ops"][1]["ms"] = float("inf")
    data = embedded(html.render(small))
    assert data["cells"][0]["duration_ms"] is None and data["cells"][0]["ops"][1]["ms"] is None


def test_junk_in_optional_fields_is_tolerated(small):
    """Only cells, case, stack and verdict are relied on; the rest may be junk."""
    small["tool"] = {"duration_ms": "soon", "started": "yesterday", "argv": ["x"]}
    small["stacks"]["openssl"] = {}
    small["cases"]["peer-data-after-own-close-notify-ignored"] = {"cites": []}
    small["cells"][0]["checks"] = [{"what": "odd"}]
    small["cells"][1]["ops"] = [{"step": 1}]
    page = html.render(small)
    assert "yesterday" in page
    from reports import summary
    cells = len(small["cells"])
    assert summary.format_summary(small).startswith(f"tlsclose : {cells} cell(s)\n")


def test_findings_lead_and_stacks_have_headlines(small):
    """What the harness found (results.json "findings", each stack's "headline") is on the
    page, before the matrix: the unexcused security violations first."""
    page = html.render(small)
    findings = page[page.index('id="findings"'):page.index('id="matrix-section"')]
    rows = re.findall(r'<tr class="(open|known) sev-(\w+)">\s*<th scope="row">([^<]+)</th>',
                      findings)
    assert len(rows) == len(small["findings"]) == 12
    assert rows[:2] == [("open", "security", "delivers-data-after-close"),
                        ("open", "security", "hides-truncation")]
    assert {r[0] for r in rows[4:]} == {"known"}      # every KNOWN after every FAIL
    for f in small["findings"]:
        assert f["command"] in findings
    assert small["stacks"]["hides-truncation"]["headline"] == \
        "1 security violation; model: matches 4 of 4 statements; api: 2 deviations"
    for info in small["stacks"].values():
        assert info["headline"] in page
