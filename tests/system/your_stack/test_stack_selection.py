"""Stack selection: the default is openssl + gnutls, `--stack all` takes
every stack file under stacks/, and a stack that is not there is reported unavailable
(results.json and summary) with its cells SKIP, never ERROR."""
from __future__ import annotations

import shutil

from support.build import ROOT, require_built
from support.front_door import run_out
from support.your_stack import stack_file
CELL = ("--case", "sut-closes-first-shutdown-returns-zero", "--tls", "1.3", "--io", "blocking",
        "--role", "client")
MISSING_PKG = "libtlsclose-no-such-package-dev"
STACK = """\
name = "{name}"
title = "{name}"
api = "native"
command = [{command}]
tls = ["1.2", "1.3"]
roles = ["client", "server"]
io = ["blocking"]
packages = [{packages}]
"""


def stacks_dir(tmp_path, **extra):
    d = tmp_path / "stacks"
    d.mkdir()
    for name in ("openssl", "gnutls"):
        shutil.copy(ROOT / "stacks" / name / f"{name}.toml", d)
    for name, (command, packages) in extra.items():
        stack_file(d, name, STACK.format(name=name, command=command, packages=packages))
    return d


def test_default_is_openssl_and_gnutls(tmp_path):
    require_built()
    d = stacks_dir(tmp_path, absent=('"{bin}/tlsclose-shim-absent"', f'"{MISSING_PKG}"'))
    rc, doc, out = run_out("run", tmp_path / "out", "--stacks-dir", d, *CELL)
    assert rc == 0, out
    assert list(doc["stacks"]) == ["openssl", "gnutls"]


def test_all_reports_missing_stacks_as_unavailable(tmp_path):
    require_built()
    d = stacks_dir(tmp_path,
                   absent=('"{bin}/tlsclose-shim-absent"', f'"{MISSING_PKG}", "libssl-dev"'),
                   nolib=('"/bin/false"', f'"{MISSING_PKG}"'))
    rc, doc, out = run_out("run", tmp_path / "out", "--stacks-dir", d, "--stack", "all", *CELL)
    assert rc == 0, out
    assert list(doc["stacks"]) == ["openssl", "gnutls", "absent", "nolib"]
    hint = f"unavailable: apt-get install {MISSING_PKG} and rebuild"
    for name in ("absent", "nolib"):
        entry = doc["stacks"][name]
        assert entry["available"] is False and entry["hint"] == hint, entry
        (cell,) = [c for c in doc["cells"] if c["stack"] == name]
        assert (cell["verdict"], cell["reason"]) == ("SKIP", hint)
        assert f"note: stack {name} {hint}" in out
    for name in ("openssl", "gnutls"):
        assert doc["stacks"][name]["available"] is True
        assert [c["verdict"] for c in doc["cells"] if c["stack"] == name] == ["PASS"]


def test_a_shim_without_version_and_nothing_missing_is_an_error(tmp_path):
    require_built()
    d = stacks_dir(tmp_path, broken=('"/bin/false"', '"libssl-dev"'))
    rc, doc, out = run_out("run", tmp_path / "out", "--stacks-dir", d, "--stack", "broken", *CELL)
    assert rc == 3, out
    assert doc["stacks"]["broken"]["available"] is True
    assert "without a version line" in doc["stacks"]["broken"]["error"]
    assert doc["cells"][0]["verdict"] == "ERROR"


def test_all_with_a_name_again_selects_it_once(tmp_path):
    require_built()
    d = stacks_dir(tmp_path)
    rc, doc, out = run_out("run", tmp_path / "out", "--stacks-dir", d, "--stack", "all",
                           "--stack", "openssl", *CELL)
    assert rc == 0, out
    assert list(doc["stacks"]) == ["openssl", "gnutls"]
