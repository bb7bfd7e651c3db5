"""Reading one spreadsheet cell: dates, times, amounts, yes/no, countries, phones, emails.

Each parser raises `RowError` with a reason a person can act on ("unparseable date in
birth_date: '31/02/1980'"); the importer turns it into a rejected row.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from core.i18n import words as _
from core.reference.countries import CALLING_CODES, COUNTRY_NAMES, TRUNK_ZERO


class RowError(ValueError):
    """This row cannot be imported; the message says why."""


def shape_error(fields: list[str], width: int) -> str | None:
    """Why a record does not fit the header, if it does not: more fields with text in them,
    or fewer (a line cut short, which PostgreSQL's COPY refuses too)."""
    if len(fields) > width and any(f.strip() for f in fields[width:]):
        return f"{len(fields)} fields but the header has {width} columns"
    if len(fields) < width:
        return f"{len(fields)} fields but the header has {width} columns (a line cut short?)"
    return None


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
_YMD_SLASH = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_DATE_TIME_SPLIT = re.compile(r"[T ]")
_NOT_DIGIT = re.compile(r"\D")
_LETTER = re.compile(r"[A-Za-z]")


EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
"""Dates outside these years are refused: no customer's history is older, and year 1 or 9999
(placeholders some systems export) cannot even be shown in every time zone."""


def _make_date(year: int, month: int, day: int, column: str, raw: str) -> date:
    try:
        made = date(year, month, day)
    except ValueError:
        raise RowError(
            _("unparseable date in {column}: {raw!r}").format(column=column, raw=raw)
        ) from None
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise RowError(
            _("date out of range in {column}: {raw!r} (years {earliest} to {latest})").format(
                column=column, raw=raw, earliest=EARLIEST_YEAR, latest=LATEST_YEAR
            )
        )
    return made


def _parse_day(text: str, column: str, raw: str) -> date:
    if m := _ISO_DATE.fullmatch(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), column, raw)
    if m := _YMD_SLASH.fullmatch(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), column, raw)
    if m := _DMY.fullmatch(text):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        if len(m[3]) == 2:
            year += 2000 if year < 50 else 1900
        if second > 12 and first <= 12:  # only possible month-first (US spreadsheets)
            first, second = second, first
        return _make_date(year, second, first, column, raw)
    raise RowError(_("unparseable date in {column}: {raw!r}").format(column=column, raw=raw))


@lru_cache(maxsize=65536)  # files repeat the same days over and over
def parse_date(raw: str, column: str) -> date:
    """A day: 2024-03-31, 31/03/2024, 31-03-2024, 31.03.2024 (day first unless impossible),
    or the date part of a date and time."""
    head = _DATE_TIME_SPLIT.split(raw.strip(), maxsplit=1)[0]
    return _parse_day(head, column, raw)


NOON = time(12, 0)
"""A date without a time is taken as noon local time, so it stays on its day in any zone."""


@lru_cache(maxsize=65536)
def parse_datetime(raw: str, column: str, tz: tzinfo | None) -> datetime:
    """A moment, as an aware UTC datetime.

    Args:
        raw: a date, or a date and time (`2024-03-31 14:05`, `2024-03-31T14:05:00Z`,
            `31/03/2024 14:05`), with an optional `Z` or `+01:00` offset.
        column: the column name, for the error message.
        tz: the zone of times without an offset; None means this machine's local zone.

    Returns:
        The moment in UTC.
    """
    text = raw.strip()
    zone: tzinfo | None = None
    if m := _ZONE.search(text):
        offset = m[1]
        text = text[: m.start()].rstrip()
        if offset == "Z":
            zone = UTC
        else:
            try:
                zone = datetime.strptime(offset.replace(":", ""), "%z").tzinfo
            except ValueError:
                raise RowError(
                    _("unparseable time zone in {column}: {raw!r}").format(column=column, raw=raw)
                ) from None
    parts = _DATE_TIME_SPLIT.split(text, maxsplit=1)
    day = _parse_day(parts[0], column, raw)
    if len(parts) == 1 or not parts[1].strip():
        clock = NOON
    elif m := _TIME.fullmatch(parts[1].strip()):
        fraction = (m[4] or "0").ljust(6, "0")
        try:
            clock = time(int(m[1]), int(m[2]), int(m[3] or 0), int(fraction))
        except ValueError:
            raise RowError(
                _("unparseable time in {column}: {raw!r}").format(column=column, raw=raw)
            ) from None
    else:
        raise RowError(_("unparseable time in {column}: {raw!r}").format(column=column, raw=raw))
    moment = datetime.combine(day, clock)
    if zone is not None:
        return moment.replace(tzinfo=zone).astimezone(UTC)
    if tz is not None:
        return moment.replace(tzinfo=tz).astimezone(UTC)
    return moment.astimezone().astimezone(UTC)  # naive: the machine's local zone, with DST


_TRUE = {"1", "true", "yes", "y", "si", "sí", "s", "x", "verdadero", "t", "on"}
_FALSE = {"0", "false", "no", "n", "falso", "f", "off", ""}


@lru_cache(maxsize=1024)  # a column of yes/no repeats a handful of spellings
def parse_bool(raw: str, column: str) -> bool:
    """yes/no in English or Spanish, 1/0, true/false, x/empty."""
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(_("not a yes/no value in {column}: {raw!r}").format(column=column, raw=raw))


def parse_amount(raw: str, column: str) -> Decimal:
    """An amount with a decimal point or comma and optional thousands separators and
    currency sign: 12.50, 12,50, 1.234,56, 1,234.56, €12.50, 12.50 EUR."""
    text = re.sub(r"[€$£\s]|EUR|USD|GBP", "", raw.strip(), flags=re.IGNORECASE)
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        whole, _comma, fraction = text.rpartition(",")
        text = f"{whole.replace(',', '')}.{fraction}" if len(fraction) != 3 else whole + fraction
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RowError(
            _("not an amount in {column}: {raw!r}").format(column=column, raw=raw)
        ) from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e10"):
        raise RowError(_("not an amount in {column}: {raw!r}").format(column=column, raw=raw))
    if amount != amount.quantize(Decimal("0.01")):
        raise RowError(
            _("more than two decimals in {column}: {raw!r}").format(column=column, raw=raw)
        )
    return amount.quantize(Decimal("0.01"))


@lru_cache(maxsize=4096)
def parse_country(raw: str) -> str:
    """An ISO 3166-1 alpha-2 code ("es" -> "ES") or a common country name ("España")."""
    text = raw.strip()
    if len(text) == 2 and text.isalpha() and text.isascii():
        return text.upper()
    code = COUNTRY_NAMES.get(text.lower())
    if code is None:
        raise RowError(
            _("unknown country {raw!r} (use a two-letter code such as ES)").format(raw=raw)
        )
    return code


def normalize_phone(raw: str, country: str, column: str) -> str:
    """Digits only, with the country code: "+34 612 34 56 78", "612-345-678" (in Spain) and
    "0034 612345678" all become "34612345678". A number without an international prefix
    takes the customer's country code (Spain when unknown)."""
    text = raw.strip()
    if text.isdigit():  # the common case: no separators, no letters
        digits = text
    else:
        # The usual separators go with a few C-speed replaces; anything else left over (a
        # letter, an unusual sign) takes the general path.
        digits = (
            text.replace(" ", "").replace("-", "").replace(".", "").replace("(", "")
            .replace(")", "").replace("+", "").replace("/", "")
        )  # fmt: skip
        if not digits.isdecimal():  # str.isdecimal is exactly the regex's \d
            if _LETTER.search(text):
                raise RowError(
                    _("not a phone number in {column}: {raw!r}").format(column=column, raw=raw)
                )
            digits = _NOT_DIGIT.sub("", text)
    if not 6 <= len(digits) <= 15:
        raise RowError(_("not a phone number in {column}: {raw!r}").format(column=column, raw=raw))
    if text.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    country = country or "ES"
    code = CALLING_CODES.get(country, "")
    if country == "ES" and len(digits) == 11 and digits.startswith("34"):
        return digits
    if country in TRUNK_ZERO and digits.startswith("0"):
        digits = digits[1:]
    return code + digits


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_email(raw: str, column: str) -> str:
    """Lower case, after checking it looks like an address."""
    text = raw.strip()
    if not _EMAIL.fullmatch(text) or len(text) > 200:
        raise RowError(
            _("not an email address in {column}: {raw!r}").format(column=column, raw=raw)
        )
    return text.lower()
