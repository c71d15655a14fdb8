"""results.json documents for the report writers' tests (tests/reports):
the small one (tests/reports/results-small.json, written by real runs of
tests/reports/make_results_small.py: every verdict, six stacks, 41 cells),
read as the harness reads it (results.load: checked, check definitions
resolved), a large one made from it for size and speed tests, and a lookup
of cells.

make_big(small, ncases) gives ncases cases x every stack x TLS 1.2/1.3 x three
IO modes x two roles (24 cells per case with two stacks: 50 cases -> 1,200
cells). Each cell is a copy of a real cell of the small fixture, of the same
stack or one of its cells that need a look (FAIL, ERROR, TIMEOUT, CRASH), so
ops, transcripts and checks have realistic sizes and the problems are many.
"""
from __future__ import annotations

import copy
import itertools

from harness.output import results
from reports import model

from .build import ROOT

SMALL = ROOT / "tests" / "reports" / "results-small.json"


def load_small() -> dict:
    return results.load(SMALL)


def cell_by(doc: dict, case_prefix: str, stack: str, verdict: str | None = None) -> dict:
    for cell in doc["cells"]:
        if cell["case"].startswith(case_prefix) and cell["stack"] == stack and \
                (verdict is None or cell["verdict"] == verdict):
            return cell
    raise LookupError(f"no cell {case_prefix}/{stack}/{verdict} in the fixture")


def make_big(small: dict, ncases: int = 50, stacks: tuple = ("openssl", "gnutls")) -> dict:
    # A stack's own cells, and every cell of the fixture that needs a look (its
    # broken stacks' FAIL, ERROR, TIMEOUT and CRASH): a big run has problems to list.
    problems = [c for c in small["cells"] if c.get("ops") and c["verdict"] in model.PROBLEMS]
    templates = {s: [c for c in small["cells"] if c["stack"] == s and c.get("ops")] + problems
                 for s in stacks}
    small_cases = list(small["cases"].items())
    cases, cells = {}, []
    for n in range(ncases):
        base_id, base = small_cases[n % len(small_cases)]
        cid = f"{base_id}-{n:03d}"
        cases[cid] = dict(copy.deepcopy(base), file=f"cases/{cid}.toml")
        for k, (stack, tls, io, role) in enumerate(itertools.product(
                stacks, model.TLS_VERSIONS, model.IO_MODES, model.ROLES)):
            pool = templates[stack]
            cell = copy.deepcopy(pool[(n * 7 + k) % len(pool)])
            cell.update(case=cid, stack=stack, tls=tls, io=io, role=role,
                        id=f"{cid}/{stack}/tls{tls}/{io}/{role}")
            cell["command"] = (f"./tlsclose run --stack {stack} --case {cid} --tls {tls} "
                               f"--io {io} --role {role} --out out/repro")
            cells.append(cell)
    summary = {"total": len(cells), **model.counts(cells)}
    tool = dict(small["tool"], duration_ms=float(len(cells)) * 12.5)
    return {"format": small["format"], "tool": tool,
            "stacks": {s: copy.deepcopy(small["stacks"][s]) for s in stacks},
            "cases": cases, "cells": cells, "summary": summary}
