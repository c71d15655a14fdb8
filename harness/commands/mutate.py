"""`tlsclose mutate`: the mutation self-test — the corpus against broken
variants of the reference stack; which case catches which variant
(docs/mutation.md, harness/run/mutation.py).

Writes OUT/mutation.json and prints, per variant, the cases that caught it
and the unproven cases (no variant makes them fail) with the reason the case
gives. Exit status: 0 when at least --min-coverage of the cases are caught
and every uncaught case says why (`unproven` in the case file), 1 otherwise,
2 bad usage, 3 when cells broke (ERROR, CRASH) in the variants' runs. A
cell that hangs under a variant (TIMEOUT) is listed, not counted as caught.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from harness.base.files import write_atomic
from harness.base.paths import ROOT
from harness.base.problems import UsageError
from harness.commands import options
from harness.output import results
from harness.run import mutation, runner
from harness.run.detect import detect
from harness.spec import corpus
from harness.spec.stack import select_stacks

NAME = "mutate"
HELP = "mutation self-test: which case catches which broken variant of the reference stack"
NEEDS_BUILD = True
# The reference stacks, in order: the first runs every case; the second only
# the cases the first cannot show failing (most often because the reference
# library itself violates them: its [[known]] entries excuse every variant).
# Both drive their library through the shared shim runner, which holds the
# variants.
REFERENCES = ("openssl", "gnutls")


def add_parser(sub):
    p = sub.add_parser(NAME, help=HELP, description=HELP)
    p.add_argument("--case", action="append", default=[], metavar="ID_OR_GLOB")
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="only these variants (default: every variant the shim has)")
    p.add_argument("--min-coverage", type=float, default=0.95,
                   help="the share of cases that must catch a variant (default 0.95)")
    p.add_argument("-j", "--jobs", type=int, default=runner.default_jobs())
    p.add_argument("--out", type=Path, default=None,
                   help="where mutation.json goes (default: BUILD/mutation, where `run` finds "
                        "it to show each case's proof)")
    options.dirs(p, stacks=True)
    return p


def _summary(doc: dict, path: Path) -> list[str]:
    lines = [f"{len(doc['variants'])} variants of {', '.join(doc['references'])}, "
             f"{len(doc['cases'])} cases: {doc['coverage'] * 100:.1f} % caught"]
    for v in doc["variants"]:
        name = f"{v['reference']}~{v['mutant']}"
        lines.append(f"  {name:<42} caught by {len(v['caught_by']):>3} cases"
                     + ("" if v["caught_by"] else "  (NOT CAUGHT)"))
    if doc.get("hung_cells"):
        lines.append(f"{len(doc['hung_cells'])} cells hung under a variant (TIMEOUT, not a "
                     f"catch): {', '.join(doc['hung_cells'][:3])}"
                     + (" ..." if len(doc["hung_cells"]) > 3 else ""))
    for cid in doc["unproven"]:
        why = doc["cases"][cid]["unproven"]
        lines.append(f"unproven: {cid}: " + (why or "says nothing about why (add `unproven`)"))
    lines.append(f"results: {path}")
    return lines


def _reference(name: str, args, env) -> tuple:
    (stack,) = select_stacks([name], [], args.stacks_dir, args.build_dir)
    info = detect(stack, env.bin_dir, env.root)
    if not info.available or info.error:
        raise UsageError(f"the reference stack {name} is not usable: {info.hint or info.error}")
    variants = mutation.variants(stack, env.bin_dir, env.root)
    if args.variant:
        unknown = set(args.variant) - {v["mutant"] for v in variants}
        if unknown:
            raise UsageError(f"--variant {', '.join(sorted(unknown))}: no such variant")
        variants = [v for v in variants if v["mutant"] in args.variant]
    return stack, info, variants


def run(args, argv: list[str]) -> int:
    t0 = time.monotonic()
    env = runner.Environment(ROOT, args.build_dir.resolve())
    cases = corpus.load_cases(corpus.select_files(args.cases_dir, args.case), ROOT)
    variant_lists, results_all, todo, interrupted = {}, [], cases, False
    for name in REFERENCES:
        stack, info, variants = _reference(name, args, env)
        variant_lists[name] = variants
        cells = mutation.plan(todo, stack, variants)
        outcome = runner.run_cells(cells, env, {c.stack.name: info for c in cells}, args.jobs,
                                   runner.Progress(len(cells)))
        results_all += outcome.results
        interrupted = interrupted or outcome.interrupted
        caught = {c["case"] for c in results_all if c["verdict"] == "FAIL"}
        todo = [c for c in todo if c.id not in caught]
        if not todo or interrupted:
            break
    doc = mutation.tally(cases, variant_lists, results_all, list(variant_lists))
    doc["corpus"] = results.corpus_digest(corpus.case_files(args.cases_dir))
    doc["duration_s"] = round(time.monotonic() - t0, 1)
    # A variant that makes a cell hang is seen, but not by a check: the cell
    # ran out its deadline. ERROR and CRASH are the harness's or the shim's.
    doc["hung_cells"] = [c["id"] for c in results_all if c["verdict"] == "TIMEOUT"]
    doc["broken_cells"] = [{"id": c["id"], "verdict": c["verdict"], "reason": c["reason"]}
                           for c in results_all if c["verdict"] in ("ERROR", "CRASH")]
    out = args.out or args.build_dir / "mutation"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "mutation.json"
    write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())
    print("\n".join(_summary(doc, path)))
    if interrupted:
        return 130
    if doc["broken_cells"]:
        print(f"tlsclose mutate: {len(doc['broken_cells'])} cells broke (ERROR or "
              f"CRASH), e.g. {doc['broken_cells'][0]['id']}: {doc['broken_cells'][0]['reason']}",
              file=sys.stderr)
        return results.EXIT_BROKEN
    silent = [cid for cid in doc["unproven"] if not doc["cases"][cid]["unproven"]]
    return 1 if doc["coverage"] < args.min_coverage or silent else 0
