"""`tlsclose merge A/results.json B/results.json ... --out DIR`: results of
ctest entries or shards back into one results.json and report. Refuses
inputs that are not parts of one run (exit 2)."""
from __future__ import annotations

from pathlib import Path

from harness.base.paths import ROOT
from harness.output import results, writer
from harness.output.findings import FAIL_ON
from harness.spec.stack import DEFAULT_STACKS

NAME = "merge"
HELP = "merge results.json files of one run (ctest entries, shards) into one, with the report"
NEEDS_BUILD = False


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("inputs", type=Path, nargs="+")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--fail-on", choices=FAIL_ON, default="any",
                   help="what makes the exit status 1 (as `run --fail-on`)")
    return p


def run(args, argv: list[str]) -> int:
    docs = [(str(p), results.load(p)) for p in args.inputs]
    doc = results.merge(docs, argv, ROOT, DEFAULT_STACKS)
    return writer.finish(doc, args.out, True, fail_on=args.fail_on)
