"""pytest as the matrix driver (harness/pytest_plugin.py): cells as items.

The plugin runs in a pytest of its own (a subprocess), as a user runs it.
Needs the built peer and shims ($TLSCLOSE_BUILD_DIR or build/); skipped with
the reason when they are missing. The parity test runs a sample of cells
three ways - `tlsclose run`, the ctest entries' own commands and pytest - and
demands one verdict per cell; the sample holds every verdict the default
stacks and a deliberately broken stack give (PASS, KNOWN, SKIP, FAIL).
"""
from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.run.matrix import Selection, expand
from harness.spec import corpus
from harness.spec.stack import load_stack
from support.build import BIN, BUILD, CERT, KEY, PEER, PYTHON, ROOT
from support.front_door import results, tlsclose

LIAR = ROOT / "tests" / "system" / "broken_stacks" / "liar-ret-one.toml"
NEEDED = [PEER, BIN / "tlsclose-shim-openssl", BIN / "tlsclose-shim-gnutls", CERT, KEY]
MISSING = [str(p) for p in NEEDED if not p.exists()]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"not built: {', '.join(MISSING)}")

# openssl: PASS and KNOWN; gnutls: PASS, KNOWN and SKIP; the liar: FAIL.
SAMPLE = ["quiet-shutdown-sends-no-close-notify", "shutdown-wants-write-when-peer-stops-reading",
          "user-canceled-alone-is-not-fatal", "sut-closes-first-shutdown-returns-zero"]
TIMEOUT_S = 600


def case_file(case: str) -> str:
    return f"cases/{case}.toml"


def run_pytest(paths: list, *args: object, cache: Path | None = None,
               early: list[str] = ()) -> subprocess.CompletedProcess:
    """The paths go first: pytest finds cases/conftest.py (and so the
    plugin's options) through the first paths of its command line."""
    cache_opts = ["-o", f"cache_dir={cache}"] if cache else ["-p", "no:cacheprovider"]
    return subprocess.run([PYTHON, "-m", "pytest", *early, *map(str, paths), *cache_opts,
                           "--build-dir", str(BUILD), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def junit(path: Path) -> dict[str, dict]:
    """cell id -> {"verdict": property, "outcome": pytest's, "message": text}."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = "xfailed" if node.get("type") == "pytest.xfail" else tag
                message = node.get("message") or ""
        out[props["cell"]] = {"verdict": props["verdict"], "outcome": outcome,
                              "message": message, "name": f"{case.get('classname')}::"
                                                          f"{case.get('name')}"}
    return out


def tlsclose_run(tmp: Path, *args: object) -> dict[str, dict]:
    tlsclose("run", "--no-report", "--out", tmp, *args, timeout=TIMEOUT_S)
    return {c["id"]: c for c in results(tmp)["cells"]}


def ctest_commands(cases: list[str], stacks: list[str]) -> list[list[str]]:
    """The commands ctest runs for these entries (ctest --show-only)."""
    names = "|".join(f"{c}@{s}" for c in cases for s in stacks)
    done = subprocess.run(["ctest", "--test-dir", str(BUILD), "--show-only=json-v1",
                           "-R", f"^({names})$"], capture_output=True, text=True, timeout=60)
    tests = json.loads(done.stdout)["tests"] if done.returncode == 0 else []
    # ctest adds the matrix-daemon fixture's entries; the entries themselves
    # are thin clients that run the harness when no daemon answers.
    return [t["command"] for t in tests if "@" in t["name"]]


@pytest.mark.parametrize("early", [[], ["-p", "harness.commands.pytest_plugin"]],
                         ids=["conftest", "conftest-and-p"])
def test_cells_are_items_with_readable_ids(early):
    done = run_pytest(list(map(case_file, SAMPLE[:2])), "--collect-only", "-q", "--stack",
                      "openssl", "--stack", "gnutls", "--tls", "1.3", early=early)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    cases = corpus.load_cases([ROOT / case_file(c) for c in SAMPLE[:2]], ROOT)
    stacks = [load_stack(ROOT / "stacks" / s / f"{s}.toml", ROOT) for s in ("openssl", "gnutls")]
    cells = expand(cases, stacks, None, Selection(tls=("1.3",)))
    assert ids == [f"cases/{c.case.id}.toml::{c.stack.name}-{c.tls}-{c.io}-{c.role}"
                   for c in cells]


def test_same_verdict_from_run_ctest_and_pytest(tmp_path):
    stacks = ["--stack", "openssl", "--stack", "gnutls", "--stack-file", LIAR]
    cases = [a for c in SAMPLE for a in ("--case", c)]
    by_run = tlsclose_run(tmp_path / "run", *stacks, *cases)
    done = run_pytest(list(map(case_file, SAMPLE)), *stacks, "-n", "2",
                      "--junitxml", tmp_path / "pytest.xml")
    by_pytest = junit(tmp_path / "pytest.xml")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr   # the liar FAILs
    assert {c["verdict"] for c in by_run.values()} == {"PASS", "KNOWN", "SKIP", "FAIL"}
    assert {k: c["verdict"] for k, c in by_run.items()} == \
        {k: c["verdict"] for k, c in by_pytest.items()}
    outcome = {"PASS": "passed", "FAIL": "failure", "KNOWN": "xfailed", "SKIP": "skipped"}
    for cell_id, cell in by_pytest.items():
        assert cell["outcome"] == outcome[cell["verdict"]], cell_id
        if cell["verdict"] in ("KNOWN", "SKIP"):
            assert by_run[cell_id]["reason"] in cell["message"], cell_id

    commands = ctest_commands(SAMPLE, ["openssl", "gnutls"])
    if not commands:
        pytest.skip(f"no ctest entries for the sample in {BUILD}")
    by_ctest = {}
    for i, command in enumerate(commands):
        at = command.index("--out")
        out = tmp_path / f"ctest{i}"
        subprocess.run(command[:at + 1] + [str(out)] + command[at + 2:], cwd=ROOT,
                       capture_output=True, env={**os.environ, "TLSCLOSE_BUILD_DIR": str(BUILD)},
                       timeout=TIMEOUT_S)
        by_ctest.update({c["id"]: c["verdict"] for c in
                         json.loads((out / "results.json").read_text())["cells"]})
    assert by_ctest == {k: c["verdict"] for k, c in by_run.items() if "/liar" not in k}


def test_a_fail_shows_the_expectation_diff(tmp_path):
    done = run_pytest([case_file("sut-closes-first-shutdown-returns-zero")], "--stack-file",
                      LIAR, "--tls", "1.3", "--io", "blocking", "--role", "client",
                      "--junitxml", tmp_path / "j.xml")
    assert done.returncode == 1, done.stdout + done.stderr
    [cell] = junit(tmp_path / "j.xml").values()
    message = cell["message"]
    assert message.startswith("FAIL: "), message
    assert "expectation diff (- expected, + actual):" in message
    assert "    - expected: 0\n    + actual:   1" in message
    assert "reproduce: ./tlsclose run --stack liar-ret-one" not in message   # a stack file
    assert "--stack-file" in message and "--case sut-closes-first-shutdown-returns-zero" in message
    assert "- expected: 0" in done.stdout and "+ actual:   1" in done.stdout


def test_markers_select_cells_under_strict_markers():
    expr = "openssl and tls1.3 and memory and server and S10"
    done = run_pytest(["cases/"], "--collect-only", "-q", "--strict-markers", "-m", expr,
                      "--stack", "openssl", "--stack", "gnutls")
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert ids
    for node in ids:
        path, name = node.split("::")
        assert name == "openssl-1.3-memory-server", node
        assert "S10" in corpus.load_cases([ROOT / path], ROOT)[0].cites, node


def test_exitfirst_and_last_failed(tmp_path):
    cache = tmp_path / "cache"
    paths = [case_file("sut-closes-first-shutdown-returns-zero")]
    args = ["--stack", "openssl", "--stack-file", LIAR, "--tls", "1.3"]
    first = run_pytest(paths, "-x", *args, cache=cache)
    assert first.returncode == 1 and "1 failed" in first.stdout, first.stdout
    full = run_pytest(paths, *args, cache=cache)
    failed = int(full.stdout.split(" failed")[0].split()[-1])
    passed = int(full.stdout.split(" passed")[0].split()[-1])
    assert failed and passed, full.stdout
    again = run_pytest(paths, "--lf", *args, cache=cache)
    assert f"{failed} failed, {passed} deselected" in again.stdout, again.stdout


def test_invalid_case_file_is_a_collection_error(tmp_path):
    bad = tmp_path / "bad-case.toml"
    bad.write_text('id = "bad-case"\ntitle = "no steps"\n')
    done = run_pytest([bad], "--stack", "openssl", early=["-p", "harness.commands.pytest_plugin"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ERROR collecting" in done.stdout and "bad-case.toml:" in done.stdout
    assert "steps" in done.stdout


def test_unknown_stack_is_a_usage_error():
    done = run_pytest(["cases/"], "--stack", "no-such-stack", "--collect-only")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--stack no-such-stack: no stack file" in done.stderr
