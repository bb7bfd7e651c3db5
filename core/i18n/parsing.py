"""What people type, read the way their language writes it: follow-up dates and amounts.

Dates: `hoy`, `mañana`, `pasado mañana`, `lunes`…`domingo` (`el lunes`, `próximo lunes`),
`today`, `tomorrow`, `monday`…, `+3` (days from today), `15/12` and `15/12/2026` in the
locale's order (day first in Spanish and British English, month first in `en_US`), and ISO
`2026-12-15` everywhere. Words of either language are understood whatever the language: an
agent who types `tomorrow` in a Spanish console means tomorrow.

Amounts: `1.234,56` in es_ES, `1,234.56` in es_MX and English, with or without the grouping,
a currency sign or code; Babel's strict parsing rejects a grouping that cannot be right
(`1,234.56` in es_ES) rather than guess.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from babel import dates, numbers

from core.i18n import current_language
from core.i18n import words as _
from core.i18n.codes import fold

__all__ = ["AmountError", "FollowUpError", "parse_amount", "parse_follow_up"]


class FollowUpError(ValueError):
    """The follow-up is not a date; the message says what was typed and what would do."""


class AmountError(ValueError):
    """The text is not an amount in this locale; the message shows how to write one."""


_DAYS_AHEAD = {
    "hoy": 0, "today": 0,
    "manana": 1, "tomorrow": 1,
    "pasado manana": 2, "day after tomorrow": 2, "the day after tomorrow": 2,
}  # fmt: skip

_WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "lun": 0, "mar": 1, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6,
}  # fmt: skip

_LEADING = re.compile(r"^(?:el |este |proximo |next |on |this )")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = re.compile(r"[€$£¥\s\u00a0\u202f]|\b[A-Za-z]{3}\b")


def _locale(locale: str | None) -> str:
    return locale or current_language().locale


def month_first(locale: str | None = None) -> bool:
    """True where dates are written month first (`12/15`: en_US), from Babel's short pattern."""
    pattern = dates.get_date_format("short", locale=_locale(locale)).pattern
    return pattern.find("M") < pattern.find("d")


def follow_up_examples(locale: str | None = None) -> str:
    """What the follow-up field takes, in the reader's words and date order."""
    where = _locale(locale)
    day = "12/15" if month_first(where) else "15/12"
    if where.startswith("es"):
        words = "mañana, pasado mañana, lunes"
    else:
        words = "tomorrow, monday"
    return f"{words}, {day}, {day}/2026, +3, 2026-12-15"


def parse_follow_up(text: str, today: date, locale: str | None = None) -> date | None:
    """The date a typed follow-up means, or None for an empty field.

    Args:
        text: what the agent typed (`mañana`, `lunes`, `15/12`, `+3`, `2026-12-15`).
        today: the agent's local date.
        locale: whose date order (`15/12` or `12/15`); default the current language's.

    Returns:
        The date; a weekday is the next one after today (`lunes` on a Monday is in a week),
        a day without a year is the next one on or after today. Raises FollowUpError saying
        what was typed and what would do.
    """
    typed = text.strip()
    if not typed:
        return None
    where = _locale(locale)
    word = _LEADING.sub("", " ".join(fold(typed).split()))
    if word in _DAYS_AHEAD:
        return today + timedelta(days=_DAYS_AHEAD[word])
    if word in _WEEKDAYS:
        ahead = (_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    if word.startswith("+") and word[1:].isdigit() and len(word) < 6:
        return today + timedelta(days=int(word[1:]))
    if _ISO.match(word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            pass
    found = _NUMERIC.match(word)
    if found is not None:
        first, second, year_text = found.groups()
        day, month = (int(second), int(first)) if month_first(where) else (int(first), int(second))
        year = today.year if year_text is None else int(year_text)
        if year_text is not None and len(year_text) == 2:
            year += 2000
        try:
            meant = date(year, month, day)
            if year_text is None and meant < today:
                meant = date(year + 1, month, day)
            return meant
        except ValueError:
            pass
    raise FollowUpError(
        _("{typed!r} is not a date: type for example {examples}").format(
            typed=typed, examples=follow_up_examples(where)
        )
    )


def parse_amount(text: str, locale: str | None = None) -> Decimal:
    """An amount as the locale writes it: `1.234,56` (es_ES), `1,234.56` (es_MX, en).

    Args:
        text: what was typed; a currency sign or ISO code and spaces are ignored.
        locale: default the current language's.

    Returns:
        The amount. Raises AmountError, with the amount written the locale's way as example,
        for text that is not one (or whose grouping does not fit the locale).
    """
    where = _locale(locale)
    cleaned = _CURRENCY.sub("", text.strip())
    try:
        if not cleaned:
            raise numbers.NumberFormatError(text)
        amount = numbers.parse_decimal(cleaned, locale=where, strict=True)
    except numbers.NumberFormatError:
        example = numbers.format_decimal(Decimal("1234.56"), format="#,##0.00", locale=where)
        raise AmountError(
            _("{typed!r} is not an amount: write it like {example}").format(
                typed=text.strip(), example=example
            )
        ) from None
    return amount
