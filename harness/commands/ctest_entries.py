"""Writes the ctest entries of the conformance matrix as a CMake file.

Run at configure time by cmake/matrix.cmake:
  python3 -m harness.commands.ctest_entries --root SRC --build BUILD --output FILE
One entry per case × default stack, named CASE@STACK, running
  BUILD/bin/tlsclose-ctest-client BUILD/matrix/daemon.sock PYTHON SRC/tlsclose
      --no-build --case CASE --stack STACK --out BUILD/matrix/CASE@STACK --no-report
which hands those `run` arguments to the harness daemon the fixture
`matrix-daemon` starts (matrix-daemon-start / -stop entries), or runs the
harness itself when there is no daemon socket (a stale one is an error)
(results.json only: the matrix job merges the pieces and reports once), with
bytecode cached under BUILD/pycache, a TIMEOUT that covers every cell of the
entry timing out, and LABELS: conformance, the stack, tls1.x, IO modes, roles
and the cited S*/R* ids. External stack files (`--stack-files "A.toml;B.toml"`,
from cmake -DTLSCLOSE_STACK_FILES) get one entry per case too, CASE@NAME,
running `--stack-file PATH` instead of `--stack STACK`.
A case file that does not validate gets no entry (the problems are printed
as a warning and the `cases-check` entry fails on them), so one file being
edited never breaks configure for everybody else.
The output also sets TLSCLOSE_MATRIX_INPUTS: every file the list depends on
(cases, the cases directory, stack files, the harness modules used here),
for CMAKE_CONFIGURE_DEPENDS.
Exit status: 0 (problems in cases are warnings), 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from harness.base.paths import daemon_socket
from harness.spec import corpus
from harness.spec.case import Case, load_case
from harness.base.problems import InvalidInput
from harness.spec.stack import DEFAULT_STACKS, Stack, find_stack_file, load_stack


GRACE_S = 2          # per cell, on top of its deadline: start-up and reaping
CLIENT = "tlsclose-ctest-client"
FIXTURE = "matrix-daemon"
SLACK_S = 30         # per entry: probing the stack, writing results
# Every entry is a fresh interpreter: compiling the harness from source each
# time costs more than a small cell, so bytecode is cached, in the build tree
# (the source tree stays clean, which is what PYTHONDONTWRITEBYTECODE is for).
BYTECODE = "PYTHONDONTWRITEBYTECODE=unset:;PYTHONPYCACHEPREFIX=set:"


def _bracket(text: str) -> str:
    """A CMake bracket argument: no escaping, whatever the text holds."""
    eq = "="
    while f"]{eq}]" in text:
        eq += "="
    return f"[{eq}[{text}]{eq}]"


def _cells(case: Case, stack: Stack | None) -> dict[str, tuple[str, ...]]:
    """What an entry covers: the case's applicability, narrowed by what the
    stack file says the stack supports (when it exists)."""
    def narrow(values, supported):
        return tuple(v for v in values if stack is None or v in supported)
    return {"tls": narrow(case.applies["tls"], stack.tls if stack else ()),
            "io": narrow(case.applies["io"], stack.io if stack else ()),
            "roles": narrow(case.applies["roles"], stack.roles if stack else ())}


def _entry(case: Case, stack_name: str, stack: Stack | None, root: Path, build: Path,
           python: str, select: list[str] | None = None) -> list[str]:
    if stack is not None and stack.api not in case.applies["api"]:
        return []
    dims = _cells(case, stack)
    count = len(dims["tls"]) * len(dims["io"]) * len(dims["roles"])
    name = f"{case.id}@{stack_name}"
    timeout = math.ceil(max(count, 1) * (case.deadline_ms / 1000 + GRACE_S) + SLACK_S)
    labels = ["conformance", stack_name] + [f"tls{t}" for t in dims["tls"]] + \
        list(dims["io"]) + list(dims["roles"]) + list(case.cites)
    command = [str(build / "bin" / CLIENT), str(_socket(build)), python, str(root / "tlsclose"),
               "--no-build", "--case", case.id, *(select or ["--stack", stack_name]),
               "--out", str(build / "matrix" / name), "--no-report"]
    return [
        f"add_test(NAME {_bracket(name)} COMMAND {' '.join(_bracket(w) for w in command)}"
        f" WORKING_DIRECTORY {_bracket(str(root))})",
        f"set_tests_properties({_bracket(name)} PROPERTIES TIMEOUT {timeout}"
        f" LABELS {_bracket(';'.join(labels))} FIXTURES_REQUIRED {FIXTURE}"
        f" ENVIRONMENT {_bracket('TLSCLOSE_BUILD_DIR=' + str(build))}"
        f" ENVIRONMENT_MODIFICATION {_bracket(BYTECODE + str(build / 'pycache'))})",
    ]


def _socket(build: Path) -> Path:
    return daemon_socket(build)


def _daemon_entries(root: Path, build: Path, python: str) -> list[str]:
    """The fixture every matrix entry requires: one warm harness, started
    before the first entry and stopped after the last (its answers are the
    entries' runs; tools/ctest_client.c)."""
    lines = []
    for action, role in (("start", "SETUP"), ("stop", "CLEANUP")):
        name = f"matrix-daemon-{action}"
        command = [python, str(root / "tlsclose"), "daemon", action, "--socket",
                   str(_socket(build)), "--log", str(build / "matrix" / "daemon.log")]
        lines += [
            f"add_test(NAME {_bracket(name)} COMMAND {' '.join(_bracket(w) for w in command)}"
            f" WORKING_DIRECTORY {_bracket(str(root))})",
            f"set_tests_properties({_bracket(name)} PROPERTIES TIMEOUT 60 LABELS conformance"
            f" FIXTURES_{role} {FIXTURE}"
            f" ENVIRONMENT {_bracket('TLSCLOSE_BUILD_DIR=' + str(build))}"
            f" ENVIRONMENT_MODIFICATION {_bracket(BYTECODE + str(build / 'pycache'))})",
        ]
    return lines


def _stacks(root: Path, names: list[str]) -> tuple[dict[str, Stack | None], list[Path], list]:
    stacks, inputs, problems = {}, [root / "stacks"], []
    for name in names:
        path = find_stack_file(name, [root / "stacks"])
        stacks[name] = None
        if path is not None:
            inputs.append(path)
            try:
                stacks[name] = load_stack(path, root)
            except InvalidInput as exc:
                problems += exc.problems
    return stacks, inputs, problems


def _stack_files(root: Path, files: list[Path], taken: list[str]):
    """External stack files: (path, stack) pairs, inputs, problems. A file
    whose stack name is already taken gets no entries (two tests, one name)."""
    pairs, inputs, problems = [], [], []
    for path in files:
        path = path if path.is_absolute() else root / path
        inputs.append(path)
        try:
            stack = load_stack(path, root)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        if stack.name in taken:
            problems.append(f"{path}: stack name {stack.name!r} is already registered; "
                            "no ctest entries for this file")
            continue
        taken.append(stack.name)
        pairs.append((path, stack))
    return pairs, inputs, problems


def _harness_sources(root: Path) -> list[Path]:
    mods = [m for m in sys.modules.values() if getattr(m, "__file__", None)]
    files = [Path(m.__file__).resolve() for m in mods]
    return sorted(f for f in files if f.is_relative_to(root / "harness"))


def generate(root: Path, build: Path, stack_names: list[str], python: str,
             stack_files: list[Path] = ()) -> tuple[str, list]:
    root, build = root.resolve(), build.resolve()
    stacks, inputs, problems = _stacks(root, stack_names)
    external, more_inputs, more_problems = _stack_files(root, list(stack_files),
                                                        list(stack_names))
    inputs += more_inputs
    problems += more_problems
    files = corpus.case_files(root / "cases")
    lines = ["# Generated by harness/commands/ctest_entries.py at configure time; do not edit."]
    lines += _daemon_entries(root, build, python)
    for path in files:
        try:
            case = load_case(path, root)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        for name in stack_names:
            lines += _entry(case, name, stacks[name], root, build, python)
        for path, stack in external:
            lines += _entry(case, stack.name, stack, root, build, python,
                            ["--stack-file", str(path)])
    front_door = _bracket(str(root / "tlsclose"))
    lines += [
        f"add_test(NAME {_bracket('cases-check')} COMMAND {_bracket(python)} {front_door}"
        f" cases --check WORKING_DIRECTORY {_bracket(str(root))})",
        "set_tests_properties(cases-check PROPERTIES TIMEOUT 60 LABELS corpus)",
    ]
    inputs += [root / "cases", *files, *_harness_sources(root)]
    lines.append("set(TLSCLOSE_MATRIX_INPUTS " +
                 " ".join(_bracket(str(p)) for p in dict.fromkeys(inputs)) + ")")
    return "\n".join(lines) + "\n", problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m harness.commands.ctest_entries")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--build", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--stacks", default=",".join(DEFAULT_STACKS))
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--stack-files", default="",
                   help="external stack files separated by ';' (relative ones: to --root)")
    args = p.parse_args(argv)
    files = [Path(f) for f in args.stack_files.split(";") if f.strip()]
    text, problems = generate(args.root, args.build, args.stacks.split(","), args.python, files)
    for problem in problems:
        print(problem, file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not args.output.exists() or args.output.read_text() != text:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
