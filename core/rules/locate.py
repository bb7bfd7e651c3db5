"""Where things are in a TOML file: tomllib keeps no positions, so scan the text for them.

The scan knows just enough TOML for rules files: table headers (`[policy]`, `[[offer]]`,
`[offer.when]`), `key = value` lines (dotted and quoted keys), inline tables on one line and
multi-line strings (skipped). Every error then points at the key or value it is about.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]
Position = tuple[int, int]
"""1-based line and column."""

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_KEY = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=\s*")
_INLINE_KEY = re.compile(rf"(?:\{{|,)\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=\s*")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


def _split_key(raw: str) -> list[str]:
    parts = re.findall(_KEY_PART, raw)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class Locator:
    """Positions of table headers, keys and values in one TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self._keys: dict[Path, Position] = {}
        self._values: dict[Path, Position] = {}
        self._scan()

    def _scan(self) -> None:
        prefix: Path = ()
        offers = 0
        closing: str | None = None
        for number, line in enumerate(self.lines, start=1):
            if closing is not None:
                if closing in line:
                    closing = None
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _split_key(header.group(2))
                column = header.start(2) + 1
                if header.group(1) == "[[" and names == ["offer"]:
                    offers += 1
                    prefix = ("offer", offers - 1)
                elif names and names[0] == "offer" and offers:
                    prefix = ("offer", offers - 1, *names[1:])
                else:
                    prefix = tuple(names)
                self._keys.setdefault(prefix, (number, column))
                self._values.setdefault(prefix, (number, column))
                continue
            key = _KEY.match(line)
            if not key:
                continue
            path = prefix + tuple(_split_key(key.group(1)))
            self._keys.setdefault(path, (number, key.start(1) + 1))
            self._values.setdefault(path, (number, key.end() + 1))
            rest = line[key.end() :]
            if rest.startswith("{"):
                for inner in _INLINE_KEY.finditer(rest):
                    sub = path + tuple(_split_key(inner.group(1)))
                    self._keys.setdefault(sub, (number, key.end() + inner.start(1) + 1))
                    self._values.setdefault(sub, (number, key.end() + inner.end() + 1))
            for quote in ('"""', "'''"):
                if rest.startswith(quote) and rest.count(quote) == 1:
                    closing = quote

    def key(self, path: Path) -> Position:
        """Where the key (or table header) at `path` is, or its nearest known parent."""
        while path:
            if path in self._keys:
                return self._keys[path]
            path = path[:-1]
        return (1, 1)

    def value(self, path: Path) -> Position:
        """Where the value of `path` starts (its opening quote for a string)."""
        return self._values[path] if path in self._values else self.key(path)

    def in_string(self, path: Path, offset: int) -> Position:
        """The position of the `offset`-th character of the string value at `path`.

        Escapes and multi-line strings are followed so that an error inside a condition points
        at the right character of the file.
        """
        if path not in self._values:
            return self.key(path)
        line, column = self._values[path]
        text = self.lines[line - 1]
        i = column - 1
        for delimiter in ('"""', "'''", '"', "'"):
            if text.startswith(delimiter, i):
                break
        else:
            return (line, column)
        basic = delimiter[0] == '"'
        i += len(delimiter)
        if len(delimiter) == 3 and i == len(text):  # a newline right after ''' is dropped
            line, i = line + 1, 0
        decoded = 0
        while line <= len(self.lines):
            text = self.lines[line - 1]
            if decoded >= offset:
                return (line, i + 1)
            if i >= len(text):
                line, i = line + 1, 0
                decoded += 1  # the newline
                continue
            if basic and text[i] == "\\":
                step = {"u": 6, "U": 10}.get(text[i + 1 : i + 2], 2)
                if i + 1 >= len(text):  # line-ending backslash: trims up to the next text
                    line, i = line + 1, 0
                    while line <= len(self.lines) and not self.lines[line - 1].strip():
                        line += 1
                    if line <= len(self.lines):
                        i = len(self.lines[line - 1]) - len(self.lines[line - 1].lstrip())
                    continue
                i += step
            else:
                i += 1
            decoded += 1
        return self._values[path]
