"""Reading a TOML file so that every problem can name its line.

Contract: `load_toml(path, shown)` returns the parsed document and a
`Problems` collector that knows the line of every key (harness.base.tomlpos);
a file that cannot be read or parsed raises InvalidInput with one problem
(`file:line: (file)|toml: ...`). `display_path(path, root)` is how files are
named to people: relative to the project root when inside it.
"""
from __future__ import annotations

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


def load_toml(path: Path, shown: str) -> tuple[dict, Problems]:
    """Parses a TOML file; the Problems collector knows its line numbers."""
    data, lines = _read(Path(path), shown)
    return data, Problems(shown, lines)


def display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(path)
