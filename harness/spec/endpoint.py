"""Endpoint files (endpoints/NAME.toml): a real TLS client or server the tool
starts, and how it tells its user what happened (docs/endpoints.md).

Contract:
- `load_endpoint(path, root)` returns an `Endpoint` or raises InvalidInput
  with every problem as `file:line: field: problem`; it starts no process.
- `load_endpoints(dir, root, scenarios)` loads every *.toml of a directory,
  sorted by name; with scenarios given, a [[known]] entry that names no
  scenario of the endpoint's role is a problem too.
- `Endpoint.expand(text, values)` substitutes the {placeholders} of the
  endpoint's role; the loader has checked that no other name is used.
- `Endpoint.known` are stack-file style [[known]] entries (harness.spec.stack
  Known, level "rfc"): a documented violation of the endpoint, with evidence.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import re
from pathlib import Path

from harness.base import vocabulary as V
from harness.base.problems import InvalidInput, Problem, Problems
from harness.base.tomlfile import display_path, load_toml
from harness.base.tomlpos import line_of
from harness.spec import rules, schema
from harness.spec.stack import Known

PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]+)\}")
NAME_RE = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")
ALLOWED = {"client": V.CLIENT_PLACEHOLDERS, "server": V.SERVER_PLACEHOLDERS}


@dataclasses.dataclass
class Endpoint:
    name: str
    title: str
    role: str                       # the endpoint's TLS role
    packages: list[str]
    programs: list[str]             # executables it needs (absolute, or found on PATH)
    version: list[str]              # the command whose output names its version
    command: list[str]
    stdin: str | None
    stdin_eof: bool
    env: dict[str, str]
    tls: tuple[str, ...]
    verdict: dict | None            # clients: success_exit, failure_output, body
    server: dict | None             # servers: listen, port, ready, config..., backend, paths
    known: list[Known]
    file: str

    def expand(self, text: str, values: dict[str, str]) -> str:
        return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def paths(self) -> dict[str, str]:
        given = (self.server or {}).get("paths") or {}
        return {"GET": given.get("get", "/"), "POST": given.get("post", "/upload")}

    def install_hint(self) -> str:
        if self.packages:
            return f"apt-get install {' '.join(self.packages)}"
        return "install " + " ".join(self.programs or self.command[:1])


def _texts(data: dict) -> list[tuple[tuple, str]]:
    """(field path, text) of every string that may hold placeholders."""
    out = [((key, i), w) for key in ("command", "version", "programs")
           for i, w in enumerate(data.get(key) or [])]
    out += [(("env", k), v) for k, v in (data.get("env") or {}).items()]
    if isinstance(data.get("stdin"), str):
        out.append((("stdin",), data["stdin"]))
    server = data.get("server") if isinstance(data.get("server"), dict) else {}
    if isinstance(server.get("config"), str):
        out.append((("server", "config"), server["config"]))
    return [(p, t) for p, t in out if isinstance(t, str)]


def _placeholders(probs: Problems, data: dict, role: str) -> set[str]:
    used = set()
    for path, text in _texts(data):
        for name in PLACEHOLDER_RE.findall(text):
            used.add(name)
            if name not in ALLOWED[role]:
                probs.add(path, f"unknown placeholder {{{name}}} for a {role} endpoint (known: "
                          + ", ".join("{" + p + "}" for p in ALLOWED[role]) + ")")
    return used


def _regex(probs: Problems, path: tuple, text: object) -> None:
    if isinstance(text, str):
        try:
            re.compile(text, re.M)
        except re.error as exc:
            probs.add(path, f"not a regular expression: {exc}")


def _check_server(probs: Problems, server: dict, used: set[str]) -> None:
    listen, port = server.get("listen"), server.get("port")
    _regex(probs, ("server", "ready"), server.get("ready"))
    _regex(probs, ("server", "request_log"), server.get("request_log"))
    if listen == "fd" and "listen_fd" not in used:
        probs.add(("server", "listen"), "\"fd\" hands the socket over as {listen_fd}: the "
                  "command, env or config must say where it goes")
    if listen == "self" and port is None:
        probs.add(("server", "port"), "missing: a server that binds itself needs port = "
                  "\"pick\", \"ready\" or \"proc\"")
    if listen != "self" and port is not None:
        probs.add(("server", "port"), f"only with listen = \"self\" (the tool's socket has its "
                  f"port already), not {listen!r}")
    if port == "pick" and "port" not in used:
        probs.add(("server", "port"), "\"pick\" gives a free port as {port}: the command or "
                  "config must use it")
    if port == "ready" and "(?P<port>" not in str(server.get("ready", "")):
        probs.add(("server", "ready"), "port = \"ready\" takes the port from the pattern's "
                  "named group (?P<port>...)")
    if port in ("ready", "proc") and "ready" not in server:
        probs.add(("server", "ready"), "missing: a server that binds a port itself is waited "
                  "for by a line it prints")
    if server.get("backend") and "backend_port" not in used:
        probs.add(("server", "backend"), "the backend's address is {backend_port}: the config "
                  "or command must use it")
    if ("config" in server) != ("config_file" in server):
        probs.add(("server", "config_file" if "config" in server else "config"),
                  "config and config_file go together")


def _role_tables(probs: Problems, data: dict, role: str, used: set[str]) -> None:
    if role == "client":
        if "verdict" not in data:
            probs.add(("verdict",), "missing (required for a client: how it reports success)")
        if "server" in data:
            probs.add(("server",), "only for role = \"server\"")
        for i, text in enumerate((data.get("verdict") or {}).get("failure_output") or []):
            _regex(probs, ("verdict", "failure_output", i), text)
        body = (data.get("verdict") or {}).get("body")
        if body == "file" and "body" not in used:
            probs.add(("verdict", "body"), "\"file\": the command must say where with {body}")
    else:
        if "server" not in data:
            probs.add(("server",), "missing (required for a server: how it gets its socket)")
        if "verdict" in data:
            probs.add(("verdict",), "only for role = \"client\"")
        if isinstance(data.get("server"), dict):
            _check_server(probs, data["server"], used)


def _known(probs: Problems, i: int, entry: dict, line: int) -> Known:
    rule = rules.RULES.get(entry.get("rule"))
    if rule is not None and entry.get("severity") != rule.severity:
        probs.add(("known", i, "severity"), f"rule {rule.id} is {rule.severity}, not "
                  f"{entry.get('severity')!r}")
    tls = entry.get("tls")
    tls = (tls,) if isinstance(tls, str) else tuple(tls) if isinstance(tls, list) else None
    return Known(number=i + 1, line=line, case=str(entry.get("scenario", "")), level="rfc",
                 severity=entry.get("severity"), rule=entry.get("rule"), tls=tls, io=None,
                 role=None, versions=None, summary=" ".join(str(entry.get("summary")).split()),
                 evidence=str(entry.get("evidence", "")).strip())


def load_endpoint(path: Path, root: Path | None = None) -> Endpoint:
    path = Path(path)
    shown = display_path(path, root)
    data, probs = load_toml(path, shown)
    schema.validate(probs, data, "endpoint")
    name = data.get("name")
    if isinstance(name, str) and name != path.stem:
        probs.add(("name",), f"{name!r} differs from the file name {path.stem!r}")
    elif isinstance(name, str) and not NAME_RE.match(name):
        probs.add(("name",), "must be lower-case words joined by '-' or '.'")
    role = data.get("role") if data.get("role") in V.ROLES else "client"
    used = _placeholders(probs, data, role)
    _role_tables(probs, data, role, used)
    entries = data.get("known") if isinstance(data.get("known"), list) else []
    known = [_known(probs, i, e, line_of(probs.lines, ("known", i)))
             for i, e in enumerate(entries) if isinstance(e, dict)]
    probs.raise_if_any()
    tls = tuple(v for v in V.TLS_VERSIONS if v in data.get("tls", V.TLS_VERSIONS))
    return Endpoint(name=name, title=data["title"].strip(), role=role,
                    packages=list(data.get("packages", [])),
                    programs=list(data.get("programs", [])),
                    version=list(data["version"]), command=list(data["command"]),
                    stdin=data.get("stdin"), stdin_eof=bool(data.get("stdin_eof", True)),
                    env=dict(data.get("env", {})), tls=tls,
                    verdict=data.get("verdict"), server=data.get("server"), known=known,
                    file=shown)


def _unmatched_known(endpoint: Endpoint, scenarios) -> list[Problem]:
    ids = [s.id for s in scenarios if s.endpoint == endpoint.role]
    return [Problem(endpoint.file, k.line, f"known[{k.number}].scenario",
                    f"{k.case!r} matches no scenario for a {endpoint.role} endpoint")
            for k in endpoint.known if not fnmatch.filter(ids, k.case)]


def load_endpoints(directory: Path, root: Path | None = None,
                   scenarios: list | None = None) -> list[Endpoint]:
    problems, out = [], []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            out.append(load_endpoint(path, root))
        except InvalidInput as exc:
            problems += exc.problems
    if scenarios is not None:
        for endpoint in out:
            problems += _unmatched_known(endpoint, scenarios)
    if problems:
        raise InvalidInput(problems)
    return out


def packages_of(paths: list[Path], root: Path | None = None) -> list[str]:
    """The Debian packages the endpoint files at `paths` declare. A file that
    does not load adds nothing here: the command that runs it reports it."""
    found = set()
    for path in paths:
        try:
            found |= set(load_endpoint(path, root).packages)
        except InvalidInput:
            continue
    return sorted(found)
