"""`tlsclose run --shard K/N` (harness/run/shard.py): deterministic, balanced,
stable shards, and two shards merged equal one unsharded run cell for cell.

The end-to-end test needs the built peer and OpenSSL shim
($TLSCLOSE_BUILD_DIR or build/) and is skipped with the reason without them.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.output.results import exit_code
from harness.run import shard
from harness.run.matrix import expand
from harness.spec import corpus
from harness.spec.stack import load_stack
from reports.diff import native_signature
from support.build import BIN, BUILD, PEER, ROOT
from support.front_door import results, tlsclose

BUILT = all(p.exists() for p in (PEER, BIN / "tlsclose-shim-openssl",
                                 BUILD / "credentials" / "cert.pem"))


def corpus_ids(skip_case: str | None = None) -> list[str]:
    cases = [c for c in corpus.load_cases(corpus.case_files(ROOT / "cases"), ROOT)
             if c.id != skip_case]
    stacks = [load_stack(ROOT / "stacks" / s / f"{s}.toml", ROOT) for s in ("openssl", "gnutls")]
    return [c.id for c in expand(cases, stacks)]


def assignment(ids: list[str], n: int) -> dict[str, int]:
    return {ids[i]: k for k in range(1, n + 1) for i in shard.select(ids, k, n)}


@pytest.mark.parametrize("text, want", [("1/1", (1, 1)), ("2/4", (2, 4)), (" 4 / 4 ", (4, 4))])
def test_parse(text, want):
    assert shard.parse(text) == want


@pytest.mark.parametrize("text, problem", [("0/4", "K must be between 1 and N"),
                                           ("5/4", "K must be between 1 and N"),
                                           ("1/0", "N must be between 1 and"),
                                           ("1", "is not K/N"), ("a/b", "is not K/N"),
                                           ("-1/4", "is not K/N")])
def test_parse_rejects(text, problem):
    with pytest.raises(ValueError, match=problem):
        shard.parse(text)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16])
def test_shards_are_disjoint_complete_balanced_and_ordered(n):
    ids = [f"case{i // 12}/openssl/tls1.3/io{i % 3}/r{i % 2}-{i}" for i in range(421)]
    parts = [shard.select(ids, k, n) for k in range(1, n + 1)]
    flat = [i for part in parts for i in part]
    assert sorted(flat) == list(range(len(ids)))
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert all(part == sorted(part) for part in parts)      # the run keeps matrix order


def test_more_shards_than_cells_leaves_some_empty():
    parts = [shard.select(["a", "b"], k, 4) for k in range(1, 5)]
    assert sorted(len(p) for p in parts) == [0, 0, 1, 1]


def test_the_assignment_is_pinned():
    """SHA-256 of the id, never Python's seeded hash: every runner, every
    Python and every later version agree on where a cell goes."""
    ids = [f"c{i}/openssl/tls1.3/memory/client" for i in range(8)]
    assert [shard.select(ids, k, 4) for k in range(1, 5)] == [[0, 1], [4, 5], [2, 6], [3, 7]]
    assert shard.describe(ids, 2, 4)["selection"] == shard.selection_digest(list(reversed(ids)))


def test_adding_one_cell_moves_at_most_n_minus_one():
    ids = [f"case{i}/s/tls1.3/memory/client" for i in range(300)]
    for n in (2, 4, 8):
        before = assignment(ids, n)
        after = assignment(ids + ["new/s/tls1.3/memory/client"], n)
        assert sum(before[i] != after[i] for i in ids) <= n - 1


def test_adding_a_case_keeps_most_cells_in_their_shard():
    ids = corpus_ids()
    without = corpus_ids(skip_case="peer-closes-first-shutdown-returns-one")
    added = len(ids) - len(without)
    before, after = assignment(without, 4), assignment(ids, 4)
    moved = sum(before[i] != after[i] for i in without)
    assert added > 0 and moved <= 3 * added
    assert moved <= len(without) // 10, f"{moved} of {len(without)} cells moved"


def test_bad_shard_is_a_usage_error():
    done = tlsclose("run", "--shard", "5/4", build=None, timeout=60)
    assert done.returncode == 2 and "K must be between 1 and N" in done.stderr


def run(out: Path, *args: str) -> dict:
    tlsclose("run", "--stack", "openssl", "--out", out, *args, timeout=900)
    return results(out)


def natives(cell: dict) -> list:
    return [(op["step"], native_signature(op)) for op in cell["ops"] if "step" in op]


@pytest.mark.skipif(not BUILT, reason=f"the peer and the OpenSSL shim are not built in {BUILD}")
def test_two_shards_merged_equal_one_unsharded_run(tmp_path):
    pieces = [run(tmp_path / f"shard{k}", "--shard", f"{k}/2", "--no-report") for k in (1, 2)]
    whole = run(tmp_path / "whole", "--no-report")
    assert all(p["tool"]["shard"]["selection"] == pieces[0]["tool"]["shard"]["selection"]
               for p in pieces)
    assert abs(len(pieces[0]["cells"]) - len(pieces[1]["cells"])) <= 1
    done = tlsclose("merge", tmp_path / "shard1" / "results.json",
                    tmp_path / "shard2" / "results.json", "--out", tmp_path / "merged",
                    build=None, timeout=300)
    merged = results(tmp_path / "merged")
    # The merge's exit status is the unsharded run's: 0, or 1 while the corpus has cases
    # the stack FAILs that its stack file does not document yet; never 2 or 3.
    assert done.returncode == exit_code(whole), done.stdout + done.stderr
    assert done.returncode in (0, 1)
    assert [c["id"] for c in merged["cells"]] == [c["id"] for c in whole["cells"]]
    for a, b in zip(merged["cells"], whole["cells"]):
        assert (a["verdict"], natives(a)) == (b["verdict"], natives(b)), a["id"]
    assert merged["summary"] == whole["summary"]
    assert merged["tool"]["corpus"] == whole["tool"]["corpus"]
    assert not merged["tool"]["incomplete"]
    assert (tmp_path / "merged" / "junit.xml").is_file()
    assert (tmp_path / "merged" / "index.html").is_file()
