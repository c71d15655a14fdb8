"""The peer and both shims free everything they allocate: a few real cells
under memcheck with every leak kind an error (valgrind_cells.py; the full
sample of one cell per case and stack is `valgrind_cells.py` itself)."""
from __future__ import annotations

import shutil

import pytest

from support.build import PEER
from valgrind_cells import all_cells, run_one, sanitized

SAMPLE = [
    "sut-closes-first-shutdown-returns-zero/openssl/tls1.3/nonblocking/client",
    "sut-closes-first-shutdown-returns-zero/gnutls/tls1.2/memory/server",
    "truncation-mid-record-is-not-a-clean-close/openssl/tls1.2/memory/client",
    "peer-data-after-own-close-notify-ignored/gnutls/tls1.3/blocking/client",
]


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed")
@pytest.mark.skipif(sanitized(PEER),
                    reason="a sanitizer build cannot run under valgrind (LeakSanitizer checks it)")
@pytest.mark.parametrize("cell_id", SAMPLE)
def test_cell_is_memcheck_clean(build, cell_id):
    case = cell_id.split("/")[0]
    cells, env, infos = all_cells(build, [case])
    (cell,) = [c for c in cells if c.id == cell_id]
    verdict, problems = run_one(cell, env, infos.get(cell.stack.name))
    assert not problems, "\n".join(problems)
    # Memcheck is what is checked here; a slow machine may still turn a
    # cell's fixed step timeouts into TIMEOUT, but never into a crash.
    assert verdict in ("PASS", "KNOWN", "TIMEOUT"), verdict
