"""Times are stored in UTC and shown in the configured (or the machine's) local time, and
dates, times and figures are written as the reader's language writes them (core.i18n.formats).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Babel (core.i18n.formats) is imported on first use, not while the console starts: the
# first screen draws before any date or figure is shown.


def local(moment: datetime, zone: str = "") -> datetime:
    """The aware `moment` in `zone` (an IANA name), or in the machine's zone when empty; as
    stored when it has no local time (9999-12-31 23:00 UTC is past year 9999 east of UTC)."""
    try:
        if zone:
            try:
                return moment.astimezone(ZoneInfo(zone))
            except ZoneInfoNotFoundError:
                pass
        return moment.astimezone()
    except (OverflowError, ValueError):
        return moment


def when(moment: datetime, zone: str = "") -> str:
    """A short local date and time for lists: `2/12/26, 14:05` (es), `12/2/26, 2:05 PM` (en)."""
    from core.i18n.formats import format_datetime

    return format_datetime(local(moment, zone))


def day(value: date | None) -> str:
    """A date for a line of text: `2 dic 2026` (es), `Dec 2, 2026` (en); `—` for none."""
    from core.i18n.formats import format_date

    return format_date(value) if value is not None else "—"


def clock(seconds: float) -> str:
    """A running timer: `04:07`, or `1:02:03` past an hour (the same in every language)."""
    from core.i18n.formats import format_duration

    return format_duration(seconds)


def amount(value: float) -> str:
    """A sum with two decimals: `1.234,50` (es), `1,234.50` (en, es_MX)."""
    from babel import numbers

    from core.i18n import current_language

    return numbers.format_decimal(
        value, format="#,##0.00", locale=current_language().locale, decimal_quantization=True
    )


def decimal(value: float) -> str:
    """A figure with one decimal: `2,5` (es), `2.5` (en)."""
    from babel import numbers

    from core.i18n import current_language

    return numbers.format_decimal(
        value, format="#,##0.0", locale=current_language().locale, decimal_quantization=True
    )


def format_number(value: float) -> str:
    """`12.345` (es_ES), `12,345` (en, es_MX)."""
    from core.i18n.formats import format_number

    return format_number(value)


def format_percent(share: float) -> str:
    """A fraction as a percentage: 0.3 -> `30 %` (es), `30%` (en)."""
    from core.i18n.formats import format_percent

    return format_percent(share)


def short_datetime(moment: datetime) -> str:
    """`moment` as it is (already in the zone wanted), date and time: `2/12/26, 14:05`."""
    from core.i18n.formats import format_datetime

    return format_datetime(moment)


def format_time(moment: datetime) -> str:
    """The time of `moment` as it is: `14:05` (es), `2:05 PM` (en)."""
    from core.i18n.formats import format_time

    return format_time(moment)


def compact_datetime(moment: datetime) -> str:
    """Day, month and a 24-hour time for a narrow column: `2/12 14:05` (es), `12/2 14:05` (en)."""
    from babel import dates

    from core.i18n import current_language

    locale = current_language().locale
    day_month = dates.format_skeleton("Md", moment, locale=locale)
    return f"{day_month} {dates.format_skeleton('Hm', moment, locale=locale)}"


def format_short_date(value: date) -> str:
    """`2/12/26` (es), `12/2/26` (en): for table cells and short lines."""
    from core.i18n.formats import format_short_date

    return format_short_date(value)


def percent_1(share: float) -> str:
    """A fraction as a percentage with one decimal: 0.125 -> `12,5 %` (es), `12.5%` (en)."""
    from babel import numbers

    from core.i18n import current_language

    return numbers.format_percent(share, format="#,##0.0%", locale=current_language().locale)
