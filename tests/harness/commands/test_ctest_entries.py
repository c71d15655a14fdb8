"""The ctest matrix file generated at configure time."""
from __future__ import annotations

import re

from harness.commands import ctest_entries
from support.harness_files import VALID_CASE, write_case, write_stack

TLS13 = VALID_CASE.replace("[peer]", '[applies]\ntls = ["1.3"]\n\n[peer]')


def generate(tmp_path, stacks=("fake", "missing")):
    root, build = tmp_path / "src", tmp_path / "build"
    return root, build, ctest_entries.generate(root, build, list(stacks), "/usr/bin/python3")


def test_one_entry_per_case_and_stack_with_labels(tmp_path):
    root = tmp_path / "src"
    write_case(root / "cases", TLS13)
    stack = write_stack(root / "stacks")
    stack.write_text(stack.read_text().replace('roles = ["client", "server"]',
                                               'roles = ["server"]'))
    _, build, (text, problems) = generate(tmp_path)
    assert problems == []
    names = re.findall(r"add_test\(NAME \[=\[([^\]]+)\]=\]", text)
    assert names == ["matrix-daemon-start", "matrix-daemon-stop", "example-case@fake",
                     "example-case@missing", "cases-check"]
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if "NAME [=[example-case@fake]=]" in line)
    fake = lines[at:at + 2]
    assert f"[=[{build}/bin/tlsclose-ctest-client]=] [=[{build}/matrix/daemon.sock]=] " \
           f"[=[/usr/bin/python3]=] [=[{root}/tlsclose]=] [=[--no-build]=] [=[--case]=] " \
           "[=[example-case]=] [=[--stack]=] [=[fake]=] [=[--out]=] " \
           f"[=[{build}/matrix/example-case@fake]=]" in fake[0]
    assert "FIXTURES_REQUIRED matrix-daemon" in fake[1]
    # Narrowed by the case (1.3 only) and by the stack file (server only).
    assert "LABELS [=[conformance;fake;tls1.3;blocking;nonblocking;memory;server;S1;S10;S14;R1;" \
           "R2]=]" in fake[1]
    assert "TIMEOUT 60 " in fake[1]          # 3 cells x (8 s + 2 s) + 30 s
    assert f"ENVIRONMENT [=[TLSCLOSE_BUILD_DIR={build}]=]" in fake[1]
    inputs = re.search(r"set\(TLSCLOSE_MATRIX_INPUTS (.*)\)", text).group(1)
    for path in (root / "cases", root / "cases" / "example-case.toml", root / "stacks",
                 root / "stacks" / "fake.toml"):
        assert f"[=[{path}]=]" in inputs


def test_invalid_case_gets_no_entry_but_does_not_fail(tmp_path):
    root = tmp_path / "src"
    write_case(root / "cases", VALID_CASE)
    write_case(root / "cases", VALID_CASE.replace('op = "shutdown"', 'op = "nope"'),
               name="broken")
    _, _, (text, problems) = generate(tmp_path, stacks=("fake",))
    assert "example-case@fake" in text and "broken@" not in text
    assert any("broken.toml" in str(p) for p in problems)


def test_cli_writes_file_only_when_changed(tmp_path):
    root = tmp_path / "src"
    write_case(root / "cases", VALID_CASE)
    out = tmp_path / "build" / "matrix" / "entries.cmake"
    args = ["--root", str(root), "--build", str(tmp_path / "build"), "--output", str(out)]
    assert ctest_entries.main(args) == 0
    first = out.stat().st_mtime_ns
    assert ctest_entries.main(args) == 0
    assert out.stat().st_mtime_ns == first
