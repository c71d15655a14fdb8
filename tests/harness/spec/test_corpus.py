"""The repository's own case files validate, one by one."""
from __future__ import annotations

import pytest

from harness.spec import corpus
from harness.spec.case import load_case
from support.build import ROOT

FILES = corpus.case_files(ROOT / "cases")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_repository_case_is_valid(path):
    case = load_case(path, ROOT)
    assert case.file == f"cases/{path.name}"


def test_repository_corpus_has_unique_ids():
    cases = corpus.load_cases(FILES, ROOT)
    assert corpus.check_corpus(cases, coverage=False, root=ROOT) == []
