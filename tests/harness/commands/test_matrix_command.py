"""`tlsclose matrix`, the README's main job, around a stand-in for ctest.

The real ctest run is the conformance label (minutes); here `ctest` is
replaced by a function that writes the pieces a real run would write (one
real cell each, run through the front door), so the test checks what the
command itself does: it removes stale pieces, calls ctest on the build
tree, merges what the entries wrote into one results.json and report, and
picks the exit status."""
from __future__ import annotations

import argparse
import json
import os

import pytest

from harness.commands import matrix
from support.build import BUILD

PROGRAMS = ["tlsclose-peer", "tlsclose-shim-openssl"]
MISSING = [p for p in PROGRAMS if not os.access(BUILD / "bin" / p, os.X_OK)]
CASES = ("peer-closes-first-shutdown-returns-one", "peer-fin-without-close-notify-is-truncation")


@pytest.fixture
def pieces(tmp_path, run_cli):
    """Two real one-cell results.json, as two ctest entries would write them."""
    made = {}
    for case in CASES:
        out = tmp_path / "made" / case
        rc, _, err = run_cli("run", "--no-build", "--build-dir", BUILD, "--stack", "openssl",
                             "--case", case, "--tls", "1.3", "--io", "blocking",
                             "--role", "client", "--out", out, "--no-report")
        assert rc == 0, err
        made[case] = (out / "results.json").read_text()
    return made


@pytest.mark.skipif(bool(MISSING), reason=f"not built in {BUILD}: {', '.join(MISSING)}")
def test_matrix_merges_what_ctest_wrote_and_drops_stale_pieces(tmp_path, monkeypatch, pieces,
                                                               capsys):
    build = tmp_path / "build"
    stale = build / "matrix" / "stale-entry"
    stale.mkdir(parents=True)
    (stale / "results.json").write_text("not what this run wrote")
    calls = []

    def fake_ctest(argv, env=None):
        calls.append(argv)
        for case, text in pieces.items():
            (build / "matrix" / case).mkdir(parents=True, exist_ok=True)
            (build / "matrix" / case / "results.json").write_text(text)
        return 0

    monkeypatch.setattr(matrix, "build_dir", lambda: build)
    monkeypatch.setattr(matrix.subprocess, "call", fake_ctest)
    out = tmp_path / "out"
    rc = matrix.run(_args(out), [])
    capsys.readouterr()
    assert rc == 0
    (argv,) = calls
    assert argv[:5] == ["ctest", "--test-dir", str(build), "-L", "conformance"]
    assert not (stale / "results.json").exists()
    doc = json.loads((out / "results.json").read_text())
    assert sorted(c["case"] for c in doc["cells"]) == sorted(CASES)
    assert (out / "index.html").is_file() and (out / "junit.xml").is_file()


def test_matrix_without_pieces_is_broken(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(matrix, "build_dir", lambda: tmp_path / "build")
    monkeypatch.setattr(matrix.subprocess, "call", lambda argv, env=None: 8)
    assert matrix.run(_args(tmp_path / "out"), []) == 3
    assert "no results were written by ctest" in capsys.readouterr().err


def _args(out):
    return argparse.Namespace(out=out, jobs="2")
