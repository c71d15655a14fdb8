"""Any OpenSSL build as a stack (cmake/openssl_roots.cmake): the system
OpenSSL given again as a root, -DTLSCLOSE_OPENSSL_ROOTS=/usr, becomes the
stack openssl-VERSION with its own shim, stack file and ctest entries, and
gives the verdicts of the `openssl` stack.

The test configures a build tree of its own under $TLSCLOSE_BUILD_DIR (kept
between runs, so a rerun only rebuilds what changed). More roots, such as an
OpenSSL 1.1.1 built into a prefix (docs/your-stack.md), are tested too when
$TLSCLOSE_OPENSSL_ROOTS names them: their shim must report the root's own
version and the version-keyed expectations must select it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.base import versions
from harness.run.checks import api_expectations
from harness.run.matrix import expand
from harness.spec.corpus import load_cases
from harness.spec.stack import load_stack
from support.build import BUILD, ROOT
from support.front_door import results, tlsclose

TREE = BUILD / "openssl-roots-test"
EXTRA = list(dict.fromkeys(r for r in os.environ.get("TLSCLOSE_OPENSSL_ROOTS", "").split(";")
                           if r.strip() and Path(r).resolve() != Path("/usr")))
SAMPLE = ["peer-fin-without-close-notify-is-truncation", "sut-closes-first-shutdown-returns-zero",
          "shutdown-wants-write-when-peer-stops-reading"]
TOOLS = [shutil.which(t) for t in ("cmake", "ninja")]
pytestmark = pytest.mark.skipif(not all(TOOLS) or not Path("/usr/include/openssl/opensslv.h")
                                .is_file(), reason="needs cmake, ninja and libssl-dev")


def header_version(root: str) -> str:
    text = (Path(root) / "include/openssl/opensslv.h").read_text()
    return re.search(r'OPENSSL_VERSION_TEXT\s+"OpenSSL (\S+)', text).group(1)


def configure(tree: Path, roots: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tree), "-G", "Ninja",
                           f"-DTLSCLOSE_OPENSSL_ROOTS={';'.join(roots)}"],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tree() -> Path:
    roots = ["/usr", *EXTRA]
    done = configure(TREE, roots)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    targets = ["tlsclose-peer", "credentials", "tlsclose-shim-openssl",
               *[f"tlsclose-shim-openssl-{header_version(r)}" for r in roots]]
    built = subprocess.run(["cmake", "--build", str(TREE), "-j", "2", "--target", *targets],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    return TREE


def run(tree: Path, out: Path, stack: str, *cases: str) -> dict:
    args = [a for c in cases for a in ("--case", c)]
    tlsclose("run", "--stack", stack, "--no-report", "--out", out, *args, build=tree)
    return results(out)


def test_the_root_becomes_a_stack_file_made_from_openssl_toml(tree):
    version = header_version("/usr")
    made = load_stack(tree / "stacks" / f"openssl-{version}.toml", ROOT)
    template = load_stack(ROOT / "stacks" / "openssl" / "openssl.toml", ROOT)
    assert made.name == f"openssl-{version}" and made.packages == []
    assert made.command == [f"{{bin}}/tlsclose-shim-openssl-{version}"]
    assert (made.api, made.tls, made.io, made.roles) == \
        (template.api, template.tls, template.io, template.roles)
    assert [(k.case, k.versions, k.summary) for k in made.known] == \
        [(k.case, k.versions, k.summary) for k in template.known]


@pytest.mark.parametrize("index", range(1 + len(EXTRA)))
def test_each_shim_runs_its_roots_library(tree, index):
    root = (["/usr"] + EXTRA)[index]
    version = header_version(root)
    shim = tree / "bin" / f"tlsclose-shim-openssl-{version}"
    hello = json.loads(subprocess.run([str(shim), "--version"], capture_output=True,
                                      text=True, timeout=30).stdout)
    assert hello["library"].startswith(f"OpenSSL {version} ")
    libs = subprocess.run(["ldd", str(shim)], capture_output=True, text=True).stdout
    libssl = next(line for line in libs.splitlines() if "libssl" in line)
    assert Path(libssl.split("=>")[1].split()[0]).resolve().is_relative_to(
        Path(root).resolve()), libssl


def test_same_verdicts_as_the_openssl_stack(tree, tmp_path):
    version = header_version("/usr")
    mine = run(tree, tmp_path / "root", f"openssl-{version}", *SAMPLE)
    reference = run(tree, tmp_path / "ref", "openssl", *SAMPLE)
    assert mine["stacks"][f"openssl-{version}"]["library"] == \
        reference["stacks"]["openssl"]["library"]
    assert [(c["case"], c["tls"], c["io"], c["role"], c["verdict"]) for c in mine["cells"]] == \
        [(c["case"], c["tls"], c["io"], c["role"], c["verdict"]) for c in reference["cells"]]
    assert f"--stack openssl-{version} " in mine["cells"][0]["command"]


def test_ctest_has_an_entry_per_case_for_the_root(tree):
    version = header_version("/usr")
    listed = subprocess.run(["ctest", "--test-dir", str(tree), "-N", "-R",
                             f"@openssl-{re.escape(version)}$"],
                            capture_output=True, text=True, timeout=60).stdout
    ours = re.findall(r"Test +#\d+: (\S+)@openssl-", listed)
    default = subprocess.run(["ctest", "--test-dir", str(tree), "-N", "-R", "@openssl$"],
                             capture_output=True, text=True, timeout=60).stdout
    assert ours and ours == re.findall(r"Test +#\d+: (\S+)@openssl", default)


@pytest.mark.skipif(not EXTRA, reason="no extra root in $TLSCLOSE_OPENSSL_ROOTS")
@pytest.mark.parametrize("root", EXTRA)
def test_version_keyed_expectations_follow_the_root(tree, tmp_path, root):
    version = header_version(root)
    doc = run(tree, tmp_path / "extra", f"openssl-{version}", SAMPLE[0])
    cells = doc["cells"]
    assert cells and all(c["verdict"] == "PASS" for c in cells), \
        [(c["id"], c["reason"]) for c in cells if c["verdict"] != "PASS"]
    want = "SSL_ERROR_SYSCALL" if versions.as_tuple(version) < (3,) else "SSL_ERROR_SSL"
    errors = {op["native"]["error"] for c in cells for op in c["ops"]
              if op.get("outcome") == "truncated"}
    assert errors == {want}


def test_a_root_that_is_no_openssl_stops_configure(tmp_path):
    done = configure(tmp_path / "bad", [str(tmp_path / "nowhere")])
    assert done.returncode != 0
    assert "has no include/openssl/opensslv.h" in " ".join(done.stderr.split())


def test_a_root_taken_off_the_list_leaves_no_stack_file(tmp_path):
    other = tmp_path / "tree"
    assert configure(other, ["/usr"]).returncode == 0
    assert [p.name for p in (other / "stacks").glob("openssl-*.toml")] == \
        [f"openssl-{header_version('/usr')}.toml"]
    done = configure(other, [])
    assert done.returncode == 0, done.stderr
    assert not list((other / "stacks").glob("openssl-*.toml"))


def test_openssl_version_strings_select_their_ranges():
    """What OpenSSL_version prints, for the releases the roots are made of:
    the letter release sorts after the plain one, so ranges pick it."""
    old = versions.library_version("OpenSSL 1.1.1w  11 Sep 2023")
    assert old == (1, 1, 1, 23)
    assert versions.in_range(old, "<3.0") and versions.in_range(old, ">1.1.1")
    assert not versions.in_range(old, ">=3.0") and versions.in_range(old, "<1.1.2")
    assert versions.library_version("OpenSSL 3.2.1 30 Jan 2024") == (3, 2, 1)
    [case] = load_cases([ROOT / "cases" / f"{SAMPLE[0]}.toml"], ROOT)
    cell = expand([case], [load_stack(ROOT / "stacks" / "openssl" / "openssl.toml", ROOT)])[0]
    errors = {lib: {f.get("error") for f in api_expectations(cell.case, lib).values()} - {None}
              for lib in ("OpenSSL 1.1.1w  11 Sep 2023", "OpenSSL 3.0.19 27 Jan 2026")}
    assert errors == {"OpenSSL 1.1.1w  11 Sep 2023": {"SSL_ERROR_SYSCALL"},
                      "OpenSSL 3.0.19 27 Jan 2026": {"SSL_ERROR_SSL"}}
