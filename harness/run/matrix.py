"""Expanding cases × stacks × TLS versions × IO modes × roles into cells.

Contract: `expand(cases, stacks, infos, select)` returns cells in a stable
order (cases by id, stacks in the order given, then TLS version, IO mode and
role in the vocabulary's order) with stable ids CASE/STACK/tlsV/IO/ROLE.
- What a case declares it does not apply to (its [applies]) and what the
  user filtered out produces no cell at all.
- What the stack cannot do (its stack file), an unavailable stack, or a case
  with nothing left to check on a native stack produces a cell with
  `skip` set to the reason; such a cell is never run.
Pure: no files, no processes.
"""
from __future__ import annotations

import dataclasses

from harness.base import vocabulary as V
from harness.spec.case import Case
from harness.run.detect import StackInfo
from harness.spec.stack import Stack


@dataclasses.dataclass
class Selection:
    tls: tuple[str, ...] = V.TLS_VERSIONS
    io: tuple[str, ...] = V.IO_MODES
    roles: tuple[str, ...] = V.ROLES


@dataclasses.dataclass
class Cell:
    case: Case
    stack: Stack
    tls: str
    io: str
    role: str
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{self.case.id}/{self.stack.name}/tls{self.tls}/{self.io}/{self.role}"

    @property
    def api_checks(self) -> bool:
        return self.stack.api == "openssl"


def _unsupported(stack: Stack, tls: str, io: str, role: str) -> str | None:
    for what, value, have in (("TLS", tls, stack.tls), ("IO mode", io, stack.io),
                              ("role", role, stack.roles)):
        if value not in have:
            return f"{stack.name} does not support {what} {value} ({stack.file})"
    return None


def _has_checks(case: Case) -> bool:
    """Whether a stack without the SSL_shutdown(3) API has anything to learn
    from the case: rfc checks, or model checks to record differences."""
    return bool(case.expect_rfc or case.expect_model)


def _skip_reason(case: Case, stack: Stack, info: StackInfo | None, tls: str, io: str,
                 role: str) -> str | None:
    reason = _unsupported(stack, tls, io, role)
    if reason:
        return reason
    if info is not None and not info.available:
        return info.hint
    if stack.api != "openssl" and not _has_checks(case):
        return "only api-level expectations, which apply to api = \"openssl\" stacks"
    return None


def expand(cases: list[Case], stacks: list[Stack], infos: dict[str, StackInfo] | None = None,
           select: Selection | None = None) -> list[Cell]:
    select = select or Selection()
    infos = infos or {}
    cells = []
    for case in sorted(cases, key=lambda c: c.id):
        for stack in stacks:
            if stack.api not in case.applies["api"]:
                continue
            for tls in V.TLS_VERSIONS:
                for io in V.IO_MODES:
                    for role in V.ROLES:
                        if not (tls in select.tls and tls in case.applies["tls"]
                                and io in select.io and io in case.applies["io"]
                                and role in select.roles and role in case.applies["roles"]):
                            continue
                        skip = _skip_reason(case, stack, infos.get(stack.name), tls, io, role)
                        cells.append(Cell(case, stack, tls, io, role, skip))
    return cells
