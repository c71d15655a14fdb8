"""One real cell per default stack: the mock peer against each shim.

Needs the built programs (build/bin, or $TLSCLOSE_BUILD_DIR/bin); skipped
with the reason when they are missing, so the rest of the suite never
depends on the C programs."""
from __future__ import annotations

import json
import os

import pytest

from support.build import BUILD
from support.harness_files import write_stack

PROGRAMS = ["tlsclose-peer", "tlsclose-shim-openssl", "tlsclose-shim-gnutls"]
MISSING = [p for p in PROGRAMS if not os.access(BUILD / "bin" / p, os.X_OK)]
MISSING += [c for c in ("cert.pem", "key.pem") if not (BUILD / "credentials" / c).is_file()]


@pytest.mark.skipif(bool(MISSING), reason=f"not built in {BUILD}: {', '.join(MISSING)}")
@pytest.mark.parametrize("name, api", [("openssl", "openssl"), ("gnutls", "native")])
def test_peer_closes_first_against_real_stack(tmp_path, run_cli, name, api):
    stack = write_stack(tmp_path, name=name, api=api, command=[f"{{bin}}/tlsclose-shim-{name}"])
    rc, out, err = run_cli("run", "--build-dir", BUILD, "--stack-file", stack,
                           "--case", "peer-closes-first-shutdown-returns-one",
                           "--tls", "1.3", "--io", "nonblocking", "--role", "client",
                           "--out", tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    (cell,) = doc["cells"]
    assert (rc, cell["verdict"]) == (0, "PASS"), cell["reason"] + err
    assert doc["stacks"][name]["library"]
    assert any(e.get("alert") == "close_notify" and e.get("dir") == "recv"
               for e in cell["wire"])
    assert len([c for c in cell["checks"] if c["level"] == "api"]) == (7 if api == "openssl"
                                                                       else 0)
