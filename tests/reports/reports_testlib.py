"""Paths, fixtures and lookups shared by the report tests.

There is deliberately no conftest.py here: other test folders import their
own `conftest` by name, and a second one collected in the same session would
shadow theirs. Test modules import what they use from this module instead.
"""
from __future__ import annotations

import copy
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SMALL = os.path.join(ROOT, "tests", "fixtures", "results-small.json")

if ROOT not in sys.path:
    sys.path.append(ROOT)  # the `reports` package; appended so nothing is shadowed


@pytest.fixture(scope="session")
def small_doc() -> dict:
    """The hand-written results file (every verdict, three stacks, 32 cells)."""
    with open(SMALL, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture
def small(small_doc) -> dict:
    """A fresh copy per test, so a test may change it."""
    return copy.deepcopy(small_doc)


@pytest.fixture(scope="session")
def big_doc(small_doc) -> dict:
    """1,200 cells made from the small file."""
    from reports_bigfixture import make_big
    return make_big(small_doc)


def cell_by(doc: dict, case_prefix: str, stack: str, verdict: str | None = None) -> dict:
    for cell in doc["cells"]:
        if cell["case"].startswith(case_prefix) and cell["stack"] == stack and \
                (verdict is None or cell["verdict"] == verdict):
            return cell
    raise LookupError(f"no cell {case_prefix}/{stack}/{verdict} in the fixture")
