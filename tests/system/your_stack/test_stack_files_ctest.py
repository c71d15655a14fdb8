"""-DTLSCLOSE_STACK_FILES: ctest entries CASE@NAME for stack files outside
the tree, from the generator and from a real configure."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from harness.commands import ctest_entries
from support.build import ROOT
from support.your_stack import stack_file

EXAMPLE = ROOT / "stacks" / "example" / "example.toml"


def test_generator_adds_entries_per_stack_file(tmp_path):
    other = stack_file(tmp_path, "outside", EXAMPLE.read_text().replace(
        'name = "example"', 'name = "outside"').replace('io = ["blocking"]',
                                                        'io = ["memory"]'))
    text, problems = ctest_entries.generate(ROOT, tmp_path / "build", ["openssl", "gnutls"],
                                            "/usr/bin/python3",
                                            [Path("stacks/example/example.toml"), other])
    assert problems == []
    case = "sut-closes-first-shutdown-returns-zero"
    line = next(li for li in text.splitlines()
                if li.startswith(f"add_test(NAME [=[{case}@example]=]"))
    assert f"[=[--stack-file]=] [=[{EXAMPLE}]=]" in line and "[=[--stack]=]" not in line
    props = next(li for li in text.splitlines()
                 if li.startswith(f"set_tests_properties([=[{case}@example]=]"))
    assert "LABELS [=[conformance;example;tls1.2;tls1.3;blocking;client;server;" in props
    assert f"add_test(NAME [=[{case}@outside]=]" in text
    assert f"add_test(NAME [=[{case}@openssl]=]" in text
    inputs = re.search(r"set\(TLSCLOSE_MATRIX_INPUTS (.*)\)", text).group(1)
    assert f"[=[{EXAMPLE}]=]" in inputs and f"[=[{other}]=]" in inputs


def test_a_taken_name_gets_no_entries(tmp_path):
    text, problems = ctest_entries.generate(ROOT, tmp_path / "build", ["openssl", "gnutls"],
                                            "/usr/bin/python3", [Path("stacks/openssl/openssl.toml")])
    assert any("already registered" in str(p) for p in problems)
    names = re.findall(r"add_test\(NAME \[=\[([^\]]+)\]=\]", text)
    assert len(names) == len(set(names))


def test_configure_registers_them(tmp_path):
    if not shutil.which("cmake"):
        raise AssertionError("cmake missing")
    other = stack_file(tmp_path, "outside", EXAMPLE.read_text().replace(
        'name = "example"', 'name = "outside"'))
    build = tmp_path / "build"
    files = f"stacks/example/example.toml;{other}"
    done = subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja",
                           f"-DTLSCLOSE_STACK_FILES={files}"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = subprocess.run(["ctest", "--test-dir", str(build), "-N", "-L", "outside"],
                            capture_output=True, text=True, timeout=60).stdout
    assert "sut-closes-first-shutdown-returns-zero@outside" in listed
    listed = subprocess.run(["ctest", "--test-dir", str(build), "-N", "-R", "@example$"],
                            capture_output=True, text=True, timeout=60).stdout
    assert "sut-closes-first-shutdown-returns-zero@example" in listed
