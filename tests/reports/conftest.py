"""Fixtures for the report writers' tests (tests/reports): results.json
documents from support/results_docs.py."""
from __future__ import annotations

import copy

import pytest

from support.results_docs import load_small, make_big


@pytest.fixture(scope="session")
def small_doc() -> dict:
    """The hand-written results file (every verdict, three stacks, 32 cells)."""
    return load_small()


@pytest.fixture
def small(small_doc) -> dict:
    """A fresh copy per test, so a test may change it."""
    return copy.deepcopy(small_doc)


@pytest.fixture(scope="session")
def big_doc(small_doc) -> dict:
    """1,200 cells made from the small file."""
    return make_big(small_doc)
