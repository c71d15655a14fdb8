"""Report writers: results.json -> junit.xml and one self-contained index.html.

    write_all(results, out_dir, baseline=None)

`results` (and `baseline`) are results documents as loaded from results.json
(docs/results-format.md). The modules split the work by responsibility:
junit (JUnit XML), html (the page and its templates), traceability
(statements -> cases -> verdicts), rosetta (close events -> native reports),
diff (changes against a baseline), summary (the terminal summary).
"""
from __future__ import annotations

import os

from harness.base.files import write_atomic as _atomic_write
from harness.base.problems import ResultsError

from .model import check_document

__all__ = ["write_all", "ResultsError"]


def write_all(results: dict, out_dir: str, baseline: dict | None = None) -> None:
    """Writes out_dir/junit.xml and out_dir/index.html (creating out_dir).

    Raises ResultsError when results or baseline is not a readable results
    document; nothing is written then.
    """
    # Imported here so that the terminal summary works without Jinja2.
    from . import html, junit
    check_document(results)
    if baseline is not None:
        check_document(baseline)
    junit_bytes = junit.to_bytes(results)
    page = html.render(results, baseline).encode("utf-8")
    os.makedirs(out_dir, exist_ok=True)
    _atomic_write(os.path.join(out_dir, "junit.xml"), junit_bytes)
    _atomic_write(os.path.join(out_dir, "index.html"), page)
