"""results.json: building, writing, reading, merging (docs/results-format.md).

Contract:
- `build(...)` assembles the document from the run's parts; `write(doc, dir)`
  writes DIR/results.json atomically (a reader never sees half a file).
- `load(path)` returns a document or raises ResultsError naming the file and
  what is wrong; `merge(docs)` combines per-entry documents (ctest entries,
  shards) into one and raises ResultsError on two results for the same cell
  and on inputs that are not parts of one run: another tool version or
  commit, case files that differ, a stack that ran another library version,
  shards of different selections.
- `align_baseline(doc, baseline)`: a baseline whose single stack has another
  name than the run's single stack (openssl-1.1.1w against openssl) with its
  cells renamed to the run's stack, so a diff pairs them cell by cell.
- `exit_code(doc)`: 0 all PASS/SKIP/KNOWN, 1 some FAIL, 3 some ERROR,
  TIMEOUT or CRASH (3 wins).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

from harness.base import files
from harness.base.problems import ResultsError
from harness.output import findings as F
from harness.output.compact import compact_cell, is_ref, pack, unpack
from harness.spec import catalogue
from harness.spec.rules import RULES
from harness.base import vocabulary as V

# 2: the three verdict levels (check levels, rules, findings, check_defs); a file of
# format 1 has none of them and is not read.
FORMAT = 2
VERDICTS = ("PASS", "FAIL", "KNOWN", "SKIP", "ERROR", "TIMEOUT", "CRASH")
BROKEN = ("ERROR", "TIMEOUT", "CRASH")
EXIT_FAIL = 1
EXIT_BROKEN = 3


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def project_version(root: Path) -> str:
    """The version in the top-level CMakeLists.txt, the one place it lives."""
    try:
        text = (root / "CMakeLists.txt").read_text()
    except OSError:
        return "unknown"
    m = re.search(r"project\s*\(\s*tlsclose\b[^)]*\bVERSION\s+([0-9.]+)", text)
    return m.group(1) if m else "unknown"


# A caller that starts many runs of one tree (the matrix job: one per ctest
# entry) asks git once and passes the answer down in this variable.
GIT_STATE_ENV = "TLSCLOSE_GIT_STATE"


def git_state(root: Path) -> str | None:
    """Commit and dirtiness, without ever writing to the repository (no
    index refresh: the optional locks are off)."""
    if os.environ.get(GIT_STATE_ENV):
        return os.environ[GIT_STATE_ENV]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, env=env)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def git_environment(root: Path) -> dict:
    """The environment for many runs of one tree (the matrix's ctest
    entries): git is asked about the tree once here, not once per run."""
    env = dict(os.environ)
    state = git_state(root)
    if state:
        env[GIT_STATE_ENV] = state
    return env


def summary(cells: list[dict]) -> dict:
    out = {"total": len(cells)}
    for verdict in VERDICTS:
        out[verdict] = sum(1 for c in cells if c.get("verdict") == verdict)
    return out


def exit_code(doc: dict, fail_on: str = "any") -> int:
    """3 when a cell is broken; 1 when a FAIL reaches --fail-on (any: every
    FAIL; security / interop: an unexcused rfc violation of at least that
    severity); else 0. KNOWN never fails."""
    counts = summary(doc["cells"])
    if any(counts[v] for v in BROKEN):
        return EXIT_BROKEN
    if fail_on == "any":
        return EXIT_FAIL if counts["FAIL"] else 0
    return EXIT_FAIL if F.fails(doc.get("findings") or F.findings(doc["cells"]), fail_on) else 0


_DIGESTS: dict[tuple, str] = {}


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file; kept per process by the file's identity and
    modification (the matrix daemon digests the whole corpus per entry)."""
    try:
        st = Path(path).stat()
        key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in _DIGESTS:
            _DIGESTS[key] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return _DIGESTS[key]
    except OSError:
        return None


def corpus_digest(files: list[Path]) -> str:
    """One digest for a set of case files: names and contents, any order."""
    h = hashlib.sha256()
    for path in sorted(files, key=lambda p: Path(p).name):
        h.update(f"{Path(path).name}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def case_entry(case, root: Path | None = None) -> dict:
    """root: where case.file is relative to; given, the entry carries the
    file's sha256 so that merging can tell two versions of a case apart."""
    entry = {"title": case.title, "cites": case.cites, "refs": case.refs, "why": case.why,
             "file": case.file, "peer": case.peer}
    if root is not None:
        entry["sha256"] = file_digest(Path(root) / case.file)
    return entry


def attach_proofs(cases: dict, mutation_file: Path, digest: str) -> None:
    """Each case's proof (which broken variants of the reference stack it
    catches), from the latest `tlsclose mutate` over the same corpus; an
    older one, of other case files, is not shown."""
    try:
        doc = json.loads(Path(mutation_file).read_text())
    except (OSError, ValueError):
        return
    if not isinstance(doc, dict) or doc.get("corpus") != digest:
        return
    for cid, entry in cases.items():
        proof = (doc.get("cases") or {}).get(cid)
        if isinstance(proof, dict):
            entry["proof"] = {"caught": proof.get("caught") or [],
                              "unproven": proof.get("unproven")}


def stack_entry(stack, info) -> dict:
    entry = {"title": stack.title, "api": stack.api, "model": stack.model, "file": stack.file,
             "library": info.library if info else None,
             "available": bool(info.available) if info else False,
             "hint": info.hint if info and not info.available else ""}
    if info and info.error:
        entry["error"] = info.error
    return entry


def statements() -> dict:
    """The catalogue's statements as the reports show them: results.json
    carries them, so a report never needs the harness to explain an id."""
    return {sid: {"text": text, "source": catalogue.source_of(sid)}
            for sid, text in catalogue.STATEMENTS.items()}


def rules_table() -> dict:
    """The rules the run's rfc checks can cite, with their sentences."""
    return {r.id: {"ref": r.ref, "key": r.key, "severity": r.severity, "quote": r.quote,
                   "tls": list(r.tls), "statements": list(r.statements)}
            for r in RULES.values()}


def build(tool: dict, stacks: dict, cases: dict, cells: list[dict]) -> dict:
    cells = [compact_cell(c) for c in cells]
    found = F.findings(cells)
    match = F.model_match(cells)
    for name, entry in stacks.items():
        entry["headline"] = F.headline(name, entry.get("model", "none"),
                                       [f for f in found if f["stack"] == name], match)
        entry["model_match"] = match.get(name, {"checked": [], "differs": []})
    return {"format": FORMAT, "tool": tool, "statements": statements(), "rules": rules_table(),
            "stacks": stacks, "cases": cases, "findings": found, "cells": cells,
            "summary": summary(cells)}


def tool_entry(root: Path, started: str, duration_ms: float, argv: list[str],
               incomplete: bool) -> dict:
    return {"name": "tlsclose", "version": project_version(root), "git": git_state(root),
            "started": started, "duration_ms": round(duration_ms, 1), "argv": list(argv),
            "incomplete": incomplete}


def write(doc: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    # One line per cell: compact, yet a reader can still find a cell with grep.
    files.write_atomic(path, _dumps(pack(doc)).encode())
    return path


def _dumps(doc: dict) -> str:
    head = {k: v for k, v in doc.items() if k != "cells"}
    text = json.dumps(head, separators=(",", ":"))[:-1]
    cells = ",\n".join(json.dumps(c, separators=(",", ":")) for c in doc["cells"])
    return f'{text},"cells":[\n{cells}\n]}}\n'


def load(path: Path) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        raise ResultsError(f"{path}: not JSON: {exc}")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ResultsError(f"{path}: not a results.json of format {FORMAT}")
    for key, kind in (("tool", dict), ("stacks", dict), ("cases", dict), ("cells", list)):
        if not isinstance(doc.get(key), kind):
            raise ResultsError(f"{path}: field {key!r} is missing or not "
                               f"{'an array' if kind is list else 'a table'}")
    for i, cell in enumerate(doc["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("id"), str):
            raise ResultsError(f"{path}: cells[{i + 1}] has no id")
    _check_refs(path, doc)
    return unpack(doc)


def _check_refs(path: Path, doc: dict) -> None:
    defs = doc.get("check_defs")
    if defs is None:
        return
    if not isinstance(defs, list):
        raise ResultsError(f"{path}: field 'check_defs' is not an array")
    for i, cell in enumerate(doc["cells"]):
        for j, check in enumerate(cell.get("checks") or []):
            ref = check.get("def") if isinstance(check, dict) else None
            if "def" in (check if isinstance(check, dict) else {}) and not (
                    is_ref(ref) and ref < len(defs)):
                raise ResultsError(f"{path}: cells[{i + 1}].checks[{j + 1}]: "
                                   f"'def' {ref!r} names no entry of check_defs")


def _cell_order(doc_stacks: list[str]):
    tls = {v: i for i, v in enumerate(V.TLS_VERSIONS)}
    io = {v: i for i, v in enumerate(V.IO_MODES)}
    role = {v: i for i, v in enumerate(V.ROLES)}
    stack = {v: i for i, v in enumerate(doc_stacks)}
    return lambda c: (c.get("case", ""), stack.get(c.get("stack"), len(stack)),
                      tls.get(c.get("tls"), 9), io.get(c.get("io"), 9), role.get(c.get("role"), 9))


def _merge_table(into: dict, table: dict, prefer_available: bool) -> None:
    """First wins, except that an available stack replaces an unavailable
    one: the run that could use the stack knows its library version."""
    for key, value in table.items():
        if key not in into or (prefer_available and not into[key].get("available")
                               and value.get("available")):
            into[key] = value


def _commit(git: object) -> str | None:
    return git.split("-")[0] if isinstance(git, str) and git else None


def _agree(docs: list[tuple[str, dict]], what: str, value) -> object:
    """The value every input that has one agrees on; refuses a mix."""
    first: dict = {}
    for source, doc in docs:
        have = value(doc)
        if have is not None:
            first.setdefault(have, source)
    if len(first) > 1:
        (a, src_a), (b, src_b) = list(first.items())[:2]
        raise ResultsError(f"{src_a} and {src_b} are not parts of one run: {what} differs "
                           f"({a} vs {b})")
    return next(iter(first), None)


def _same_cases(docs: list[tuple[str, dict]]) -> None:
    """A case run in two versions cannot be merged into one row."""
    seen: dict = {}
    for source, doc in docs:
        for cid, entry in doc["cases"].items():
            digest = entry.get("sha256") if isinstance(entry, dict) else None
            if digest is None:
                continue
            if cid in seen and seen[cid][0] != digest:
                raise ResultsError(f"{seen[cid][1]} and {source} are not parts of one run: the "
                                   f"case file of {cid} differs between them")
            seen.setdefault(cid, (digest, source))
    _agree(docs, "the case corpus (a case file was added, removed or changed)",
           lambda d: d["tool"].get("corpus"))


def _same_libraries(docs: list[tuple[str, dict]]) -> None:
    names = {name for _, doc in docs for name in doc["stacks"]}
    for name in sorted(names):
        _agree(docs, f"the library of stack {name}",
               lambda d: d["stacks"].get(name, {}).get("library")
               if d["stacks"].get(name, {}).get("available") else None)


def _shards(docs: list[tuple[str, dict]]) -> list[int]:
    """Checks that the sharded inputs are shards of one selection; returns
    the shard numbers none of them holds."""
    parts = [(source, doc["tool"]["shard"]) for source, doc in docs
             if isinstance(doc["tool"].get("shard"), dict)]
    if not parts:
        return []
    as_docs = [(source, {"tool": shard}) for source, shard in parts]
    count = _agree(as_docs, "the number of shards", lambda d: d["tool"].get("count"))
    _agree(as_docs, "the selection of cells that was sharded (stacks, cases, --tls, --io, "
           "--role)", lambda d: d["tool"].get("selection"))
    taken: dict = {}
    for source, shard in parts:
        if shard.get("index") in taken:
            raise ResultsError(f"{taken[shard['index']]} and {source} are the same shard "
                               f"({shard['index']}/{count})")
        taken[shard.get("index")] = source
    return [k for k in range(1, (count or 0) + 1) if k not in taken]


def check_mergeable(docs: list[tuple[str, dict]]) -> list[int]:
    """Raises ResultsError unless the inputs are parts of one run (inputs
    that lack a field are not compared on it); returns missing shards."""
    _agree(docs, "the tool version", lambda d: d["tool"].get("version"))
    _agree(docs, "the commit", lambda d: _commit(d["tool"].get("git")))
    _same_cases(docs)
    _same_libraries(docs)
    return _shards(docs)


def merge(docs: list[tuple[str, dict]], argv: list[str], root: Path,
          stack_order: tuple[str, ...] = ()) -> dict:
    """Merges documents; the same cell in two inputs is an error, whatever
    the verdicts, because silently keeping one would hide the other, and so
    are inputs that are not parts of one run (check_mergeable). Stacks
    named in stack_order come first, the others in order of appearance."""
    missing_shards = check_mergeable(docs)
    stacks: dict = {}
    cases: dict = {}
    cells: list[dict] = []
    seen: dict[str, str] = {}
    for source, doc in docs:
        _merge_table(stacks, doc["stacks"], True)
        _merge_table(cases, doc["cases"], False)
        for cell in doc["cells"]:
            if cell["id"] in seen:
                raise ResultsError(f"cell {cell['id']} is in both {seen[cell['id']]} and "
                                   f"{source}")
            seen[cell["id"]] = source
            cells.append(cell)
    rank = {name: i for i, name in enumerate(stack_order)}
    stacks = dict(sorted(stacks.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    cells.sort(key=_cell_order(list(stacks)))
    tools = [doc["tool"] for _, doc in docs]
    starts = sorted(t.get("started") for t in tools if t.get("started"))
    tool = tool_entry(root, starts[0] if starts else now_iso(),
                      sum(float(t.get("duration_ms") or 0) for t in tools), argv,
                      any(t.get("incomplete") for t in tools) or bool(missing_shards))
    tool["merged_from"] = [source for source, _ in docs]
    corpus = {t.get("corpus") for t in tools}
    if len(corpus) == 1 and None not in corpus:
        tool["corpus"] = corpus.pop()
    if missing_shards:
        tool["missing_shards"] = missing_shards
    return build(tool, stacks, cases, cells)


def align_baseline(doc: dict, baseline: dict) -> dict:
    """Two runs of one stack each under different names (the same library
    at two versions, e.g. openssl-1.1.1w and openssl): the baseline with
    its cells renamed to the run's stack, so a diff pairs them cell by cell.
    Any other pair of runs is returned unchanged."""
    mine, theirs = list(doc["stacks"]), list(baseline["stacks"])
    if len(mine) != 1 or len(theirs) != 1 or mine == theirs:
        return baseline
    old, new = theirs[0], mine[0]
    cells = []
    for cell in baseline["cells"]:
        if cell.get("stack") == old:
            cell = dict(cell, stack=new, id=f"{cell.get('case')}/{new}/tls{cell.get('tls')}/"
                                           f"{cell.get('io')}/{cell.get('role')}")
        cells.append(cell)
    tool = dict(baseline["tool"], compared_stack=old)
    return dict(baseline, tool=tool, stacks={new: baseline["stacks"][old]}, cells=cells)


def _finding_line(f: dict) -> str:
    kind = f"{f['severity']}, {f['rule']} ({f['cite']})" if f["level"] == "rfc" else \
        f"model {','.join(f['statements'] or [])}" if f["level"] == "model" else \
        "flaky: the verdict varies" if f["level"] == "flaky" else "api"
    status = "KNOWN" if f["known"] else "FAIL"
    what = f["what"].replace("\n", " ").strip()
    what = what if len(what) <= 160 else what[:157] + "..."
    return (f"  {status} {f['stack']}: [{kind}] {what} — {f['cells']} cell"
            f"{'s' if f['cells'] != 1 else ''}; {f['command']}")


def summary_lines(doc: dict, path: Path, limit: int = 15) -> list[str]:
    """A one-screen summary: findings first (unexcused, then the worst
    KNOWN ones), each stack's headline, then the counts per verdict."""
    names = list(doc["stacks"]) or sorted({c["stack"] for c in doc["cells"]})
    found = doc.get("findings") or []
    lines = []
    if found:
        lines.append(f"findings ({len(found)}; worst first):")
        lines += [_finding_line(f) for f in found[:limit]]
        if len(found) > limit:
            lines.append(f"  ... and {len(found) - limit} more (results.json \"findings\", "
                         f"index.html)")
    width = max([len(n) for n in names] + [5])
    for name in names:
        head = doc["stacks"].get(name, {}).get("headline")
        if head:
            lines.append(f"{name.ljust(width)}  {head}")
    lines.append("stack".ljust(width) + "".join(f"{v:>8}" for v in VERDICTS))
    for name in names:
        mine = [c for c in doc["cells"] if c["stack"] == name]
        counts = summary(mine)
        lines.append(name.ljust(width) + "".join(f"{counts[v]:>8}" for v in VERDICTS))
    broken = [c for c in doc["cells"] if c["verdict"] in BROKEN]
    for c in broken[:limit]:
        lines.append(f"{c['verdict']}: {c['id']}: {c['reason']}")
    if len(broken) > limit:
        lines.append(f"... and {len(broken) - limit} more ERROR/TIMEOUT/CRASH")
    unavailable = [n for n, s in doc["stacks"].items() if not s.get("available")]
    for name in unavailable:
        lines.append(f"note: stack {name} {doc['stacks'][name].get('hint') or 'unavailable'}")
    if doc["tool"].get("missing_shards"):
        lines.append("note: no input holds shard(s) " + ", ".join(
            map(str, doc["tool"]["missing_shards"])) + "; results are incomplete")
    elif doc["tool"].get("incomplete"):
        lines.append("note: the run was interrupted; results are incomplete")
    lines.append(f"{doc['summary']['total']} cells; results: {path}")
    return lines
