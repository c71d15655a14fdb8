"""Stack files (stacks/NAME.toml): what a stack under test is and can do.

Contract:
- `load_stack(path, root)` returns a `Stack` or raises InvalidInput with
  every problem as `file:line: field: problem`; it starts no process.
- `probe(stack, paths)` finds out whether the shim is built and what library
  version it runs (`prefix + command --version`, with the stack's `env`,
  docs/shim-protocol.md §1). A missing binary is not an error: the stack is
  unavailable and its cells are skipped with an install hint naming the
  stack's `packages` that dpkg does not report installed. So is a shim that
  cannot say its version while some of its packages are missing (its library
  is gone). A shim that cannot say its version although its packages are all
  there is reported in `StackInfo.error` and its cells become ERROR.
- `Known.matches` decides whether a documented deviation covers a check.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from harness import fields as F
from harness import versions
from harness import vocabulary as V
from harness.case import load_toml, display_path
from harness.problems import Problems
from harness.tomlpos import line_of

TOP_KEYS = ("name", "title", "api", "command", "prefix", "env", "transport", "tls", "roles", "io",
            "packages", "known")
TOP_REQUIRED = ("name", "title", "api", "command", "tls", "roles", "io")
KNOWN_KEYS = ("case", "check", "tls", "io", "role", "versions", "summary", "evidence")
KNOWN_NARROWING = {"tls": V.TLS_VERSIONS, "io": V.IO_MODES, "role": V.ROLES}
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
VERSION_TIMEOUT_S = 10


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


@dataclasses.dataclass
class StackInfo:
    available: bool
    library: str | None = None
    reported_api: str | None = None
    hint: str = ""
    error: str = ""


def _words(probs: Problems, path: tuple, value: object, nonempty: bool) -> list[str]:
    if not F.want_type(probs, path, value, list, "an array of strings"):
        return []
    if nonempty and not value:
        probs.add(path, "must not be empty")
    for i, word in enumerate(value):
        if not F.want_type(probs, path + (i,), word, str, "a string"):
            continue
        for name in PLACEHOLDER_RE.findall(word):
            if name not in ("bin", "root"):
                probs.add(path + (i,), f"unknown placeholder {{{name}}} (known: {{bin}}, {{root}})")
    return [w for w in value if isinstance(w, str)]


def _narrowing(probs: Problems, path: tuple, value: object, allowed) -> tuple[str, ...] | None:
    values = [value] if isinstance(value, str) else value
    chosen = F.string_list(probs, path, values, tuple(allowed))
    return tuple(chosen)


def _known(probs: Problems, i: int, entry: object) -> Known | None:
    path = ("known", i)
    if not F.want_type(probs, path, entry, dict, "a table"):
        return None
    F.unknown_keys(probs, path, entry, KNOWN_KEYS)
    F.missing_keys(probs, path, entry, ("case", "summary", "evidence"))
    for key in ("case", "summary", "evidence"):
        if key in entry:
            F.text(probs, path + (key,), entry[key])
    if "check" in entry and entry["check"] not in ("rfc", "api"):
        probs.add(path + ("check",), "must be \"rfc\" or \"api\"")
    narrow = {k: _narrowing(probs, path + (k,), entry[k], allowed)
              for k, allowed in KNOWN_NARROWING.items() if k in entry}
    if "versions" in entry:
        try:
            versions.parse_range(entry["versions"])
        except ValueError as exc:
            probs.add(path + ("versions",), str(exc))
    return Known(i + 1, line_of(probs.lines, path), str(entry.get("case", "")),
                 entry.get("check"), narrow.get("tls"), narrow.get("io"), narrow.get("role"),
                 entry.get("versions"),
                 str(entry.get("summary", "")).strip(), str(entry.get("evidence", "")).strip())


def _capabilities(probs: Problems, data: dict) -> dict[str, tuple[str, ...]]:
    out = {}
    for key, allowed in (("tls", V.TLS_VERSIONS), ("roles", V.ROLES), ("io", V.IO_MODES)):
        chosen = F.string_list(probs, (key,), data.get(key, []), allowed) if key in data else []
        out[key] = tuple(v for v in allowed if v in chosen)
    return out


def _env(probs: Problems, value: object) -> dict[str, str]:
    if not F.want_type(probs, ("env",), value, dict, "a table of strings"):
        return {}
    for key, item in value.items():
        F.want_type(probs, ("env", key), item, str, "a string")
    return {k: v for k, v in value.items() if isinstance(v, str)}


def load_stack(path: Path, root: Path | None = None) -> Stack:
    path = Path(path)
    shown = display_path(path, root)
    data, probs = load_toml(path, shown)
    F.unknown_keys(probs, (), data, TOP_KEYS)
    F.missing_keys(probs, (), data, TOP_REQUIRED)
    if "name" in data and F.text(probs, ("name",), data["name"]) and data["name"] != path.stem:
        probs.add(("name",), f"{data['name']!r} differs from the file name {path.stem!r}")
    if "title" in data:
        F.text(probs, ("title",), data["title"], one_line=True)
    if "api" in data and data["api"] not in V.APIS:
        probs.add(("api",), f"must be one of {', '.join(V.APIS)}")
    if data.get("transport", "fd") not in ("fd", "connect"):
        probs.add(("transport",), "must be \"fd\" or \"connect\"")
    command = _words(probs, ("command",), data.get("command", []), True)
    prefix = _words(probs, ("prefix",), data.get("prefix", []), False)
    packages = F.string_list(probs, ("packages",), data.get("packages", []), nonempty=False)
    env = _env(probs, data.get("env", {}))
    caps = _capabilities(probs, data)
    entries = data.get("known", [])
    known = []
    if F.want_type(probs, ("known",), entries, list, "an array of tables ([[known]])"):
        known = [k for i, e in enumerate(entries) if (k := _known(probs, i, e))]
    probs.raise_if_any()
    return Stack(name=data["name"], title=data["title"].strip(), api=data["api"], command=command,
                 prefix=prefix, env=env, transport=data.get("transport", "fd"), tls=caps["tls"],
                 roles=caps["roles"], io=caps["io"], packages=packages, known=known, file=shown)


def _binary(stack: Stack, bin_dir: Path, root: Path) -> str | None:
    first = stack.expand(stack.command[:1], bin_dir, root)[0]
    if "/" in first:
        return first if os.path.isfile(first) and os.access(first, os.X_OK) else None
    return shutil.which(first)


def missing_packages(names: list[str]) -> list[str] | None:
    """The names dpkg does not report installed; None without dpkg."""
    if not names:
        return []
    if not shutil.which("dpkg-query"):
        return None
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n",
                               *names], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    installed = {f[0] for f in map(str.split, done.stdout.splitlines())
                 if len(f) > 1 and f[1].startswith("ii")}
    return [n for n in names if n not in installed]


def probe(stack: Stack, bin_dir: Path, root: Path) -> StackInfo:
    if _binary(stack, bin_dir, root) is None:
        return StackInfo(False, hint=stack.install_hint(missing_packages(stack.packages)))
    # The prefix too: a wrapper or loader the shim cannot start without.
    argv = stack.argv(bin_dir, root) + ["--version"]
    env = {**os.environ, **stack.env}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env,
                              timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return StackInfo(True, error=f"{' '.join(argv)}: {exc}")
    for line in done.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("library"), str) and done.returncode == 0:
            return StackInfo(True, library=obj["library"], reported_api=obj.get("api"))
    missing = missing_packages(stack.packages)
    if missing:
        return StackInfo(False, hint=stack.install_hint(missing))
    tail = (done.stderr or done.stdout).strip()[-300:]
    return StackInfo(True, error=f"{' '.join(argv)} exited {done.returncode} without a version "
                                 f"line: {tail}")
