"""docs/your-stack.md: the example shim and stack file are the page's own
code blocks, the block builds as the page says, and the whole matrix runs
with it: every cell PASS, SKIP (exit 77 or what the stack file excludes) or
KNOWN (its documented deviation), never FAIL or ERROR."""
from __future__ import annotations

import json
import subprocess

from support.build import BIN, ROOT, require_built
from support.front_door import run_out
from support.your_stack import build_example, doc_blocks, stack_file

EXAMPLE_TOML = "stacks/example/example.toml"
EXAMPLE_C = "stacks/example/shim_example.c"


def test_the_tree_holds_the_doc_blocks_word_for_word():
    blocks = doc_blocks()
    assert set(blocks) == {EXAMPLE_C, EXAMPLE_TOML}
    for path, text in blocks.items():
        assert (ROOT / path).read_text() == text, f"{path} differs from docs/your-stack.md"


def test_doc_block_builds_and_says_its_version(tmp_path):
    binary = build_example(tmp_path)
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0
    hello = json.loads(done.stdout)
    assert hello["shim"] == "example" and hello["api"] == "native"
    assert hello["library"].startswith("OpenSSL ")


def test_doc_block_runs_the_matrix(tmp_path):
    require_built()
    binary = build_example(tmp_path)
    toml = doc_blocks()[EXAMPLE_TOML].replace('"{bin}/tlsclose-shim-example"', f'"{binary}"')
    assert str(binary) in toml
    stack = stack_file(tmp_path, "example", toml)
    rc, doc, out = run_out("run", tmp_path / "out", "--stack-file", stack, "-j", "2")
    assert rc == 0, out
    cells = doc["cells"]
    counts = {v: sum(c["verdict"] == v for c in cells) for v in ("PASS", "SKIP", "KNOWN")}
    assert sum(counts.values()) == len(cells), out
    assert counts["PASS"] >= 60, counts
    # The KNOWN cells are exactly the stack file's entries (OpenSSL's TLS 1.2 alert parsing).
    assert {c["case"] for c in cells if c["verdict"] == "KNOWN"} == \
        {"tls12-fragmented-close-notify-is-a-close", "tls12-coalesced-alerts-are-legal"}
    for c in cells:
        if c["verdict"] == "SKIP":
            assert (c["reason"].startswith("shim: the example")
                    or "does not support IO mode" in c["reason"]
                    or c["reason"].startswith("only api-level expectations")), c["reason"]
        if c["verdict"] == "PASS":
            assert c["ops"][0]["shim"] == "example" and c["ops"][-1] == {"end": "ok"}


def test_the_cmake_target_is_the_same_shim(tmp_path):
    require_built()
    binary = BIN / "tlsclose-shim-example"
    assert binary.exists(), "not built: target tlsclose-shim-example"
    rc, doc, out = run_out("run", tmp_path, "--stack-file", ROOT / EXAMPLE_TOML, "--case",
                           "peer-closes-first-shutdown-returns-one", "--io", "blocking")
    assert rc == 0, out
    assert [c["verdict"] for c in doc["cells"]] == ["PASS"] * 4, out
    assert doc["stacks"]["example"]["library"].startswith("OpenSSL ")
