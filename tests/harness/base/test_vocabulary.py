"""One checked definition of the protocol's words: harness/base/vocabulary.py.
Every built shim accepts each op of the vocabulary and rejects an unknown
one; the peer accepts each action and rejects an unknown one; the tables of
docs/shim-protocol.md §2 and docs/peer.md list exactly the same words."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from harness.base import vocabulary as V
from harness.base.paths import STACKS_DIR
from harness.spec.stack import load_stack, stack_files
from support.build import BIN, CERT, KEY, ROOT
USAGE = 2
# A value for each required field, so a step is well formed.
FILLERS = {"bytes": 1, "marker": "m", "text": "x", "option": "quiet_shutdown"}
ACTION_FILLERS = {"bytes": 1, "alert": "close_notify", "hex": "00", "text": "x", "marker": "m",
                  "msg": "new_session_ticket"}


def _stacks():
    out = []
    for path in stack_files(STACKS_DIR):
        stack = load_stack(path, ROOT)
        argv = stack.argv(BIN, ROOT)
        first = Path(argv[0]) if "/" in argv[0] else None
        if first is not None and not first.exists():
            continue                 # not built here (its library is not installed)
        if any(s[0] == stack.command for s in out):
            continue                 # two stack files, one shim
        out.append((stack.command, stack, argv))
    return [pytest.param(s, argv, id=s.name) for _, s, argv in out]


def _step(op: str) -> dict:
    return {"op": op, **{f: FILLERS[f] for f in V.SHIM_REQUIRED.get(op, ())}}


def _run_shim(argv: list[str], stack, steps: list[dict], tmp: Path) -> subprocess.CompletedProcess:
    script = tmp / "steps.json"
    script.write_text(json.dumps(steps))
    # A port nothing listens on: a shim that accepted the script fails to
    # connect (exit 4) or skips (77); only a rejected script is exit 2.
    # Marker pipes are given, so marker steps are well formed too.
    r, w = os.pipe()
    try:
        return subprocess.run([*argv, "--role", "client", "--tls", "1.3", "--io", stack.io[0],
                               "--connect", "127.0.0.1:9", "--cert", str(CERT), "--key",
                               str(KEY), "--script", str(script), "--deadline-ms", "3000",
                               "--marker-in", str(r), "--marker-out", str(w)],
                              capture_output=True, text=True, timeout=60, pass_fds=(r, w),
                              env={**os.environ, **stack.env})
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("stack, argv", _stacks())
def test_every_shim_accepts_every_op_and_rejects_an_unknown_one(stack, argv, tmp_path):
    refused = []
    for op in V.SHIM_OPS:
        steps = [{"op": "handshake"}, _step(op)] if op != "handshake" else [_step(op)]
        done = _run_shim(argv, stack, steps, tmp_path)
        if done.returncode == USAGE:
            refused.append(f"{op}: {(done.stdout + done.stderr).strip()[-200:]}")
    assert not refused, f"{stack.name} rejects ops of the vocabulary:\n" + "\n".join(refused)
    done = _run_shim(argv, stack, [{"op": "handshake"}, {"op": "no_such_op"}], tmp_path)
    assert done.returncode == USAGE, f"{stack.name} accepted an unknown op:\n{done.stdout}"


def _peer(actions: list[dict], tmp: Path) -> subprocess.CompletedProcess:
    script = tmp / "peer.json"
    script.write_text(json.dumps({"actions": actions}))
    return subprocess.run([str(BIN / "tlsclose-peer"), "--role", "server", "--tls", "1.3",
                           "--connect", "127.0.0.1:9", "--cert", str(CERT), "--key", str(KEY),
                           "--script", str(script), "--deadline-ms", "2000"],
                          capture_output=True, text=True, timeout=60)


def test_the_peer_accepts_every_action_and_rejects_an_unknown_one(tmp_path):
    if not (BIN / "tlsclose-peer").exists():
        pytest.fail(f"not built: {BIN / 'tlsclose-peer'}")
    refused = []
    for do in V.PEER_ACTIONS:
        action = {"do": do, **{f: ACTION_FILLERS[f] for f in V.PEER_REQUIRED.get(do, ())}}
        done = _peer([action], tmp_path)
        if done.returncode == USAGE:
            refused.append(f"{do}: {(done.stdout + done.stderr).strip()[-200:]}")
    assert not refused, "the peer rejects actions of the vocabulary:\n" + "\n".join(refused)
    assert _peer([{"do": "no_such_action"}], tmp_path).returncode == USAGE


def _table_words(doc: str, section: str, until: str) -> set[str]:
    text = (ROOT / "docs" / doc).read_text()
    part = text[text.index(section):]
    part = part[:part.index(until)] if until in part else part
    return set(re.findall(r"^\| `([a-z_]+)` \|", part, flags=re.M))


def test_the_docs_list_the_vocabulary():
    ops = _table_words("shim-protocol.md", "## 2. The step script", "## 3.")
    assert ops == set(V.SHIM_OPS), {"only in the docs": ops - set(V.SHIM_OPS),
                                    "only in the vocabulary": set(V.SHIM_OPS) - ops}
    actions = _table_words("peer.md", "### Actions", "## Personalities")
    http = set(re.findall(r"`(http_[a-z_]+)`", (ROOT / "docs" / "peer.md").read_text()))
    documented = actions | http
    assert documented >= set(V.PEER_ACTIONS), set(V.PEER_ACTIONS) - documented
    assert actions <= set(V.PEER_ACTIONS), actions - set(V.PEER_ACTIONS)
