"""Reading a TOML file so that every problem can name its line.

Contract: `load_toml(path, shown)` returns the parsed document and a
`Problems` collector that knows the line of every key (harness.base.tomlpos);
a file that cannot be read or parsed raises InvalidInput with one problem
(`file:line: (file)|toml: ...`). `display_path(path, root)` is how files are
named to people: relative to the project root when inside it.

A long-lived process (the harness daemon behind the ctest matrix) reads the
same case and stack files for every request, and finding the line of every
key is the dear part of reading them: parsed files are kept per process,
keyed by the file's identity and modification, and every caller gets its own
copy of the document.
"""
from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

from harness.base.problems import InvalidInput, Problem, Problems
from harness.base.tomlpos import key_lines


def _read(path: Path, shown: str) -> tuple[dict, dict[tuple, int]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InvalidInput([Problem(shown, 1, "(file)", "no such file")])
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput([Problem(shown, 1, "(file)", f"cannot read: {exc}")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(m.group(1)) if m else 1
        raise InvalidInput([Problem(shown, line, "toml", f"syntax error: {exc}")])
    return data, key_lines(text)


_PARSED: dict[tuple, tuple[dict, dict[tuple, int]]] = {}
_PARSED_MAX = 1024


def _identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def load_toml(path: Path, shown: str) -> tuple[dict, Problems]:
    """Parses a TOML file; the Problems collector knows its line numbers."""
    path = Path(path)
    key = _identity(path)
    if key is None or key not in _PARSED:
        data, lines = _read(path, shown)
        if key is not None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = (data, lines)
    data, lines = _PARSED[key] if key is not None else (data, lines)
    return copy.deepcopy(data), Problems(shown, lines)


def display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(path)
