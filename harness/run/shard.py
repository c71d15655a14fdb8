"""Sharding a run: a deterministic, balanced 1/N of the cells (`run --shard K/N`).

Contract:
- `parse(text)` turns "K/N" (1 <= K <= N <= MAX_SHARDS) into (K, N) or
  raises ValueError saying what is wrong.
- `select(ids, k, n)` returns the positions (into ids) of the cells of shard
  K of N, in their original order. Shards 1..N are disjoint, together hold
  every cell, and their sizes differ by at most one.
- `describe(ids, k, n)` is the results.json "shard" entry: K, N, how many
  cells the whole selection has and a digest of their ids, so that `merge`
  can tell shards of one run from shards of different selections.
Which shard a cell lands in depends only on its id and on the set of ids of
the selection, never on the machine, the order of expansion or Python's
hash seed. Pure: no files, no processes.

Why this scheme: the ids are put in the order of their SHA-256 (a fixed
pseudo-random order) and that order is cut into N runs of equal length.
Cutting by rank balances the shards exactly, which plain hashing (cell to
hash mod N, or rendezvous hashing) does not; and as a new cell shifts each
cut by at most one position, adding one cell moves at most N-1 others to
another shard, adding a case of M cells at most M*(N-1).
"""
from __future__ import annotations

import hashlib
import re

MAX_SHARDS = 1000
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse(text: str) -> tuple[int, int]:
    m = _SPEC.match(text or "")
    if not m:
        raise ValueError(f"{text!r} is not K/N (e.g. 2/4: the second of four shards)")
    k, n = int(m.group(1)), int(m.group(2))
    if not 1 <= n <= MAX_SHARDS:
        raise ValueError(f"{text!r}: N must be between 1 and {MAX_SHARDS}")
    if not 1 <= k <= n:
        raise ValueError(f"{text!r}: K must be between 1 and N ({n})")
    return k, n


def _key(cell_id: str) -> tuple[bytes, str]:
    return hashlib.sha256(cell_id.encode("utf-8")).digest(), cell_id


def _cuts(total: int, n: int) -> list[int]:
    return [i * total // n for i in range(n + 1)]


def select(ids: list[str], k: int, n: int) -> list[int]:
    if len(set(ids)) != len(ids):
        raise ValueError("cell ids must be unique to be sharded")
    order = sorted(range(len(ids)), key=lambda i: _key(ids[i]))
    cuts = _cuts(len(ids), n)
    return sorted(order[cuts[k - 1]:cuts[k]])


def selection_digest(ids: list[str]) -> str:
    """The same for every shard of one selection, whatever the order."""
    h = hashlib.sha256()
    for cell_id in sorted(ids):
        h.update(cell_id.encode("utf-8") + b"\n")
    return h.hexdigest()


def describe(ids: list[str], k: int, n: int) -> dict:
    return {"index": k, "count": n, "cells": len(ids), "selection": selection_digest(ids)}
