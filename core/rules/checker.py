"""What a rules file's checks write with: errors at `file:line:column`, typed field reads,
and TOML syntax errors turned into the same kind of message."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.i18n import N_
from core.i18n import words as _
from core.rules.locate import Locator, Path
from core.rules.ruleset import RuleError
from core.rules.suggest import closest

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_DATE_LIKE = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b")
_TYPE_NAMES: dict[type, str] = {
    str: N_("text"),
    bool: N_("true/false"),
    int: N_("a whole number"),
    float: N_("a number"),
    list: N_("a list"),
    dict: N_("a table"),
    date: N_("a date"),
    datetime: N_("a date-time"),
}


def type_name(value: object) -> str:
    name = _TYPE_NAMES.get(type(value))
    return _(name) if name else type(value).__name__


@dataclass
class Checker:
    """Collects the errors of one file; each names where it is."""

    file: str
    locator: Locator
    errors: list[RuleError]

    def at(self, position: tuple[int, int], message: str) -> None:
        self.errors.append(RuleError(self.file, position[0], position[1], message))

    def key_error(self, path: Path, message: str) -> None:
        self.at(self.locator.key(path), message)

    def value_error(self, path: Path, message: str) -> None:
        self.at(self.locator.value(path), message)

    def unknown_keys(
        self, table: dict[str, Any], known: tuple[str, ...], path: Path, where: str
    ) -> None:
        for key in table:
            if key not in known:
                hint = closest(key, known)
                suffix = (
                    _("; did you mean '{hint}'?").format(hint=hint)
                    if hint
                    else _(" (known: {known})").format(known=", ".join(known))
                )
                message = _("unknown field '{key}' in {where}").format(key=key, where=where)
                self.key_error(path + (key,), message + suffix)

    def typed(
        self, table: dict[str, Any], key: str, kinds: tuple[type, ...], path: Path, label: str
    ) -> Any:
        """table[key] when it has one of `kinds` (int is accepted for float), else an error."""
        value = table.get(key)
        if value is None:
            return None
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            wanted = _(" or ").join(
                _(_TYPE_NAMES[k]) if k in _TYPE_NAMES else k.__name__ for k in kinds
            )
            self.value_error(
                path + (key,),
                _("wrong type: {field} must be {wanted}, not {kind} {value}").format(
                    field=label, wanted=wanted, kind=type_name(value), value=repr(value)
                ),
            )
            return None
        return value

    def date(self, table: dict[str, Any], key: str, path: Path, label: str) -> date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.value_error(
            path + (key,),
            _("{field}: {value} is not a date (write YYYY-MM-DD, e.g. 2026-12-31)").format(
                field=label, value=repr(value)
            ),
        )
        return None


def toml_error(file: str, text: str, error: tomllib.TOMLDecodeError) -> RuleError:
    message = str(error)
    match = _TOML_POSITION.search(message)
    lines = text.split("\n")
    if match:
        line, column = int(match.group(1)), int(match.group(2))
    else:
        line, column = len(lines), 1
    reason = _TOML_POSITION.sub("", message).replace("(at end of document)", "").strip()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    for token in _DATE_LIKE.finditer(source_line):
        try:
            date.fromisoformat(token.group())
        except ValueError:
            return RuleError(
                file,
                line,
                token.start() + 1,
                _("{value} is not a date (write YYYY-MM-DD, e.g. 2026-12-31)").format(
                    value=repr(token.group())
                ),
            )
    reason = reason[:1].lower() + reason[1:]
    return RuleError(file, line, column, _("TOML syntax: {reason}").format(reason=reason))


MAX_TOML_NESTING = 16
"""Arrays and inline tables nested deeper are refused before tomllib recurses into them."""

_TOML_SCAN = re.compile(
    r"(?P<skip>'''[\s\S]*?(?:'''|$)|\"\"\"(?:\\[\s\S]|[^\\])*?(?:\"\"\"|$)"
    r"|'[^'\n]*'?|\"(?:\\.|[^\"\\\n])*\"?|#[^\n]*)|(?P<open>[\[{])|(?P<close>[\]}])"
)


def too_deep(text: str) -> tuple[int, int] | None:
    """Where the text's arrays and inline tables first nest past MAX_TOML_NESTING, if they do.

    tomllib parses nesting by recursion: 100,000 `[` end in a RecursionError. Strings and
    comments are skipped so that brackets inside them do not count.
    """
    depth = 0
    for match in _TOML_SCAN.finditer(text):
        if match.lastgroup == "open":
            depth += 1
            if depth > MAX_TOML_NESTING:
                at = match.start()
                return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        elif match.lastgroup == "close":
            depth = max(0, depth - 1)
    return None
