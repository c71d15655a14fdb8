"""Fixtures for the NSS shim's tests (stacks/nss). The stack is optional:
without the shim (NSS not installed) the tests that run it are skipped; a
missing peer or credentials fail them.

nss: the Runner of tlsclose-shim-nss against the mock peer
(support/cells.py), whose cells are NssCell: describe() leaves the bulk
data records out, and two accessors read what NSS reports.
"""
from __future__ import annotations

from support.cells import Cell, Runner


class NssCell(Cell):
    def queue(self, n: int) -> list[str]:
        return self.native(n).get("queue", [])

    def peer_saw_eof_before_own_close_notify(self) -> bool:
        """The SUT's FIN reached the peer before the peer sent its own
        close_notify."""
        events = self.run.peer.lines
        eof = next((i for i, e in enumerate(events)
                    if e.get("ev") == "tcp" and e.get("what") == "eof"), None)
        mine = next((i for i, e in enumerate(events)
                     if e.get("ev") == "record" and e.get("dir") == "sent"
                     and e.get("alert") == "close_notify"), None)
        return eof is not None and (mine is None or eof < mine)


nss = Runner.fixture("tlsclose-shim-nss", optional=True, quiet_types=("application_data",),
                     cell_type=NssCell)
