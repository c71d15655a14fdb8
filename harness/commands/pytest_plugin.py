"""pytest as a driver of the conformance matrix: every cell is a test item.

    pytest cases/ --stack openssl --stack gnutls [-n 2] [--junitxml out.xml]

cases/conftest.py loads this plugin, so the case paths come first on the
command line (pytest reads the conftest files of its first paths before it
knows the plugin's options); `-p harness.commands.pytest_plugin` loads it whatever
the order, and for case files named on the command line from elsewhere.

Contract:
- Options (group "tlsclose"): --stack NAME / --stack-file FILE (repeatable;
  else the ini value `tlsclose_stacks`; else openssl and gnutls, as
  `tlsclose run`), --tls, --io, --role, --build-dir (else the ini value
  `tlsclose_build_dir`, $TLSCLOSE_BUILD_DIR or build/). Stack names are
  looked up as `tlsclose run` does (stacks/, then BUILD/stacks/).
- Collection: a case file (*.toml in cases/, or named on the command line)
  is a pytest File; its items are the cells harness.run.matrix.expand gives for
  the selected stacks and --tls/--io/--role, node id
  `cases/CASE.toml::STACK-TLS-IO-ROLE` (the path relative to the repository
  root, whatever pytest's rootdir). A case file that does not validate is a
  collection error listing its problems. Items carry markers with the words
  of the ctest LABELS: `conformance`, the stack name, `tls1.2`/`tls1.3`, the
  IO mode, the role and each cited statement (S1..S21, R1..R12); all are
  registered, so `-m` works under --strict-markers.
- Running: harness.run.runner.run_one, the function `tlsclose run` (and so each
  ctest entry) runs per cell: the same expansion, run and evaluation, so the
  same verdict. PASS passes; FAIL, ERROR, TIMEOUT and CRASH fail with the
  failed checks (expected against actual) as the message; KNOWN is an xfail
  and SKIP a skip, each with the harness's reason. Every item records the
  user properties cell, verdict and command (JUnit <properties>).
- Loading stack files happens at configure; probing the shims (SHIM
  --version) once per process at the first collection. Nothing is built:
  a missing build shows as ERROR cells naming what is missing, as with
  `tlsclose run --no-build`.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from harness.base.paths import ROOT, STACKS_DIR
from harness.spec import catalogue
from harness.spec import corpus
from harness.run import runner
from harness.base import vocabulary as V
from harness.run.evaluate import show
from harness.run.matrix import Cell, Selection, expand
from harness.base.problems import InvalidInput, UsageError
from harness.run.detect import detect
from harness.spec.stack import select_stacks

CASES_DIR = ROOT / "cases"
FAILING = ("FAIL", "ERROR", "TIMEOUT", "CRASH")


def _stack_names(config: pytest.Config) -> tuple[list[str], list[str]]:
    names = config.getoption("tlsclose_stack", None) or []
    files = config.getoption("tlsclose_stack_file", None) or []
    if not names and not files:
        names = list(config.getini("tlsclose_stacks") or [])
    return names, files


def _build_dir(config: pytest.Config) -> Path:
    given = config.getoption("tlsclose_build_dir", None)
    if given:
        return Path(given).resolve()
    ini = config.getini("tlsclose_build_dir")
    if ini:
        return (config.rootpath / ini).resolve()    # an ini path is the ini file's business
    return Path(os.environ.get("TLSCLOSE_BUILD_DIR") or ROOT / "build").resolve()


def _selection(config: pytest.Config) -> Selection:
    pick = {key: config.getoption(f"tlsclose_{key}", None) for key in ("tls", "io", "role")}
    return Selection(tls=(pick["tls"],) if pick["tls"] else V.TLS_VERSIONS,
                     io=(pick["io"],) if pick["io"] else V.IO_MODES,
                     roles=(pick["role"],) if pick["role"] else V.ROLES)


class _Matrix:
    """The session's stacks, selection and build. Probing the shims waits
    for the first case file, so an xdist controller never starts a shim."""

    def __init__(self, config: pytest.Config):
        names, files = _stack_names(config)
        self.env = runner.Environment(ROOT, _build_dir(config))
        try:
            self.stacks = select_stacks(names, files, STACKS_DIR, self.env.build_dir)
        except UsageError as exc:
            raise pytest.UsageError(f"tlsclose: {exc}")
        except InvalidInput as exc:
            raise pytest.UsageError("\n".join(str(p) for p in exc.problems))
        self.select = _selection(config)
        self._infos: dict | None = None
        self._setup: tuple[str | None] | None = None

    @property
    def infos(self) -> dict:
        if self._infos is None:
            self._infos = {s.name: detect(s, self.env.bin_dir, ROOT) for s in self.stacks}
        return self._infos

    def setup_problem(self) -> str | None:
        if self._setup is None:
            self._setup = (self.env.setup_problem(),)
        return self._setup[0]


_MATRIX = pytest.StashKey[_Matrix]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tlsclose", "tlsclose conformance matrix (cases/*.toml)")
    group.addoption("--stack", dest="tlsclose_stack", action="append", default=[],
                    metavar="NAME", help="a stack file NAME.toml under stacks/ or BUILD/stacks/, "
                                         "or 'all' (repeatable; default: openssl, gnutls)")
    group.addoption("--stack-file", dest="tlsclose_stack_file", action="append", default=[],
                    metavar="FILE", help="a stack file anywhere (repeatable)")
    group.addoption("--tls", dest="tlsclose_tls", choices=V.TLS_VERSIONS)
    group.addoption("--io", dest="tlsclose_io", choices=V.IO_MODES)
    group.addoption("--role", dest="tlsclose_role", choices=V.ROLES)
    group.addoption("--build-dir", dest="tlsclose_build_dir", metavar="DIR",
                    help="build tree with bin/ and credentials/ (default: $TLSCLOSE_BUILD_DIR "
                         "or build/)")
    parser.addini("tlsclose_stacks", "stacks of the matrix when no --stack is given",
                  type="args", default=["openssl", "gnutls"])
    parser.addini("tlsclose_build_dir", "build tree when no --build-dir is given", default="")


def _register_markers(config: pytest.Config, stacks: list) -> None:
    words = [("conformance", "a cell of the tlsclose conformance matrix")]
    words += [(s.name, f"a cell of stack {s.name} ({s.file})") for s in stacks]
    words += [(f"tls{v}", f"a cell at TLS {v}") for v in V.TLS_VERSIONS]
    words += [(io, f"a cell in IO mode {io}") for io in V.IO_MODES]
    words += [(role, f"a cell where the stack is the TLS {role}") for role in V.ROLES]
    words += [(sid, f"a cell of a case citing {sid}: {text}")
              for sid, text in catalogue.STATEMENTS.items()]
    for name, text in words:
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_configure(config: pytest.Config) -> None:
    matrix = _Matrix(config)
    config.stash[_MATRIX] = matrix
    _register_markers(config, matrix.stacks)


def pytest_report_header(config: pytest.Config) -> list[str]:
    matrix = config.stash.get(_MATRIX, None)
    if matrix is None:
        return []
    names = ", ".join(s.name for s in matrix.stacks)
    return [f"tlsclose: stacks {names}; build {matrix.env.build_dir}"]


def _is_case_file(path: Path, parent: pytest.Collector) -> bool:
    if path.suffix != ".toml":
        return False
    return path.parent.resolve() == CASES_DIR or parent.session.isinitpath(path)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if not _is_case_file(file_path, parent):
        return None
    try:
        nodeid = file_path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        nodeid = None           # outside the tree: pytest's own, relative to its rootdir
    return CaseFile.from_parent(parent, path=file_path, nodeid=nodeid)


class CaseFile(pytest.File):
    def collect(self):
        matrix = self.config.stash[_MATRIX]
        try:
            cases = corpus.load_cases([self.path], ROOT)
        except InvalidInput as exc:
            raise self.CollectError("\n".join(str(p) for p in exc.problems))
        for cell in expand(cases, matrix.stacks, matrix.infos, matrix.select):
            yield CellItem.from_parent(self, name=cell_name(cell), cell=cell)


def cell_name(cell: Cell) -> str:
    return f"{cell.stack.name}-{cell.tls}-{cell.io}-{cell.role}"


class CellItem(pytest.Item):
    def __init__(self, *, cell: Cell, **kw):
        super().__init__(**kw)
        self.cell = cell
        self.result: dict | None = None
        for word in ["conformance", cell.stack.name, f"tls{cell.tls}", cell.io, cell.role,
                     *cell.case.cites]:
            self.add_marker(word)

    def runtest(self) -> None:
        matrix = self.config.stash[_MATRIX]
        result = runner.run_one(self.cell, matrix.env, matrix.infos.get(self.cell.stack.name),
                                matrix.setup_problem(), runner.Stop(threading.Event()))
        self.result = result
        self.user_properties += [("cell", self.cell.id), ("verdict", result["verdict"]),
                                 ("command", result["command"])]
        verdict = result["verdict"]
        if verdict == "SKIP":
            pytest.skip(result["reason"])
        if verdict == "KNOWN":
            pytest.xfail(result["reason"])
        if verdict in FAILING:
            pytest.fail(failure_text(result), pytrace=False)

    def reportinfo(self):
        return self.path, None, f"{self.cell.case.id}: {self.name}"


def _diff_lines(check: dict) -> list[str]:
    where = f"step {check['step']} " if check.get("step") is not None else ""
    return [f"  {where}{check['what']} [{check['level']}]",
            f"    - expected: {show(check['expected'])}",
            f"    + actual:   {show(check['actual'])}"]


def failure_text(result: dict) -> str:
    """The message of a failing cell: the verdict and reason, then for a
    FAIL every failed check as expected (-) against actual (+)."""
    lines = [f"{result['verdict']}: {result['reason']}"]
    failed = [c for c in result.get("checks", []) if not c["ok"] and not c.get("known")]
    if failed:
        lines.append("expectation diff (- expected, + actual):")
        for check in failed:
            lines += _diff_lines(check)
    excused = [c for c in result.get("checks", []) if not c["ok"] and c.get("known")]
    if excused:
        lines.append(f"({len(excused)} more failed check(s) covered by [[known]] entries)")
    if result["verdict"] != "FAIL" and result.get("stderr", {}).get("sut"):
        lines.append("shim stderr (last lines):")
        lines += ["  " + line for line in result["stderr"]["sut"].splitlines()[-8:]]
    lines.append(f"reproduce: {result['command']}")
    return "\n".join(lines)
