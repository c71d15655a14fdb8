"""A stack file's `prefix` (a wrapper argv) and `env` (extra variables, a
library path, LD_PRELOAD) reach the shim, both for `--version` and for every
cell, and never the mock peer."""
from __future__ import annotations

import subprocess

from support.build import BIN, require_built
from support.front_door import run_out
from support.your_stack import stack_file
CASE = ("--case", "peer-closes-first-shutdown-returns-one", "--tls", "1.3", "--io", "blocking",
        "--role", "client")
STACK = """\
name = "{name}"
title = "The example shim, {name}"
api = "native"
command = ["{{bin}}/tlsclose-shim-example"]
{extra}
tls = ["1.2", "1.3"]
roles = ["client", "server"]
io = ["blocking"]
"""

MARK_SO = r"""
#include <stdio.h>
#include <stdlib.h>
/* Appends the command line of every process that loads it to $MARK_FILE. */
__attribute__((constructor)) static void mark(void)
{
    const char *path = getenv("MARK_FILE");
    char cmd[4096] = "";
    FILE *in = fopen("/proc/self/cmdline", "r"), *out = path ? fopen(path, "a") : NULL;
    size_t n = in ? fread(cmd, 1, sizeof cmd - 1, in) : 0;
    for (size_t i = 0; i < n; i++) cmd[i] = cmd[i] ? cmd[i] : ' ';
    if (out) fprintf(out, "%s\n", cmd);
    if (out) fclose(out);
    if (in) fclose(in);
}
"""


def test_prefix_wraps_the_shim_with_env(tmp_path):
    require_built()
    log = tmp_path / "wrapper.log"
    wrapper = tmp_path / "wrap.sh"
    wrapper.write_text('#!/bin/sh\necho "$WRAP_MARK $*" >> "$WRAP_LOG"\nexec "$@"\n')
    wrapper.chmod(0o755)
    extra = (f'prefix = ["{wrapper}"]\n'
             f'env = {{WRAP_MARK = "wrapped", WRAP_LOG = "{log}"}}')
    stack = stack_file(tmp_path, "wrapped", STACK.format(name="wrapped", extra=extra))
    rc, doc, out = run_out("run", tmp_path / "out", "--stack-file", stack, *CASE)
    assert rc == 0, out
    (cell,) = doc["cells"]
    assert cell["verdict"] == "PASS", cell["reason"]
    # results.json keeps argv only for cells that did not pass; the wrapper's
    # log shows the command line instead.
    assert "argv" not in cell
    lines = log.read_text().splitlines()
    shim = str(BIN / "tlsclose-shim-example")
    assert lines[0] == f"wrapped {shim} --version"          # the version call goes through it
    assert lines[1].startswith(f"wrapped {shim} --role client --tls 1.3 --io blocking")
    assert len(lines) == 2
    assert doc["stacks"]["wrapped"]["library"].startswith("OpenSSL ")


def test_env_preloads_a_library_into_the_shim_only(tmp_path):
    require_built()
    src, lib, marks = tmp_path / "mark.c", tmp_path / "libmark.so", tmp_path / "marks"
    src.write_text(MARK_SO)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    extra = f'env = {{LD_PRELOAD = "{lib}", MARK_FILE = "{marks}"}}'
    stack = stack_file(tmp_path, "preloaded", STACK.format(name="preloaded", extra=extra))
    rc, doc, out = run_out("run", tmp_path / "out", "--stack-file", stack, *CASE)
    assert rc == 0, out
    assert doc["cells"][0]["verdict"] == "PASS"
    lines = marks.read_text().splitlines()
    assert len(lines) == 2, lines                   # the version call and the cell's shim
    assert lines[0].endswith("tlsclose-shim-example --version ")
    assert "tlsclose-shim-example --role client" in lines[1]
    assert not any("tlsclose-peer" in line for line in lines)
