"""Fixtures for the peer's HTTP tests (tests/peers/http); `progs` comes from
tests/peers/conftest.py, the helpers from support/peer_http.py.

Every test records what the real client or server reported (`observe`). At
the end of the session the records are written as observations.json and
observations.md (one table per role) to $TLSCLOSE_HTTP_OBSERVATIONS, else
$TLSCLOSE_BUILD_DIR/peer-http, else build/peer-http: the first data of the
endpoint table. Nothing there is an expectation; the tests assert what the
RFCs require.
"""
from __future__ import annotations

import json
import os
import pathlib

import pytest

from support import peer_http
from support.build import BUILD

_records: list[dict] = []


@pytest.fixture
def observe():
    """observe(table, **fields): one row of an observation table."""
    def add(table: str, **fields) -> None:
        _records.append({"table": table, **fields})
    return add


def _out_dir() -> pathlib.Path:
    if os.environ.get("TLSCLOSE_HTTP_OBSERVATIONS"):
        return pathlib.Path(os.environ["TLSCLOSE_HTTP_OBSERVATIONS"])
    return BUILD / "peer-http"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(records: list[dict]) -> str:
    out = []
    servers = [r for r in records if r["table"] == "clients"]
    if servers:
        clients = sorted({r["client"] for r in servers}, key=list(peer_http.CLIENTS).index)
        out += ["## The peer as a server: what each client reported", "",
                "| TLS | framing | ending | RFC 9112: complete | " + " | ".join(clients) + " |",
                "|---|---|---|---|" + "---|" * len(clients)]
        rows: dict[tuple, dict] = {}
        for r in servers:
            rows.setdefault((r["tls"], r["framing"], r["ending"], r["rfc_complete"]), {})[
                r["client"]] = r["report"]
        for (tls, framing, ending, rfc), by_client in rows.items():
            out.append(f"| {tls} | {framing} | {ending} | {'yes' if rfc else 'no'} | " +
                       " | ".join(_cell(by_client.get(c, "")) for c in clients) + " |")
        out.append("")
    for table, title in (("servers", "## The peer as a client: what each server did"),
                         ("requests", "## The peer's request endings: what the Python ssl server saw")):
        rows2 = [r for r in records if r["table"] == table]
        if not rows2:
            continue
        out += [title, "", "| server | TLS | scenario | report |", "|---|---|---|---|"]
        for r in rows2:
            out.append(f"| {r['server']} | {r['tls']} | {r['scenario']} | {_cell(r['report'])} |")
        out.append("")
    return "\n".join(out)


def pytest_sessionfinish(session, exitstatus):
    if not _records:
        return
    out = _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "observations.json").write_text(json.dumps(_records, indent=1) + "\n")
    (out / "observations.md").write_text(_markdown(_records))


def pytest_terminal_summary(terminalreporter):
    if _records:
        terminalreporter.write_line(f"HTTP observations: {_out_dir() / 'observations.md'}")
