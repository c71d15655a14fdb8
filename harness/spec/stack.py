"""Stack files (stacks/SHIM/NAME.toml): what a stack under test is and can do.

Contract:
- `load_stack(path, root)` returns a `Stack` or raises InvalidInput with
  every problem as `file:line: field: problem`; it starts no process.
- `select_stacks(names, files, ...)` resolves `--stack NAME` (and `all`)
  and `--stack-file FILE` to loaded stacks, the lookup every command shares.
- `Known.matches` decides whether a documented deviation covers a check.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import re
from pathlib import Path

from harness.spec import schema
from harness.base import versions
from harness.base import vocabulary as V
from harness.base.tomlfile import display_path, load_toml
from harness.base.paths import ROOT, STACKS_DIR
from harness.base.problems import Problems, UsageError
from harness.base.tomlpos import line_of

KNOWN_NARROWING = {"tls": V.TLS_VERSIONS, "io": V.IO_MODES, "role": V.ROLES}
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("bin", "root")
STACK_NAME_RE = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")


@dataclasses.dataclass
class Known:
    number: int                    # 1-based position among the [[known]] entries
    line: int                      # where the entry starts in the stack file
    case: str                      # case id or glob
    check: str | None              # "rfc", "api" or None (both)
    tls: tuple[str, ...] | None
    io: tuple[str, ...] | None
    role: tuple[str, ...] | None
    versions: str | None
    summary: str
    evidence: str

    def covers_cell(self, case_id: str, tls: str, io: str, role: str,
                    version: tuple[int, ...] | None) -> bool:
        if not fnmatch.fnmatchcase(case_id, self.case):
            return False
        for want, have in ((self.tls, tls), (self.io, io), (self.role, role)):
            if want is not None and have not in want:
                return False
        return self.versions is None or versions.in_range(version, self.versions)

    def covers_check(self, level: str) -> bool:
        return self.check is None or self.check == level


@dataclasses.dataclass
class Stack:
    name: str
    title: str
    api: str
    command: list[str]
    prefix: list[str]
    env: dict[str, str]
    transport: str
    tls: tuple[str, ...]
    roles: tuple[str, ...]
    io: tuple[str, ...]
    packages: list[str]
    known: list[Known]
    file: str
    source: str = "name"            # "name" (--stack) or "file" (--stack-file)

    def expand(self, words: list[str], bin_dir: Path, root: Path) -> list[str]:
        return [w.replace("{bin}", str(bin_dir)).replace("{root}", str(root)) for w in words]

    def argv(self, bin_dir: Path, root: Path) -> list[str]:
        return self.expand(self.prefix, bin_dir, root) + self.expand(self.command, bin_dir, root)

    def install_hint(self, missing: list[str] | None = None) -> str:
        """missing: the packages known not to be installed (None: unknown)."""
        wanted = self.packages if missing is None else missing
        if wanted:
            return f"unavailable: apt-get install {' '.join(wanted)} and rebuild"
        return "unavailable: the shim is not built (" + " ".join(self.command) + "); rebuild"


def _strings(value: object) -> list[str]:
    return [w for w in value if isinstance(w, str)] if isinstance(value, list) else []


def _words(probs: Problems, path: tuple, value: object) -> list[str]:
    """command/prefix words; only {bin} and {root} may be substituted."""
    for i, word in enumerate(value if isinstance(value, list) else []):
        for name in PLACEHOLDER_RE.findall(word) if isinstance(word, str) else ():
            if name not in PLACEHOLDERS:
                probs.add(path + (i,), f"unknown placeholder {{{name}}} (known: "
                          f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
    return _strings(value)


def _narrowing(value: object, allowed) -> tuple[str, ...] | None:
    values = [value] if isinstance(value, str) else _strings(value)
    return tuple(v for v in allowed if v in values)


def _known(probs: Problems, i: int, entry: dict) -> Known:
    path = ("known", i)
    narrow = {k: _narrowing(entry[k], allowed) for k, allowed in KNOWN_NARROWING.items()
              if k in entry}
    if isinstance(entry.get("versions"), str):
        try:
            versions.parse_range(entry["versions"])
        except ValueError as exc:
            probs.add(path + ("versions",), str(exc))
    return Known(i + 1, line_of(probs.lines, path), str(entry.get("case", "")),
                 entry.get("check"), narrow.get("tls"), narrow.get("io"), narrow.get("role"),
                 entry.get("versions"),
                 str(entry.get("summary", "")).strip(), str(entry.get("evidence", "")).strip())


def _capabilities(data: dict) -> dict[str, tuple[str, ...]]:
    return {key: tuple(v for v in allowed if v in _strings(data.get(key)))
            for key, allowed in (("tls", V.TLS_VERSIONS), ("roles", V.ROLES),
                                 ("io", V.IO_MODES))}


def load_stack(path: Path, root: Path | None = None) -> Stack:
    path = Path(path)
    shown = display_path(path, root)
    data, probs = load_toml(path, shown)
    schema.validate(probs, data, "stack")
    name = data.get("name")
    if isinstance(name, str) and name.strip() and name != path.stem:
        probs.add(("name",), f"{name!r} differs from the file name {path.stem!r}")
    command = _words(probs, ("command",), data.get("command"))
    prefix = _words(probs, ("prefix",), data.get("prefix"))
    env = {k: v for k, v in data.get("env", {}).items() if isinstance(v, str)} \
        if isinstance(data.get("env"), dict) else {}
    entries = data.get("known") if isinstance(data.get("known"), list) else []
    known = [_known(probs, i, e) for i, e in enumerate(entries) if isinstance(e, dict)]
    probs.raise_if_any()
    caps = _capabilities(data)
    return Stack(name=data["name"], title=data["title"].strip(), api=data["api"], command=command,
                 prefix=prefix, env=env, transport=data.get("transport", "fd"), tls=caps["tls"],
                 roles=caps["roles"], io=caps["io"], packages=_strings(data.get("packages")),
                 known=known, file=shown)


DEFAULT_STACKS = ("openssl", "gnutls")


# The template of docs/your-stack.md: a real shim, but not one of the stacks
# the project ships, so `--stack all` leaves it out (name it to run it).
NOT_IN_ALL = ("example",)


def stack_dirs(stacks_dir: Path, build_dir: Path | None) -> list[Path]:
    """Where --stack NAME (and 'all') looks: the tree's stacks/, then the
    stack files the build generated (BUILD/stacks/, e.g. one per
    TLSCLOSE_OPENSSL_ROOTS entry, docs/your-stack.md). A substitute for
    stacks/ (tests) is taken alone."""
    own = Path(stacks_dir).resolve() == STACKS_DIR
    return [Path(stacks_dir)] + ([Path(build_dir) / "stacks"] if build_dir is not None and own
                                 else [])


def stack_files(directory: Path) -> list[Path]:
    """The stack files of a directory. The rule of the tree: a stack file
    lives in the folder of the shim it runs, named after the stack
    (stacks/openssl/openssl.toml, stacks/python-ssl/python-ssl-ragged.toml);
    a flat directory of stack files (BUILD/stacks/, tests) works too."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    # A stack's name is lower-case words joined by '-'; other TOML files in a
    # shim's folder (Cargo.toml) are its build's.
    found = [p for p in [*directory.glob("*.toml"), *directory.glob("*/*.toml")]
             if STACK_NAME_RE.match(p.stem)]
    return sorted(found, key=lambda p: (p.stem, str(p)))


def find_stack_file(name: str, dirs: list[Path]) -> Path | None:
    for d in dirs:
        for path in (d / name / f"{name}.toml", d / f"{name}.toml"):
            if path.is_file():
                return path
        hits = [p for p in Path(d).glob(f"*/{name}.toml") if p.is_file()] if Path(d).is_dir() \
            else []
        if hits:
            return sorted(hits)[0]
    return None


def select_stacks(names: list[str], files: list[str], stacks_dir: Path = STACKS_DIR,
                  build_dir: Path | None = None, root: Path = ROOT) -> list[Stack]:
    """The stacks of `--stack NAME`... (default: the default stacks unless
    files are given; 'all': every stack file, the default stacks first) and
    `--stack-file FILE`...; raises UsageError for a name without a file or
    a stack selected twice, InvalidInput for a bad file."""
    dirs = stack_dirs(stacks_dir, build_dir)
    names = list(names) or ([] if files else list(DEFAULT_STACKS))
    if "all" in names:
        found = sorted({p.stem for d in dirs for p in stack_files(d)} - set(NOT_IN_ALL))
        every = [n for n in DEFAULT_STACKS if n in found] + [n for n in found
                                                             if n not in DEFAULT_STACKS]
        names = list(dict.fromkeys(n for name in names
                                   for n in (every if name == "all" else [name])))
    stacks = []
    for name in names:
        path = find_stack_file(name, dirs)
        if path is None:
            raise UsageError(f"--stack {name}: no stack file {name}.toml in "
                             f"{' or '.join(str(d) for d in dirs)}")
        stacks.append(load_stack(path, root))
    for file in files:
        stack = load_stack(Path(file), root)
        stack.source = "file"
        stacks.append(stack)
    seen = set()
    for stack in stacks:
        if stack.name in seen:
            raise UsageError(f"stack {stack.name} is selected twice")
        seen.add(stack.name)
    return stacks
