"""Line numbers of keys and array elements in a TOML document.

Contract: `key_lines(text)` takes a document that tomllib has already
accepted and returns {path: line} where a path is a tuple of keys and 0-based
array indexes, the same path a reader uses on the parsed dict:
("steps", 2, "bytes") is the `bytes` key of the third `[[steps]]` entry,
("peer", "actions", 0) the first element of the `actions` array. Lines are
1-based. It never raises on valid TOML; on invalid TOML the result is partial.

tomllib reports no positions, and an error that says `file:line:` is worth a
small scanner: it only has to find where things start, not interpret values.
"""
from __future__ import annotations

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = set(",]}#\n\r \t")


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[tuple, int] = {}
        self.aot_len: dict[tuple, int] = {}   # resolved path of an array of tables -> entries
        self.table: tuple = ()

    # -- low level -------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def advance(self, n: int = 1) -> None:
        self.line += self.s.count("\n", self.i, self.i + n)
        self.i += n

    def skip_ws(self, newlines: bool) -> None:
        """Skips blanks and comments; newlines too when inside brackets."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.advance((len(self.s) if end < 0 else end) - self.i)
            else:
                return

    def record(self, path: tuple, line: int) -> None:
        self.lines.setdefault(path, line)

    # -- strings and keys ------------------------------------------------
    def string(self) -> str:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                return self._multiline(quote)
        quote = self.peek()
        self.advance()
        out = []
        while self.i < len(self.s) and self.s[self.i] != quote:
            if quote == '"' and self.s[self.i] == "\\":
                out.append(self.s[self.i:self.i + 2])
                self.advance(2)
                continue
            out.append(self.s[self.i])
            self.advance()
        self.advance()
        return _unescape("".join(out)) if quote == '"' else "".join(out)

    def _multiline(self, quote: str) -> str:
        self.advance(3)
        start = self.i
        while self.i < len(self.s):
            if quote == '"""' and self.s[self.i] == "\\":
                self.advance(2)
                continue
            if self.peek(3) == quote:
                # Up to two quote characters may close the content itself.
                while self.s[self.i + 3:self.i + 4] == quote[0]:
                    self.advance()
                text = self.s[start:self.i]
                self.advance(3)
                return text
            self.advance()
        return self.s[start:]

    def key(self) -> tuple:
        parts = []
        while True:
            self.skip_ws(False)
            c = self.peek()
            if c in ('"', "'"):
                parts.append(self.string())
            else:
                start = self.i
                while self.i < len(self.s) and self.s[self.i] in _BARE:
                    self.advance()
                parts.append(self.s[start:self.i])
            self.skip_ws(False)
            if self.peek() != ".":
                return tuple(parts)
            self.advance()

    # -- values ----------------------------------------------------------
    def value(self, path: tuple) -> None:
        c = self.peek()
        if c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        elif c in ('"', "'"):
            self.string()
        else:
            while self.i < len(self.s) and self.s[self.i] not in _SCALAR_END:
                self.advance()
            # Dates with a space between date and time ("1979-05-27 07:32:00").
            if self.peek() == " " and self.s[self.i + 1:self.i + 2].isdigit():
                self.advance()
                self.value(path)

    def array(self, path: tuple) -> None:
        self.advance()
        index = 0
        while True:
            self.skip_ws(True)
            if self.peek() in ("]", ""):
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            self.record(path + (index,), self.line)
            self.value(path + (index,))
            index += 1

    def inline_table(self, path: tuple) -> None:
        self.advance()
        while True:
            self.skip_ws(True)
            if self.peek() in ("}", ""):
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            self.key_value(path)

    def key_value(self, base: tuple) -> None:
        line = self.line
        key = self.key()
        for n in range(1, len(key) + 1):
            self.record(base + key[:n], line)
        self.skip_ws(False)
        if self.peek() == "=":
            self.advance()
        self.skip_ws(False)
        self.value(base + key)

    # -- tables ----------------------------------------------------------
    def resolve(self, key: tuple) -> tuple:
        """Maps a header's keys to a data path, entering the newest entry of
        every array of tables on the way."""
        path: tuple = ()
        for part in key:
            path += (part,)
            if path in self.aot_len:
                path += (self.aot_len[path] - 1,)
        return path

    def header(self) -> None:
        line = self.line
        double = self.peek(2) == "[["
        self.advance(2 if double else 1)
        key = self.key()
        self.advance(2 if double else 1)
        parent = self.resolve(key[:-1])
        for n in range(1, len(parent) + 1):
            self.record(parent[:n], line)
        path = parent + (key[-1],)
        self.record(path, line)
        if double:
            count = self.aot_len.get(path, 0)
            self.aot_len[path] = count + 1
            path += (count,)
            self.record(path, line)
        self.table = path

    def document(self) -> dict[tuple, int]:
        while self.i < len(self.s):
            self.skip_ws(True)
            if self.i >= len(self.s):
                break
            if self.peek() == "[":
                self.header()
            else:
                self.key_value(self.table)
            self.skip_ws(False)
            if self.peek() not in ("\n", "\r", ""):
                # Not valid TOML: skip the rest of the line rather than loop.
                end = self.s.find("\n", self.i)
                self.advance((len(self.s) if end < 0 else end) - self.i)
        return self.lines


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    try:
        return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return raw


def key_lines(text: str) -> dict[tuple, int]:
    return _Scanner(text).document()


def line_of(lines: dict[tuple, int], path: tuple) -> int:
    """The line of path, or of its nearest recorded ancestor (a missing key
    is reported where its table starts); 1 if nothing is known."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 1
