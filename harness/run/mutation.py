"""The mutation self-test: run the corpus against deliberately broken
variants of the reference stack and see which cases catch which variant.

Every check must be able to fail. A variant (stacks/shimlib/shim_mutant.c)
breaks one documented behaviour of the reference stack (a truncation read as
a clean close, a close call that sends nothing, RECEIVED never set...); a
case *catches* a variant when one of its cells FAILs against the variant (an
unexcused failed check: ERROR, TIMEOUT and SKIP are not catches). A case that
no variant catches is *unproven*: it must say why in its `unproven` key, or be
fixed, or get the variant that shows it can fail.

Contract:
- `variants(stack, bin_dir, root)` asks the shim (`--mutants`) for its
  variants: [{"mutant", "breaks", "scope": {"tls", "io", "role"}}].
- `plan(cases, stack, variants)` picks, per variant and case, the one cell
  the variant runs: the first combination the case applies to and the stack
  supports within the variant's scope (TLS 1.3 before 1.2, blocking before
  nonblocking before memory, client before server) — one cell per pair
  keeps the self-test short enough to run with the project's tests.
- `variant_stack(stack, variant)` is the reference stack under another name
  with TLSCLOSE_MUTANT set and its [[known]] entries kept, so a deviation
  the real library already has is not counted as a catch.
- `tally(cases, {reference: variants}, results, references)` -> the mutation
  document {"references": [...], "variants": [...{"reference", "caught_by":
  [case...]}], "cases": {id: {"caught": ["REFERENCE~VARIANT"...], "unproven":
  why|None}}, "coverage": float, "unproven": [id...]}.
Pure but for `variants`, which starts the shim once.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

from harness.base import vocabulary as V
from harness.run.matrix import Cell
from harness.spec.case import Case
from harness.spec.stack import Stack

QUERY_TIMEOUT_S = 10
# The cell a variant runs per case, most preferred first.
PREFERENCE = [(t, io, role) for t in ("1.3", "1.2") for io in V.IO_MODES for role in V.ROLES]


def variants(stack: Stack, bin_dir: Path, root: Path) -> list[dict]:
    argv = stack.argv(bin_dir, root) + ["--mutants"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S,
                          env={**os.environ, **stack.env})
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def variant_stack(stack: Stack, variant: dict) -> Stack:
    mutant = copy.copy(stack)
    mutant.name = f"{stack.name}~{variant['mutant']}"
    mutant.env = {**stack.env, "TLSCLOSE_MUTANT": variant["mutant"]}
    mutant.source = "file"
    return mutant


def _in_scope(scope: dict, tls: str, io: str, role: str) -> bool:
    return all(scope.get(k, "*") in ("*", v) for k, v in (("tls", tls), ("io", io),
                                                          ("role", role)))


def _first_cell(case: Case, stack: Stack, scope: dict) -> tuple | None:
    for tls, io, role in PREFERENCE:
        if tls in case.applies["tls"] and io in case.applies["io"] and \
                role in case.applies["roles"] and tls in stack.tls and io in stack.io and \
                role in stack.roles and _in_scope(scope, tls, io, role):
            return tls, io, role
    return None


def plan(cases: list[Case], stack: Stack, variant_list: list[dict]) -> list[Cell]:
    cells = []
    for variant in variant_list:
        mutant = variant_stack(stack, variant)
        for case in sorted(cases, key=lambda c: c.id):
            if stack.api not in case.applies["api"]:
                continue
            where = _first_cell(case, stack, variant.get("scope") or {})
            if where:
                cells.append(Cell(case, mutant, *where))
    return cells


def tally(cases: list[Case], variant_lists: dict[str, list[dict]], results: list[dict],
          references: list[str]) -> dict:
    """`variant_lists`: per reference stack, its variants. A catch is named
    REFERENCE~VARIANT: the same broken behaviour on another library is
    another proof."""
    caught: dict[str, set] = {c.id: set() for c in cases}
    for cell in results:
        if "~" in cell["stack"] and cell.get("verdict") == "FAIL":
            caught.setdefault(cell["case"], set()).add(cell["stack"])
    variants = [{**v, "reference": ref,
                 "caught_by": [cid for cid in sorted(caught) if f"{ref}~{v['mutant']}" in caught[cid]]}
                for ref, vlist in variant_lists.items() for v in vlist]
    per_case = {c.id: {"caught": sorted(caught[c.id]), "unproven": c.unproven}
                for c in cases}
    proven = [cid for cid, entry in per_case.items() if entry["caught"]]
    return {"reference": references[0], "references": list(references),
            "variants": variants,
            "cases": per_case,
            "coverage": round(len(proven) / len(per_case), 4) if per_case else 1.0,
            "unproven": sorted(cid for cid, e in per_case.items() if not e["caught"])}
