"""`tlsclose probe` against real black boxes: openssl s_server and gnutls-serv
(--connect), openssl s_client (--listen). Every cell of the corpus's probe
cases runs; the verdicts must be PASS except where the endpoint's library or
application is documented to deviate (each entry below says where), and no
cell may be ERROR, TIMEOUT or CRASH."""
from __future__ import annotations

import shutil

import pytest

from support.build import require_built
from support.probe import gnutls_serv, probe, probe_cases, s_server, verdicts
from support.procfs import listening_ports, port_listened, processes_with

# OpenSSL takes alert records of exactly two bytes only, TLS 1.2 included, and refuses any
# other with a fatal unexpected_message: the deviations stacks/openssl/openssl.toml lists with
# their evidence (ssl/record/rec_layer_s3.c ssl3_read_bytes, alert branch: PACKET_remaining != 0
# -> SSLfatal(s, SSL_AD_UNEXPECTED_MESSAGE, SSL_R_INVALID_ALERT)). In TLS 1.2 a fragmented
# close_notify is legal (tls12-fragmented-alert-is-legal); in TLS 1.3 a fragmented, over-long or
# coalesced alert must be refused with decode_error (tls13-unparsable-alert-is-decode-error).
OPENSSL = {("tls12-fragmented-close-notify-is-a-close", "1.2"),
           ("tls13-fragmented-close-notify-is-rejected", "1.3"),
           ("tls13-close-notify-with-trailing-byte-is-decode-error", "1.3"),
           ("tls13-coalesced-alerts-are-rejected", "1.3")}

# gnutls-serv 3.7.9 = GnuTLS lib/record.c (record_add_to_buffers) + src/serv.c (tcp_server).
GNUTLS_SERV = {
    # an alert record shorter than two bytes is GNUTLS_E_UNEXPECTED_PACKET, in TLS 1.2 too
    ("tls12-fragmented-close-notify-is-a-close", "1.2"),
    # ... and in TLS 1.3 the alert that answers it is unexpected_message (the alert of
    # GNUTLS_E_UNEXPECTED_PACKET, lib/alert.c gnutls_error_to_alert), not decode_error
    ("tls13-fragmented-close-notify-is-rejected", "1.3"),
    # close_notify counts only if its level byte is not fatal; otherwise a fatal alert, after
    # which serv.c sets close_ok = 0 and closes without gnutls_bye
    ("tls13-close-notify-with-fatal-level-is-closure", "1.3"),
    # TLS 1.3: every alert but close_notify is fatal (tls13_sem). TLS 1.2: a warning alert
    # makes gnutls_record_recv return GNUTLS_E_WARNING_ALERT_RECEIVED, which serv.c treats as
    # the end of the connection: close_ok = 0, no gnutls_bye, no close_notify
    ("user-canceled-alone-is-not-fatal", "1.2"), ("user-canceled-alone-is-not-fatal", "1.3"),
    ("user-canceled-then-close-notify-is-not-fatal", "1.2"),
    ("user-canceled-then-close-notify-is-not-fatal", "1.3"),
    # Not here any more: tls13-close-notify-with-trailing-byte-is-decode-error. GnuTLS still
    # reads the first two bytes of the record as a close_notify (stacks/gnutls/gnutls.toml),
    # but the case's probe no longer judges a close_notify from a black box, which may close
    # unprompted at any moment (the case's [probe] says so).
}


def check(doc: dict, role: str, deviations: set) -> None:
    got = verdicts(doc)
    assert sorted(got) == probe_cases(role)
    broken = {k: v for k, v in got.items() if v not in ("PASS", "FAIL")}
    assert not broken, [c["reason"] for c in doc["cells"] if c["verdict"] not in
                        ("PASS", "FAIL")]
    failed = {k for k, v in got.items() if v == "FAIL"}
    assert failed == deviations, {c["id"]: c["reason"] for c in doc["cells"]
                                  if c["verdict"] == "FAIL"}
    for cell in doc["cells"]:
        assert cell["io"] == "blackbox" and cell["role"] == role and cell["ops"] == []
        assert cell["wire"][0]["ev"] == "start" and cell["wire"][-1]["ev"] == "end"
        assert cell["checks"], cell["id"]


def test_openssl_s_server(tmp_path):
    require_built()
    with s_server() as server:
        port = int(server.match.group(1))
        rc, doc, out = probe(tmp_path, "--connect", f"127.0.0.1:{port}")
    assert rc == 1, out                                   # the documented FAIL
    name = f"probe:127.0.0.1:{port}"
    assert list(doc["stacks"]) == [name]
    assert doc["stacks"][name]["probe"] == {"mode": "connect", "endpoint": f"127.0.0.1:{port}",
                                           "role": "server"}
    check(doc, "server", OPENSSL)
    cell = next(c for c in doc["cells"] if c["case"] == "tls12-close-notify-answered-at-once")
    assert cell["command"] == (f"./tlsclose probe --connect 127.0.0.1:{port} --case "
                               "tls12-close-notify-answered-at-once --tls 1.2")
    assert (tmp_path / "index.html").is_file() and (tmp_path / "junit.xml").is_file()


def test_gnutls_serv(tmp_path):
    require_built()
    if not shutil.which("gnutls-serv"):
        pytest.skip("gnutls-serv missing: apt-get install gnutls-bin")
    with gnutls_serv() as server:
        port = listening_ports(server.proc.pid)[0]
        rc, doc, out = probe(tmp_path, "--connect", f"127.0.0.1:{port}")
    assert rc == 1, out
    check(doc, "server", GNUTLS_SERV)


def test_openssl_s_client_by_listen(tmp_path):
    require_built()
    token = "-servername probe-s-client-test"     # finds the test's clients in /proc
    rc, doc, out = probe(tmp_path, "--listen", "0", "--client-cmd",
                         f"openssl s_client -connect 127.0.0.1:{{port}} {token}")
    assert rc == 1, out
    (name,) = doc["stacks"]
    port = int(name.rsplit(":", 1)[1])
    assert doc["stacks"][name]["probe"]["client_cmd"] == \
        f"openssl s_client -connect 127.0.0.1:{port} {token}"
    check(doc, "client", OPENSSL)
    assert all(c["stderr"]["sut"] for c in doc["cells"])
    # Command lines are kept for the cells worth running again: the FAILs here.
    kept = [c for c in doc["cells"] if "argv" in c]
    assert {(c["case"], c["tls"]) for c in kept} == OPENSSL
    assert all(c["argv"]["sut"][:2] == ["/bin/sh", "-c"] for c in kept)
    # Bounded: no client left running, nothing left listening.
    assert processes_with(token) == []
    assert not port_listened(port)
