"""One real cell per default stack: the mock peer against each shim.

Needs the built programs (build/bin, or $TLSCLOSE_BUILD_DIR/bin); skipped
with the reason when they are missing, so the rest of the suite never
depends on the C programs."""
from __future__ import annotations

import os
from collections import Counter

import pytest

from harness.output import results
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
    doc = results.load(tmp_path / "out" / "results.json")
    (cell,) = doc["cells"]
    assert (rc, cell["verdict"]) == (0, "PASS"), cell["reason"] + err
    assert doc["stacks"][name]["library"]
    assert any(e.get("alert") == "close_notify" and e.get("dir") == "recv"
               for e in cell["wire"])
    # TLS 1.3: five rfc checks (the TLS 1.2 rule has none), seven model checks
    # (on GnuTLS, model = "none", recorded only), three api values on OpenSSL.
    levels = Counter(c["level"] for c in cell["checks"])
    assert levels == {"rfc": 5, "model": 7, **({"api": 3} if api == "openssl" else {})}
    assert all(c["ok"] or c.get("difference") for c in cell["checks"])
    assert doc["stacks"][name]["model"] == ("ssl_shutdown" if api == "openssl" else "none")
