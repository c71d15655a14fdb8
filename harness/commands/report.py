"""`tlsclose report RESULTS.json [--baseline OTHER.json] --out DIR`: junit.xml
and index.html from a results.json, with a diff against a baseline."""
from __future__ import annotations

from pathlib import Path

import reports
from harness.output import results

NAME = "report"
HELP = "junit.xml and index.html from a results.json (with --baseline: what changed)"
NEEDS_BUILD = False


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("results", type=Path)
    p.add_argument("--baseline", type=Path)
    p.add_argument("--out", type=Path, required=True)
    return p


def run(args, argv: list[str]) -> int:
    doc = results.load(args.results)
    baseline = results.load(args.baseline) if args.baseline else None
    if baseline is not None:
        baseline = results.align_baseline(doc, baseline)
    reports.write_all(doc, args.out, baseline=baseline)
    print(f"report written to {args.out}")
    return 0
