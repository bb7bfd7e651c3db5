"""Customers rows, parsed one by one: the record a row becomes, the row parser, merging.

This module imports nothing heavy (no SQLAlchemy, no models) because the worker processes
of a big import (core.importing.parallel) load it on start.

A row becomes a `CustomerRecord`, a plain tuple with every value already in the form SQLite
stores it (dates ISO text, `UtcDateTime` naive UTC text, flags 0/1; None for an empty cell,
which never erases a stored value). Runs of rows parsed column by column are
core.importing.customer_columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, tzinfo
from typing import Any

from core.i18n import words as _
from core.importing.fields import (
    RowError,
    normalize_email,
    normalize_phone,
    parse_bool,
    parse_country,
    parse_date,
    parse_datetime,
    shape_error,
)

Point = tuple[str, str, str]
"""A phone or email: (as written, normalised, label)."""
CustomerRecord = tuple[
    str, str | None, str | None, str | None, str | None, str | None, str | None, str | None,
    int | None, int | None, list[Point], list[Point],
]  # fmt: skip
"""external_id, then the UPDATABLE columns as SQLite stores them, then the phones and the
emails (each normalised number or address once, in the file's order)."""
RowParser = Callable[[list[str]], CustomerRecord]

UPDATABLE = (
    "first_name", "last_name", "city", "country", "birth_date", "customer_since",
    "created_at", "marketing_consent", "do_not_call",
)  # fmt: skip
"""Columns a re-import updates (a CustomerRecord's values 1 to 9)."""
PHONE_COLUMNS = ("phone", "phone2", "phone3", "mobile")
EMAIL_COLUMNS = ("email", "email2")
EARLIEST_BIRTH = date(1900, 1, 1)
MISSING_NAME = "missing name (first_name and last_name are both empty)"
MISSING_FIRST_NAME = "missing first_name (a name is required)"


def phone_label(normalized: str) -> str:
    if normalized.startswith("34") and len(normalized) == 11:
        return "mobile" if normalized[2] in "67" else "home"
    return ""


def time_text(moment: Any) -> str:
    """An aware UTC datetime as SQLite stores a `UtcDateTime`: core.models.types.sqlite_time,
    written again here because the parsing workers load no SQLAlchemy."""
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond:06d}"


def make_parser(columns: Sequence[str], tz: tzinfo | None, today: date) -> RowParser:
    """A function from a record's fields (in the order of `columns`) to its values.

    It raises RowError with the first problem found, checking in the order the README
    lists: customer number, name, city, country, birth date, created at, the yes/no
    columns, phones, emails. Cells that files repeat (dates, countries) are parsed once per
    distinct text.

    Args:
        columns: the header's column names (core.importing.source.column_name).
        tz: the zone of times without an offset; None means this machine's local zone.
        today: birth dates after it are implausible.
    """
    where = {name: i for i, name in enumerate(columns) if name}
    width = len(columns)
    at = where.get
    i_id, i_first, i_last = where["external_id"], where["first_name"], where["last_name"]
    i_city, i_country = at("city"), at("country")
    i_birth, i_created = at("birth_date"), at("created_at")
    i_consent, i_dnc = at("marketing_consent"), at("do_not_call")
    phones_at = [(where[c], c) for c in PHONE_COLUMNS if c in where]
    emails_at = [
        (where[c], "work" if c == "email2" else "personal", c) for c in EMAIL_COLUMNS if c in where
    ]
    births: dict[str, str] = {}
    moments: dict[str, tuple[str, str]] = {}
    countries: dict[str, str] = {}

    def birth_of(raw: str) -> str:
        born = parse_date(raw, "birth_date")
        if not EARLIEST_BIRTH <= born <= today:
            raise RowError(_("implausible birth_date: {raw!r}").format(raw=raw))
        births[raw] = stored = born.isoformat()
        return stored

    def moment_of(raw: str) -> tuple[str, str]:
        created_at = parse_datetime(raw, "created_at", tz)
        moments[raw] = pair = (time_text(created_at), created_at.date().isoformat())
        return pair

    def country_of(raw: str) -> str:
        countries[raw] = code = parse_country(raw)
        return code

    def parse(fields: list[str]) -> CustomerRecord:
        if len(fields) < width:
            raise RowError(shape_error(fields, width) or "")
        external_id = fields[i_id].strip()
        if not external_id:
            raise RowError(_("missing external_id"))
        if len(external_id) > 32:
            raise RowError(
                _("external_id longer than 32 characters: {external_id!r}").format(
                    external_id=external_id
                )
            )
        first, last = fields[i_first].strip(), fields[i_last].strip()
        if not first and not last:
            raise RowError(MISSING_NAME)
        if not first:
            raise RowError(MISSING_FIRST_NAME)
        if len(first) > 100 or len(last) > 150:
            raise RowError(_("name too long (first_name 100, last_name 150 characters at most)"))
        city = country = birth = created = since = None
        consent = do_not_call = None
        if i_city is not None and (raw := fields[i_city].strip()):
            city = raw[:100]
        if i_country is not None and (raw := fields[i_country].strip()):
            country = countries.get(raw) or country_of(raw)
        if i_birth is not None and (raw := fields[i_birth].strip()):
            birth = births.get(raw) or birth_of(raw)
        if i_created is not None and (raw := fields[i_created].strip()):
            created, since = moments.get(raw) or moment_of(raw)
        if i_consent is not None and (raw := fields[i_consent].strip()):
            consent = int(parse_bool(raw, "marketing_consent"))
        if i_dnc is not None and (raw := fields[i_dnc].strip()):
            do_not_call = int(parse_bool(raw, "do_not_call"))
        phones: list[Point] = []
        for index, name in phones_at:
            if raw := fields[index].strip():
                number = normalize_phone(raw, country or "", name)
                for known in phones:
                    if known[1] == number:
                        break
                else:
                    phones.append((raw[:200], number, phone_label(number)))
        emails: list[Point] = []
        for index, label, name in emails_at:
            if raw := fields[index].strip():
                address = normalize_email(raw, name)
                for known in emails:
                    if known[1] == address:
                        break
                else:
                    emails.append((raw, address, label))
        return (
            external_id, first or None, last or None, city, country, birth, since, created,
            consent, do_not_call, phones, emails,
        )  # fmt: skip

    return parse


def merge(records: Sequence[CustomerRecord]) -> dict[str, CustomerRecord]:
    """One entry per customer: the same customer twice, the later row wins (cell by cell: an
    empty cell keeps the earlier row's value; phones and emails are added up)."""
    merged: dict[str, CustomerRecord] = {}
    for record in records:
        earlier = merged.get(record[0])
        if earlier is None:
            merged[record[0]] = record
        else:
            values = [e if r is None else r for r, e in zip(record[:10], earlier[:10], strict=True)]
            merged[record[0]] = (  # type: ignore[assignment]
                *values,
                _union(earlier[10], record[10]),
                _union(earlier[11], record[11]),
            )
    return merged


def _union(earlier: list[Point], later: list[Point]) -> list[Point]:
    """The earlier points, then the later ones with another number (address)."""
    return earlier + [p for p in later if all(p[1] != e[1] for e in earlier)]


Reject = tuple[int, list[str], str]
"""(line, fields, reason) of a row that cannot be imported."""
