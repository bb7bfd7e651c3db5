"""Scripts: text with `{customer.first_name}`-style fields, checked at load, filled at call time.

Only documented fields may appear; an unknown one is a load error, never a blank read out to
a customer. Values are formatted by the field's kind (money 1,234.50, dates 31 Dec 2026,
percentages 12%), or by an explicit `{field:money}`, `{field:date}`, `{field:percent}`,
`{field:int}`. `{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# `_` is a throwaway here (path.partition): the catalog is `tr` (a keyword in the Makefile).
from core.i18n import words as tr
from core.rules.expressions import Problem
from core.rules.schema import NAMESPACES, field
from core.rules.suggest import closest

MAX_SCRIPT_LENGTH = 2000
FORMATS = ("money", "date", "percent", "int", "text")

_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class Template:
    """A checked script: literal text and (path, format) slots, in order."""

    source: str
    parts: tuple[str | tuple[str, str], ...]

    def fill(self, context: Mapping[str, Mapping[str, object]]) -> str:
        """The script with this customer's values in it."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            path, fmt = part
            namespace, _, name = path.partition(".")
            out.append(format_value(context[namespace].get(name), fmt))
        return "".join(out)


def parse_template(source: str) -> tuple[Template | None, list[Problem]]:
    """Check a script and split it into text and fields.

    Args:
        source: the script as written.

    Returns:
        The template, or None with the problems found (offsets into `source`).
    """
    if len(source) > MAX_SCRIPT_LENGTH:
        message = tr("script longer than {limit} characters").format(limit=MAX_SCRIPT_LENGTH)
        return None, [Problem(0, message)]
    problems: list[Problem] = []
    parts: list[str | tuple[str, str]] = []
    last = 0
    for match in _PIECE.finditer(source):
        parts.append(source[last : match.start()])
        last = match.end()
        piece = match.group()
        if piece in ("{{", "}}"):
            parts.append(piece[0])
            continue
        if piece in ("{", "}"):
            message = tr("unmatched '{piece}' (write {escaped})").format(
                piece=piece, escaped=piece * 2
            )
            problems.append(Problem(match.start(), message))
            continue
        inner = match.group(1)
        path, _, fmt = (x.strip() for x in inner.partition(":"))
        spec = field(path)
        offset = match.start() + 1
        if spec is None:
            problems.append(Problem(offset, _unknown_field(path)))
            continue
        if fmt and fmt not in FORMATS:
            hint = closest(fmt, FORMATS)
            message = tr("unknown format '{format}' (use {choices})").format(
                format=fmt, choices=", ".join(FORMATS)
            )
            problems.append(Problem(offset, message + _did_you_mean(hint)))
            continue
        parts.append((path, fmt or spec.display or spec.type))
    parts.append(source[last:])
    if problems:
        return None, problems
    return Template(source, tuple(p for p in parts if p != "")), []


def _unknown_field(path: str) -> str:
    namespace, dot, name = path.partition(".")
    if namespace not in NAMESPACES:
        hint = closest(namespace, NAMESPACES)
        extra = (
            _did_you_mean(hint)
            if hint
            else tr(" (use {choices})").format(choices=", ".join(NAMESPACES))
        )
        return tr("unknown field '{path}' in script").format(path=path) + extra
    hint = closest(name, NAMESPACES[namespace]) if dot else None
    return tr("unknown field '{path}' in script").format(path=path) + _did_you_mean(hint)


def _did_you_mean(hint: str | None) -> str:
    return tr("; did you mean '{hint}'?").format(hint=hint) if hint else ""


def format_value(value: object, fmt: str) -> str:
    """A value as a script reads it: money with two decimals, dates spelled out."""
    if value is None:
        return ""
    if fmt == "money" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if fmt == "percent" and isinstance(value, int | float):
        return f"{value * 100:.0f}%"
    if fmt == "date":
        day = value if isinstance(value, date) else _as_date(str(value))
        return str(value) if day is None else f"{day.day} {day:%b %Y}"
    if fmt == "int" and isinstance(value, int | float):
        return f"{round(value):,}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
