"""Dates, times, numbers, percentages and money as the current language writes them (Babel).

Every function formats for `current_language().locale` unless told another locale, so the
console, the command line and an API request each get their reader's conventions. Durations
are `mm:ss` (`h:mm:ss` past the hour) in every language, as contact-centre timers are.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from babel import dates, numbers

from core.i18n import current_language

AMBIGUOUS_SYMBOLS = frozenset({"$", "¥", "kr", "£"})
"""Symbols several currencies share: shown as the ISO code instead (`MXN 1.234,50`)."""


def _locale(locale: str | None) -> str:
    return locale or current_language().locale


def format_date(value: date, length: str = "medium", locale: str | None = None) -> str:
    """`2 dic 2026` (es), `Dec 2, 2026` (en); length is Babel's short/medium/long/full."""
    return dates.format_date(value, format=length, locale=_locale(locale))


def format_short_date(value: date, locale: str | None = None) -> str:
    """`2/12/26` (es), `12/2/26` (en): for table cells."""
    return dates.format_date(value, format="short", locale=_locale(locale))


def format_time(value: time | datetime, locale: str | None = None) -> str:
    """`14:05` (es), `2:05 PM` (en)."""
    return dates.format_time(value, format="short", locale=_locale(locale))


def format_datetime(value: datetime, locale: str | None = None) -> str:
    """Date and time together, short: `2/12/26, 14:05`."""
    return dates.format_datetime(value, format="short", locale=_locale(locale))


def format_timestamp(value: datetime, locale: str | None = None) -> str:
    """A short date with the time to the second, for logs and trails: `2/12/26, 14:05:03`."""
    where = _locale(locale)
    day = dates.format_date(value, format="short", locale=where)
    return f"{day} {dates.format_time(value, format='medium', locale=where)}"


def format_number(value: float | int | Decimal, locale: str | None = None) -> str:
    """`1.234,5` (es_ES), `1,234.5` (es_MX, en)."""
    return numbers.format_decimal(value, locale=_locale(locale))


def format_amount(value: float | Decimal, locale: str | None = None) -> str:
    """An amount with two decimals and no currency: `1.234,50` (es_ES), `1,234.50` (es_MX)."""
    return numbers.format_decimal(
        value, format="#,##0.00", locale=_locale(locale), decimal_quantization=True
    )


def format_percent(value: float, locale: str | None = None) -> str:
    """A fraction as a percentage: 0.25 -> `25 %` (es), `25%` (en)."""
    return numbers.format_percent(value, locale=_locale(locale))


def format_money(value: float | Decimal, currency: str, locale: str | None = None) -> str:
    """`1.234,50 €` (es_ES), and the ISO code where the symbol is shared: `MXN 1,234.50`."""
    where = _locale(locale)
    symbol = numbers.get_currency_symbol(currency, locale=where)
    if symbol in AMBIGUOUS_SYMBOLS or symbol == currency:
        amount = numbers.format_decimal(
            value, format="#,##0.00", locale=where, decimal_quantization=True
        )
        return f"{currency} {amount}"
    return numbers.format_currency(value, currency, locale=where)


def format_duration(seconds: float) -> str:
    """`04:05`, `1:02:03`: the same in every language; never negative."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
