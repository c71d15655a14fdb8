"""Running one endpoint through its scenarios (`tlsclose endpoints`).

Contract: `run_endpoint(endpoint, scenarios, env, options, interrupt,
progress)` returns an `Outcome` with the endpoint's facts (available or the
install hint, version, an error that stopped it, TLS versions skipped) and
its cells in the results.json shape (docs/results-format.md), named by the
endpoint. In order:
1. availability: every program it needs exists, else no cell runs and the
   outcome says how to install it;
2. a server endpoint is started (endpoint_server), once for the run;
3. pre-flight, per TLS version: the scenario marked preflight runs first. A
   handshake the endpoint refuses for want of a common version makes every
   cell of that version a SKIP; an exchange that does not work at all (the
   client does not take a plain complete response, the server does not
   answer a plain GET) stops the endpoint with ONE ERROR cell;
4. every other cell, `repeat` times; cells whose verdict changes between
   runs are flagged (`flaky`, verdicts listed in `repeats`), the worst
   verdict kept;
5. REFUSALS_STOP connection refusals in a row stop the endpoint with one
   message (its last cell says so);
6. the server and its backend are stopped and server cells are judged with
   every backend event in hand.
Every process is reaped on every path; on an interruption (KeyboardInterrupt
from the Interrupt's waits) the outcome is returned with `interrupted` set and
the cells judged so far.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness.run import endpoint_judge as J
from harness.run import endpoint_server as S
from harness.run.endpoint_cells import IO, Plan, Raw, run_client, run_server
from harness.run.endpoint_io import Children, Pipes
from harness.run.evaluate import tail
from harness.run.runner import Environment
from harness.spec.endpoint import Endpoint
from harness.spec.scenario import Scenario

REFUSALS_STOP = 3
START_BUDGET_S = 20.0
SEVERITY = {"SKIP": 0, "PASS": 1, "KNOWN": 2, "FAIL": 3, "TIMEOUT": 4, "ERROR": 5, "CRASH": 6}


@dataclasses.dataclass
class Options:
    tls: tuple[str, ...]
    scenarios: list[str]               # globs; empty: all
    repeat: int = 1


@dataclasses.dataclass
class Outcome:
    endpoint: Endpoint
    available: bool = True
    hint: str = ""
    version: str = ""
    version_output: str = ""
    error: str | None = None
    stopped: str | None = None
    interrupted: bool = False
    skipped_tls: dict = dataclasses.field(default_factory=dict)
    cells: list = dataclasses.field(default_factory=list)


# -- before any cell -----------------------------------------------------------------------

def _values(env: Environment) -> dict[str, str]:
    return {"bin": str(env.bin_dir), "root": str(env.root)}


def missing_programs(endpoint: Endpoint, env: Environment) -> list[str]:
    out = []
    for word in endpoint.programs:
        path = endpoint.expand(word, _values(env))
        found = os.path.exists(path) if os.sep in path else shutil.which(path)
        if not found:
            out.append(path)
    return out


def endpoint_version(endpoint: Endpoint, env: Environment) -> tuple[str, str]:
    """(the first output line with a digit in it, the whole output)."""
    argv = [endpoint.expand(w, _values(env)) for w in endpoint.version]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=30, text=True, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})", ""
    lines = [ln.strip() for ln in done.stdout.splitlines() if ln.strip()]
    return next((ln for ln in lines if any(c.isdigit() for c in ln)), "unknown"), done.stdout


def plans(endpoint: Endpoint, scenarios: list[Scenario], options: Options) -> list[Plan]:
    """Cells in a stable order: per TLS version the preflight first."""
    out, tag = [], 0
    for tls in (v for v in endpoint.tls if v in options.tls):
        for s in scenarios:
            if s.endpoint != endpoint.role or tls not in s.tls:
                continue
            if not s.preflight and options.scenarios and not any(
                    fnmatch.fnmatchcase(s.id, g) for g in options.scenarios):
                continue
            tag += 1
            out.append(Plan(s, endpoint, tls, tag))
    return out


# -- cells ----------------------------------------------------------------------------------

def reproduce(plan: Plan) -> str:
    return shlex.join(["./tlsclose", "endpoints", "--endpoint", plan.endpoint.name,
                       "--scenario", plan.scenario.id, "--tls", plan.tls])


def base_result(plan: Plan) -> dict:
    return {"id": plan.id, "case": plan.scenario.id, "stack": plan.endpoint.name,
            "tls": plan.tls, "io": IO, "role": plan.endpoint.role, "verdict": None, "reason": "",
            "peer": plan.scenario.peer, "ops": [], "wire": [], "checks": [], "notes": [],
            "duration_ms": 0.0, "command": reproduce(plan), "stderr": {"peer": "", "sut": ""},
            "argv": None, "endpoint": {}}


def _fill(result: dict, raw: Raw, judgement, obs: dict, sut_output: str) -> dict:
    result.update(verdict=judgement.verdict, reason=judgement.reason, checks=judgement.checks,
                  notes=judgement.notes, endpoint=obs, duration_ms=raw.duration_ms,
                  wire=raw.peer.lines if raw.peer else [],
                  stderr={"peer": tail(raw.peer.stderr) if raw.peer else "",
                          "sut": tail(sut_output, lines=60, chars=6000)},
                  argv={"peer": raw.peer.argv if raw.peer else None, "sut": raw.client_argv})
    return result


def refused(raw: Raw) -> bool:
    if raw.peer is None:
        return False
    return any(e.get("ev") == "end" and "Connection refused" in str(e.get("message", ""))
               for e in raw.peer.lines)


def combine(runs: list[dict]) -> dict:
    """One result for the repeats of a cell: the worst run, flagged flaky
    when the verdicts differ."""
    verdicts = [r["verdict"] for r in runs]
    worst = max(runs, key=lambda r: SEVERITY.get(r["verdict"], 9))
    if len(runs) == 1:
        return runs[0]
    result = dict(worst, repeats=verdicts, flaky=len(set(verdicts)) > 1)
    if result["flaky"]:
        result["reason"] = (f"FLAKY: verdicts over {len(runs)} runs: {', '.join(verdicts)}; "
                            f"worst: {worst['reason']}")
    return result


class _Run:
    """The state of one endpoint's run."""

    def __init__(self, endpoint, env, options, interrupt, progress):
        self.ep, self.env, self.options, self.progress = endpoint, env, options, progress
        self.pipes = Pipes(interrupt)
        self.kids = Children(self.pipes)
        self.server: S.Running | None = None
        self.pending: list[tuple[Plan, Raw, dict, int]] = []   # server cells, judged at the end
        self.refusals = 0

    def execute(self, plan: Plan) -> Raw:
        if self.ep.role == "client":
            return run_client(plan, self.env, self.kids, self.pipes)
        return run_server(plan, self.env, self.kids, self.pipes, self.server.port)

    def log_offset(self) -> int:
        return self.pipes.size("server:out")

    def judge_now(self, plan: Plan, raw: Raw):
        """Clients now; servers provisionally (the backend may still speak)."""
        if self.ep.role == "client":
            return J.judge_client(plan, raw)
        return J.judge_server(plan, raw, None, None)

    def sut_output(self, raw: Raw, start: int = 0, end: int | None = None) -> str:
        if self.ep.role == "client":
            return raw.client_output
        return self.pipes.text("server:out", start, end)


def _preflight(run: _Run, plan: Plan, out: Outcome) -> dict | None:
    """Runs the preflight cell; returns its result, or None when the version
    is skipped. Sets out.error when the exchange does not work."""
    start = run.log_offset() if run.server else 0
    raw = run.execute(plan)
    refusal = J.version_refused(raw)
    if refusal:
        out.skipped_tls[plan.tls] = (f"{run.ep.name} offers no TLS {plan.tls} that the peer "
                                     f"accepts (handshake: {refusal})")
        return None
    judgement, obs = run.judge_now(plan, raw)
    result = base_result(plan)
    broken = judgement.verdict in ("CRASH", "TIMEOUT", "ERROR", "SKIP")
    if broken or not J.exchange_worked(plan, raw, obs):
        what = judgement.reason if broken else obs.get("report") or obs.get("response")
        out.error = (f"pre-flight: a plain complete exchange ({plan.scenario.id}, TLS "
                     f"{plan.tls}) did not work: {what}")
        if run.server:
            out.error += f"; server output: {tail(run.sut_output(raw, start), 6, 600)}"
        _fill(result, raw, judgement, obs, run.sut_output(raw, start))
        result.update(verdict="ERROR", reason=out.error)
        return result
    if run.server:
        run.pending.append((plan, raw, result, start))
        return result
    return _fill(result, raw, judgement, obs, raw.client_output)


def _cell(run: _Run, plan: Plan) -> list[dict]:
    runs = []
    for _ in range(run.options.repeat):
        start = run.log_offset() if run.server else 0
        raw = run.execute(plan)
        result = base_result(plan)
        run.refusals = run.refusals + 1 if refused(raw) else 0
        if run.server:
            run.pending.append((plan, raw, result, start))
        else:
            judgement, obs = J.judge_client(plan, raw)
            _fill(result, raw, judgement, obs, raw.client_output)
        runs.append(result)
        if run.refusals >= REFUSALS_STOP:
            break
        plan = dataclasses.replace(plan, tag=plan.tag + 100000)   # a new backend tag per run
    return runs


def _judge_pending(run: _Run, requests: list[dict], server_end: int) -> None:
    has_backend = bool((run.ep.server or {}).get("backend"))
    pending = sorted(run.pending, key=lambda p: p[3])
    for i, (plan, raw, result, start) in enumerate(pending):
        end = pending[i + 1][3] if i + 1 < len(pending) else server_end
        mine = [r for r in requests if f"cell={plan.tag}" in str(r.get("target", "")).split("?")[-1]
                .split("&")] if has_backend else None
        judgement, obs = J.judge_server(plan, raw, mine, run.pipes.text("server:out", start, end))
        _fill(result, raw, judgement, obs, run.pipes.text("server:out", start, end))


def run_endpoint(endpoint: Endpoint, scenarios: list[Scenario], env: Environment,
                 options: Options, interrupt, progress=None) -> Outcome:
    out = Outcome(endpoint)
    missing = missing_programs(endpoint, env)
    if missing:
        out.available = False
        out.hint = f"{', '.join(missing)} not found; {endpoint.install_hint()}"
        return out
    out.version, out.version_output = endpoint_version(endpoint, env)
    cells = plans(endpoint, scenarios, options)
    run = _Run(endpoint, env, options, interrupt, progress)
    results: list[list[dict]] = []
    try:
        with tempfile.TemporaryDirectory(prefix=f"tlsclose-{endpoint.name}-") as top, run.kids:
            if endpoint.role == "server":
                try:
                    run.server = S.start(endpoint, env, run.kids, run.pipes, Path(top),
                                         time.monotonic() + START_BUDGET_S)
                except (S.StartError, OSError) as exc:
                    out.error = f"{endpoint.name} did not start: {exc}"
                    first = next((p for p in cells if p.scenario.preflight), None)
                    if first:
                        results.append([dict(base_result(first), verdict="ERROR",
                                             reason=out.error)])
                    return _finish(out, results)
            _run_cells(run, cells, out, results)
            if run.server:
                server_end = run.log_offset()
                requests = S.stop(run.server, run.kids, run.pipes,
                                  time.monotonic() + START_BUDGET_S)
                _judge_pending(run, requests, max(server_end, run.log_offset()))
    except KeyboardInterrupt:
        # Every child was reaped when the block above was left; the cells
        # already judged are kept, the one in progress and unjudged server
        # cells are dropped.
        out.interrupted = True
    finally:
        run.pipes.close()
    return _finish(out, results)


def _run_cells(run: _Run, cells: list[Plan], out: Outcome, results: list) -> None:
    for plan in cells:
        if plan.tls in out.skipped_tls:
            results.append([dict(base_result(plan), verdict="SKIP",
                                 reason=out.skipped_tls[plan.tls])])
            continue
        if plan.scenario.preflight:
            pre = _preflight(run, plan, out)
            if pre is not None:
                results.append([pre])
            if out.error:
                return
            continue
        runs = _cell(run, plan)
        results.append(runs)
        if run.progress:
            run.progress(runs[-1])
        if run.refusals >= REFUSALS_STOP:
            out.stopped = (f"{run.ep.name} refused {REFUSALS_STOP} connections in a row: it is "
                           f"down; stopped at {plan.id} (its last output: "
                           f"{tail(run.pipes.text('server:out'), 4, 400)})")
            return


def _finish(out: Outcome, results: list[list[dict]]) -> Outcome:
    results = [[r for r in runs if r.get("verdict")] for runs in results]
    out.cells = [combine(runs) for runs in results if runs]
    if out.stopped and out.cells:
        last = out.cells[-1]
        last.update(verdict="ERROR", reason=out.stopped)
    return out
