"""`tlsclose merge A/results.json B/results.json ... --out DIR`: results of
ctest entries or shards back into one results.json and report. Refuses
inputs that are not parts of one run (exit 2)."""
from __future__ import annotations

from pathlib import Path

from harness.base.paths import ROOT
from harness.output import results, writer
from harness.spec.stack import DEFAULT_STACKS

NAME = "merge"
HELP = "merge results.json files of one run (ctest entries, shards) into one, with the report"
NEEDS_BUILD = False


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("inputs", type=Path, nargs="+")
    p.add_argument("--out", type=Path, required=True)
    return p


def merge_files(inputs: list[Path], out: Path, argv: list[str]) -> int:
    docs = [(str(p), results.load(p)) for p in inputs]
    doc = results.merge(docs, argv, ROOT, DEFAULT_STACKS)
    return writer.finish(doc, out, True)


def run(args, argv: list[str]) -> int:
    return merge_files(args.inputs, args.out, argv)
