"""Loading and validating one case file, cases/ID.toml (docs/case-format.md).

Contract: `load_case(path, root)` returns a `Case` or raises InvalidInput
with every problem of the file as `file:line: field: problem`. It reads only
that file, starts no process and never raises anything else for a bad file
(a missing file is an InvalidInput too). Checks that need the whole corpus
(unique ids, citation coverage) live in harness.spec.corpus.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from harness.spec import schema
from harness.base import vocabulary as V
from harness.spec.expectations import check_expectations
from harness.spec.peer_script import check_peer
from harness.spec.probe_spec import check_probe
from harness.base.problems import Problems
from harness.base.tomlfile import display_path, load_toml

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LABEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
APPLIES = {"tls": V.TLS_VERSIONS, "roles": V.ROLES, "io": V.IO_MODES, "api": V.APIS}


@dataclasses.dataclass
class Case:
    id: str
    title: str
    cites: list[str]
    refs: list[str]
    why: str
    file: str                       # as shown to people: cases/ID.toml
    applies: dict[str, tuple[str, ...]]
    peer: dict                      # the peer's JSON script
    cipher: dict[str, str]          # TLS version -> suite the peer is restricted to
    steps: list[dict]               # as written, labels included
    deadline_ms: int
    expect_rfc: list[dict]          # rfc-level check groups (harness.spec.expectations)
    expect_model: list[dict]        # model-level check groups
    expect_api: dict
    labels: dict[str, int]          # label -> 1-based step number
    probe: dict | None = None       # [probe] in normal form (harness.spec.probe_spec), or None
    unproven: str | None = None     # why no broken variant can make this case fail

    def sut_script(self) -> list[dict]:
        """The steps as the shim gets them: harness-only keys removed."""
        return [{k: v for k, v in s.items() if k not in V.STEP_HARNESS_ONLY} for s in self.steps]

    def connections(self) -> int:
        return 2 if any(s.get("op") == "resume" for s in self.steps) else 1

    def step_desc(self, number: int) -> str:
        """"shutdown 'first_close'": the op and label of a step."""
        if not 1 <= number <= len(self.steps):
            return "(no such step)"
        step = self.steps[number - 1]
        label = f" '{step['label']}'" if "label" in step else ""
        return f"{step.get('op')}{label}"

    def step_name(self, number: int) -> str:
        """"step 3 (shutdown 'first_close')" for reasons."""
        return f"step {number} ({self.step_desc(number)})"


def _is_int(value: object) -> bool:
    # TOML booleans are Python bools, which are ints too.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_identity(probs: Problems, data: dict, stem: str) -> None:
    """The id names the file (the schema checks its shape)."""
    cid = data.get("id")
    if isinstance(cid, str) and ID_RE.match(cid) and cid != stem:
        probs.add(("id",), f"{cid!r} differs from the file name {stem!r}")


def _applies(data: dict) -> dict[str, tuple[str, ...]]:
    """Each list in the canonical order whatever order the file uses;
    missing (or malformed: the schema reported it) means every value."""
    out = dict(APPLIES)
    table = data.get("applies")
    if isinstance(table, dict):
        for key, allowed in APPLIES.items():
            chosen = table.get(key)
            if isinstance(chosen, list) and chosen:
                out[key] = tuple(v for v in allowed if v in chosen)
    return out


def _steps(probs: Problems, data: dict) -> tuple[list[dict], dict[str, int]]:
    """The steps that are tables, and label -> 1-based step number; a label
    used twice is a problem (its shape is the schema's)."""
    steps = data.get("steps")
    labels: dict[str, int] = {}
    if not isinstance(steps, list):
        return [], labels
    for i, step in enumerate(steps):
        label = step.get("label") if isinstance(step, dict) else None
        if isinstance(label, str) and LABEL_RE.match(label):
            if label in labels:
                probs.add(("steps", i, "label"), f"duplicate label (also step {labels[label]})")
            else:
                labels[label] = i + 1
    return [s for s in steps if isinstance(s, dict)], labels


def _deadline_fits(probs: Problems, steps: list[dict], deadline: int) -> None:
    for i, step in enumerate(steps):
        t = step.get("timeout_ms")
        if _is_int(t) and t > deadline:
            probs.add(("steps", i, "timeout_ms"), f"{t} ms is longer than the case's "
                      f"deadline_ms ({deadline})")


def _applicability(probs: Problems, steps: list[dict], applies: dict) -> None:
    """Steps that cannot run in a combination the case claims to apply to."""
    for i, step in enumerate(steps):
        op = step.get("op")
        if op in V.TLS13_ONLY_OPS and "1.2" in applies["tls"]:
            probs.add(("steps", i, "op"), f"{op} exists only in TLS 1.3 but applies.tls "
                      "includes 1.2")
        if step.get("until_blocked") is True and "blocking" in applies["io"]:
            probs.add(("steps", i, "until_blocked"), "needs nonblocking or memory IO but "
                      "applies.io includes blocking")
    resumes = [i for i, s in enumerate(steps) if s.get("op") == "resume"]
    for i in resumes[1:]:
        probs.add(("steps", i, "op"), "only one resume step per case (two connections)")


def load_case(path: Path, root: Path | None = None) -> Case:
    path = Path(path)
    shown = display_path(path, root)
    data, probs = load_toml(path, shown)
    schema.validate(probs, data, "case")
    _check_identity(probs, data, path.stem)
    applies = _applies(data)
    steps, labels = _steps(probs, data)
    deadline = data.get("deadline_ms", V.DEFAULT_DEADLINE_MS)
    deadline = deadline if _is_int(deadline) else V.DEFAULT_DEADLINE_MS
    _deadline_fits(probs, steps, deadline)
    _applicability(probs, steps, applies)
    peer, cipher = check_peer(probs, data.get("peer"), steps, applies, deadline) \
        if "peer" in data else ({}, {})
    cites = [c for c in data.get("cites", []) if isinstance(c, str)] \
        if isinstance(data.get("cites"), list) else []
    rfc, model, api = check_expectations(probs, data.get("expect"), steps, labels, applies,
                                         cites)
    probe = check_probe(probs, data["probe"], peer, rfc, applies) if "probe" in data else None
    probs.raise_if_any()
    return Case(id=data["id"], title=data["title"].strip(), cites=list(data["cites"]),
                refs=list(data["refs"]), why=data["why"].strip(), file=shown, applies=applies,
                peer=peer, cipher=cipher, steps=steps, deadline_ms=deadline, expect_rfc=rfc,
                expect_model=model, expect_api=api, labels=labels, probe=probe,
                unproven=data["unproven"].strip() if "unproven" in data else None)
