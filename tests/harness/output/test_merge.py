"""`tlsclose merge` joins parts of one run and refuses anything else
(harness/output/results.py): overlapping parts, another tool version or commit,
other case files, another library under the same stack name, shards of
different selections. Missing shards make the result incomplete. Also the
baseline alignment that lets `report --baseline` compare two builds of one
library (openssl-1.1.1w against openssl)."""
from __future__ import annotations

import json

import pytest

from harness import cli
from harness.base.vocabulary import IO_MODES
from harness.output import results
from harness.run import shard
from reports.diff import diff
from support.build import ROOT

IDS = [f"case-{c}/openssl/tls1.3/{io}/client" for c in "abc" for io in ("blocking", "memory")]


def cell(cell_id: str, verdict: str = "PASS", error: str = "SSL_ERROR_NONE") -> dict:
    case, stack, tls, io, role = cell_id.split("/")
    return {"id": cell_id, "case": case, "stack": stack, "tls": tls[3:], "io": io,
            "role": role, "verdict": verdict, "reason": "",
            "ops": [{"step": 1, "op": "read", "outcome": "closed",
                     "native": {"ret": 0, "error": error, "queue": [], "errno": 0}}]}


def doc(ids: list[str], version="0.1.0", git="abc123", corpus="c0", sha="s0",
        library="OpenSSL 3.0.19 27 Jan 2026", part: tuple[int, int] | None = None) -> dict:
    tool = {"name": "tlsclose", "version": version, "git": git, "corpus": corpus,
            "started": "2026-01-01T00:00:00+00:00", "duration_ms": 1.0, "incomplete": False}
    if part:
        tool["shard"] = shard.describe(IDS, *part)
    stacks = {ids[0].split("/")[1]: {"title": "t", "api": "openssl", "library": library,
                                     "available": True, "hint": ""}} if ids else {}
    cases = {i.split("/")[0]: {"title": "t", "cites": [], "why": "w", "file": "f",
                               "sha256": sha} for i in ids}
    return results.build(tool, stacks, cases, [cell(i) for i in ids])


def shards(n: int) -> list[tuple[str, dict]]:
    return [(f"s{k}.json", doc([IDS[i] for i in shard.select(IDS, k, n)], part=(k, n)))
            for k in range(1, n + 1)]


def test_shards_of_one_run_merge_into_the_whole():
    merged = results.merge(shards(3), ["merge"], ROOT)
    assert [c["id"] for c in merged["cells"]] == sorted(IDS, key=lambda i: (
        i.split("/")[0], IO_MODES.index(i.split("/")[3])))
    assert not merged["tool"]["incomplete"] and "missing_shards" not in merged["tool"]
    assert merged["tool"]["corpus"] == "c0"


@pytest.mark.parametrize("change, problem", [
    ({"version": "0.2.0"}, "the tool version differs \\(0.1.0 vs 0.2.0\\)"),
    ({"git": "def456-dirty"}, "the commit differs"),
    ({"sha": "s1"}, "the case file of case-[abc] differs"),
    ({"corpus": "c1"}, "the case corpus \\(a case file was added, removed or changed\\) differs"),
    ({"library": "OpenSSL 3.0.18 1 Jan 2026"}, "the library of stack openssl differs"),
])
def test_parts_of_different_runs_are_refused(change, problem):
    (a_name, a), (b_name, _) = shards(2)
    b = doc([IDS[i] for i in shard.select(IDS, 2, 2)], part=(2, 2), **change)
    with pytest.raises(results.ResultsError, match=f"s1.json and s2.json are not parts of one "
                                                   f"run: {problem}"):
        results.merge([(a_name, a), (b_name, b)], [], ROOT)


def test_a_dirty_tree_is_the_same_commit():
    (a_name, a), (b_name, b) = shards(2)
    b["tool"]["git"] = "abc123-dirty"
    assert results.merge([(a_name, a), (b_name, b)], [], ROOT)["summary"]["total"] == len(IDS)


def test_overlapping_shards_are_refused():
    parts = shards(2)
    with pytest.raises(results.ResultsError, match="s1.json and again.json are the same shard"):
        results.merge(parts + [("again.json", parts[0][1])], [], ROOT)
    one_cell = doc([parts[0][1]["cells"][0]["id"]])
    with pytest.raises(results.ResultsError, match="is in both s1.json and extra.json"):
        results.merge(parts + [("extra.json", one_cell)], [], ROOT)


def test_shards_of_different_selections_are_refused():
    a = shards(2)[0]
    b = shards(3)[1]
    with pytest.raises(results.ResultsError, match="the number of shards differs"):
        results.merge([a, b], [], ROOT)
    c = shards(2)[1]
    c[1]["tool"]["shard"]["selection"] = shard.selection_digest(IDS[:-1])
    with pytest.raises(results.ResultsError, match="the selection of cells that was sharded"):
        results.merge([a, c], [], ROOT)


def test_a_missing_shard_makes_the_merge_incomplete(tmp_path):
    parts = shards(3)
    merged = results.merge([parts[0], parts[2]], [], ROOT)
    assert merged["tool"]["incomplete"] and merged["tool"]["missing_shards"] == [2]
    lines = results.summary_lines(merged, tmp_path / "results.json")
    assert "note: no input holds shard(s) 2; results are incomplete" in lines


def test_documents_without_the_new_fields_still_merge():
    a, b = doc(IDS[:2]), doc(IDS[2:])
    for d in (a, b):
        for key in ("version", "git", "corpus"):
            del d["tool"][key]
        for entry in d["cases"].values():
            del entry["sha256"]
    assert results.merge([("a", a), ("b", b)], [], ROOT)["summary"]["total"] == len(IDS)


def test_the_merge_command_refuses_with_exit_2(tmp_path, capsys):
    (_, a), _ = shards(2)
    b = doc([IDS[i] for i in shard.select(IDS, 2, 2)], part=(2, 2), sha="other")
    for name, d in (("a", a), ("b", b)):
        results.write(d, tmp_path / name)
    rc = cli.main(["merge", str(tmp_path / "a/results.json"), str(tmp_path / "b/results.json"),
                   "--out", str(tmp_path / "m")])
    assert rc == 2 and "not parts of one run: the case file of" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_baseline_of_another_build_of_the_library_is_compared_cell_by_cell():
    new = doc([i.replace("/openssl/", "/openssl-1.1.1w/") for i in IDS],
              library="OpenSSL 1.1.1w  11 Sep 2023")
    new["cells"][0]["ops"][0]["native"]["error"] = "SSL_ERROR_SYSCALL"
    old = doc(IDS)
    aligned = results.align_baseline(new, old)
    assert [c["id"] for c in aligned["cells"]] == [c["id"] for c in new["cells"]]
    assert aligned["tool"]["compared_stack"] == "openssl" and list(aligned["stacks"]) == \
        ["openssl-1.1.1w"]
    changes = diff(new, aligned)
    assert not changes["added"] and not changes["removed"]
    assert [c["id"] for c in changes["changed"]] == [new["cells"][0]["id"]]
    assert old["cells"][0]["id"] == IDS[0]                  # the input is left alone


def test_baseline_of_the_same_stacks_is_unchanged():
    a, b = doc(IDS), doc(IDS)
    assert results.align_baseline(a, b) is b
    two = doc(IDS)
    two["stacks"]["gnutls"] = dict(two["stacks"]["openssl"])
    assert results.align_baseline(doc(IDS[:1]), two) is two


def test_run_records_the_corpus_and_case_digests(tmp_path):
    """Without running a cell: an unavailable stack only gives SKIP cells."""
    stack = tmp_path / "absent.toml"
    stack.write_text('name = "absent"\ntitle = "t"\napi = "openssl"\n'
                     'command = ["{bin}/no-such-shim"]\ntls = ["1.3"]\nroles = ["client"]\n'
                     'io = ["memory"]\n')
    rc = cli.main(["run", "--stack-file", str(stack), "--case", "peer-closes-first*",
                   "--out", str(tmp_path / "out"), "--no-report", "--shard", "1/1",
                   "--build-dir", str(tmp_path / "no-build")])
    assert rc == 0
    got = json.loads((tmp_path / "out" / "results.json").read_text())
    assert got["tool"]["corpus"] == results.corpus_digest(
        sorted((ROOT / "cases").glob("*.toml")))
    entry = got["cases"]["peer-closes-first-shutdown-returns-one"]
    assert entry["sha256"] == results.file_digest(
        ROOT / "cases" / "peer-closes-first-shutdown-returns-one.toml")
    assert got["tool"]["shard"]["index"] == 1 and got["tool"]["shard"]["count"] == 1
