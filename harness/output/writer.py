"""Writing a run's outputs: results.json, then the reports made from it.

Contract: `write_outputs(doc, out_dir, report=True)` writes
out_dir/results.json atomically and, unless report is False, junit.xml and
index.html through the report writers (reports/, which read nothing but the
document). Returns the path of results.json. A report writer that fails
raises ReportError after results.json is on disk, so the caller can say so
and still point at the results.
`finish(doc, out_dir, report, interrupted)` does that for a command: writes,
prints the one-screen summary and returns the exit status (130 when the run
was interrupted; 3 when the reports could not be written).
"""
from __future__ import annotations

import sys
from pathlib import Path

import reports
from harness.output import results


class ReportError(Exception):
    """results.json was written; the HTML/JUnit reports could not be."""


def write_outputs(doc: dict, out_dir: Path, report: bool = True) -> Path:
    path = results.write(doc, out_dir)
    if report:
        try:
            reports.write_all(doc, out_dir)
        except Exception as exc:  # the results are on disk; the caller reports this
            raise ReportError(f"results are in {path}, but the report writer failed: "
                              f"{type(exc).__name__}: {exc}") from exc
    return path


EXIT_INTERRUPTED = 130


def finish(doc: dict, out_dir: Path, report: bool, interrupted: bool = False, stream=None) -> int:
    stream = stream or sys.stdout
    try:
        path = write_outputs(doc, out_dir, report)
    except ReportError as exc:
        print("\n".join(results.summary_lines(doc, out_dir / "results.json")), file=stream)
        print(f"tlsclose: {exc}", file=sys.stderr if stream is sys.stdout else stream)
        return results.EXIT_BROKEN
    print("\n".join(results.summary_lines(doc, path)), file=stream)
    return EXIT_INTERRUPTED if interrupted else results.exit_code(doc)
