"""Customers rows parsed column by column: the chunks a big import is cut into.

This module imports nothing heavy (no SQLAlchemy, no models) because the worker processes
of a big import (core.importing.parallel) load it on start.

A run of rows becomes a `ParsedChunk`: the values of core.importing.customer_rows'
`CustomerRecord` column by column, which is how the SQLite writer hands them to
`executemany` without a Python step per row, and how worker processes send them back
cheaply (marshal).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from core.i18n import words as _
from core.importing.customer_rows import (
    EARLIEST_BIRTH,
    EMAIL_COLUMNS,
    MISSING_FIRST_NAME,
    MISSING_NAME,
    PHONE_COLUMNS,
    CustomerRecord,
    Point,
    Reject,
    phone_label,
    time_text,
)
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


@dataclass
class ParsedChunk:
    """Consecutive records of the file, parsed; the values column by column."""

    lines: list[int]
    """The line each good row starts on."""
    columns: list[Sequence[Any]]
    """external_id and the UPDATABLE columns: ten sequences as long as `lines`."""
    points: Sequence[Sequence[Any]]
    """Phones and emails: (row index in this chunk, kind, as written, normalised, label,
    1 for the first of its kind in the row else 0), six sequences."""
    rejects: list[Reject]
    last_line: int
    """The line the chunk's last record ends on."""
    repeated: bool = False
    """A customer number appears twice among the good rows."""
    clean: bool = True
    """False when the text given did not end between two records (a quoted field went on
    past it): nothing of this chunk may be used."""
    delimiter: str = ","
    text: str = ""
    """The text parsed and the line it starts on, to read a row's fields again (a row the
    database refuses goes to the rejects file with its fields)."""
    first_line: int = 0
    records: list[tuple[int, list[str]]] | None = field(default=None, repr=False)
    """(line, fields) of every good row, when parsed in this process."""

    def rows(self) -> list[CustomerRecord]:
        """The good rows as CustomerRecords."""
        phones: list[list[Point]] = [[] for _ in self.lines]
        emails: list[list[Point]] = [[] for _ in self.lines]
        for row, kind, written, normalized, label, _rank in zip(*self.points, strict=True):
            (phones if kind == "phone" else emails)[row].append((written, normalized, label))
        return [
            (*values, phones[i], emails[i])
            for i, values in enumerate(zip(*self.columns, strict=True))
        ]

    def fields(self) -> dict[int, list[str]]:
        """Line -> fields of every record of the chunk."""
        if self.records is not None:
            return dict(self.records)
        return dict(_records(self.text, self.first_line, self.delimiter))


END_OF_CHUNK = "\ufdd0end of chunk\ufdd1"
"""A record put after a chunk's text: read back as a record of its own only when the text
ended between two records (inside a quoted field it becomes part of that field)."""


def _is_blank(fields: list[str]) -> bool:
    return not fields or not (fields[0].strip() or "".join(fields).strip())


def _records(text: str, first_line: int, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Records of `text` with the line each starts on; blank lines skipped (as
    core.importing.source.records)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    offset = first_line - 1
    end = offset
    for fields in reader:
        start, end = end + 1, reader.line_num + offset
        if not _is_blank(fields):
            yield start, fields


MEMO_LIMIT = 100_000
"""Distinct cells remembered per column (dates repeat; times of day mostly do not)."""
_BAD = object()
"""A memo's answer for a cell that does not parse (its reason is in the memo's errors)."""


class ColumnParser:
    """Parses many records at once, column by column: what `make_parser` does for one row,
    with the same values and, for a bad row, the same reason (the first problem in the
    README's order). A column's cells are stripped and checked with list-wide operations,
    and cells that files repeat (dates, countries, yes/no) are parsed once per distinct text
    for the whole file.

    Args:
        columns: the header's column names.
        tz: the zone of times without an offset; None means this machine's local zone.
        today: birth dates after it are implausible.
    """

    def __init__(self, columns: Sequence[str], tz: tzinfo | None, today: date) -> None:
        self.width = len(columns)
        where = {name: i for i, name in enumerate(columns) if name}
        self.where = where
        self.tz = tz
        self.today = today
        self.memos: dict[str, dict[str, Any]] = {}
        self.reasons: dict[tuple[str, str], str] = {}

    def _memo(
        self, name: str, values: list[str], parse: Callable[[str], Any]
    ) -> tuple[list[Any], bool]:
        """parse(value) for each value ("" -> None), once per distinct value, and whether
        any of them does not parse (those give _BAD, with the reason in self.reasons)."""
        memo = self.memos.setdefault(name, {"": None})
        if len(memo) > MEMO_LIMIT:  # a column of all-different values: do not hoard them
            memo.clear()
            memo[""] = None
        distinct = set(values)
        bad = False
        for value in distinct.difference(memo):
            try:
                memo[value] = parse(value)
            except RowError as error:
                memo[value] = _BAD
                self.reasons[(name, value)] = str(error)
        for value in distinct:
            if memo[value] is _BAD:
                bad = True
                break
        return [memo[v] for v in values], bad

    def parse(
        self, records: list[list[str]], lines: list[int]
    ) -> tuple[list[int], list[Sequence[Any]], list[list[Any]], list[Reject]]:
        """The good rows' lines, their columns (as ParsedChunk.columns), their points (as
        ParsedChunk.points) and the rejects."""
        width, where = self.width, self.where
        count = len(records)
        errors: dict[int, str] = {}
        table = records
        if any(len(fields) != width for fields in records):
            table = []
            for index, fields in enumerate(records):
                if (misfit := shape_error(fields, width)) is not None:
                    errors[index] = misfit
                size = len(fields)
                table.append(
                    fields if size == width else fields[:width] if size > width else
                    fields + [""] * (width - size)
                )  # fmt: skip
        empty = [""] * count
        transposed = list(zip(*table, strict=True)) if count else []

        def column(name: str) -> list[str]:
            index = where.get(name)
            return empty if index is None else list(map(str.strip, transposed[index]))

        def flag(bad: list[int], reason: Callable[[int], str]) -> None:
            for index in bad:
                if index not in errors:
                    errors[index] = reason(index)

        ids = column("external_id")
        flag(
            [i for i, v in enumerate(ids) if not v or len(v) > 32],
            lambda i: (
                f"external_id longer than 32 characters: {ids[i]!r}" if ids[i]
                else "missing external_id"
            ),
        )  # fmt: skip
        firsts, lasts = column("first_name"), column("last_name")
        flag(
            [
                i for i, (f, la) in enumerate(zip(firsts, lasts, strict=True))
                if not f or len(f) > 100 or len(la) > 150
            ],
            lambda i: (
                MISSING_NAME if not firsts[i] and not lasts[i]
                else MISSING_FIRST_NAME if not firsts[i]
                else "name too long (first_name 100, last_name 150 characters at most)"
            ),
        )  # fmt: skip
        cities = [v[:100] or None for v in column("city")]

        def memo_column(name: str, parse: Callable[[str], Any]) -> list[Any]:
            raw = column(name)
            values, bad = self._memo(name, raw, parse)
            if bad:
                flag(
                    [i for i, v in enumerate(values) if v is _BAD],
                    lambda i: self.reasons[(name, raw[i])],
                )
            return values

        countries = memo_column("country", parse_country)
        births = memo_column("birth_date", self._birth)
        moments = memo_column("created_at", self._moment)
        created = [None if m is None or m is _BAD else m[0] for m in moments]
        since = [None if m is None or m is _BAD else m[1] for m in moments]
        consent = memo_column("marketing_consent", self._flag("marketing_consent"))
        dnc = memo_column("do_not_call", self._flag("do_not_call"))
        homes = [c if c and c is not _BAD else "" for c in countries]

        numbers: list[tuple[str, list[str], list[str | None]]] = []
        for name in PHONE_COLUMNS:
            if name in where:
                raw = column(name)
                numbers.append((name, raw, self._normalize(raw, homes, name, errors)))
        addresses: list[tuple[str, list[str], list[str | None]]] = []
        for name in EMAIL_COLUMNS:
            if name in where:
                raw = column(name)
                addresses.append((name, raw, self._emails(raw, name, errors)))

        good = [i for i in range(count) if i not in errors] if errors else range(count)
        rejects = [(lines[i], records[i], errors[i]) for i in sorted(errors)]
        names = [[v or None for v in firsts], [v or None for v in lasts]]  # "" keeps the stored
        values: list[list[Any]] = [
            ids, *names, cities, countries, births, since, created, consent, dnc,
        ]  # fmt: skip
        if errors:
            columns: list[Sequence[Any]] = [[v[i] for i in good] for v in values]
            position = {row: n for n, row in enumerate(good)}
        else:
            columns, position = list(values), {}
        points: list[list[Any]] = [[], [], [], [], [], []]
        self._points(points, "phone", numbers, errors, position, count)
        self._points(points, "email", addresses, errors, position, count)
        return [lines[i] for i in good], columns, points, rejects

    def _points(
        self,
        points: list[list[Any]],
        kind: str,
        found: list[tuple[str, list[str], list[str | None]]],
        errors: dict[int, str],
        position: dict[int, int],
        count: int,
    ) -> None:
        """Append the phones (emails) of the good rows to `points`, column after column;
        a number already given in an earlier column of the row is left out."""
        row_of, kinds, written_as, normalized_as, labels, firsts = points
        is_phone = kind == "phone"
        earlier: list[list[str | None]] = []  # the columns before (a number left out there
        # equals one kept, so comparing with all of them is comparing with the kept ones)
        for name, raw, normalized in found:
            if not earlier:  # every number is new and the row's first of its kind
                rows = [i for i, n in enumerate(normalized) if n is not None]
                first = [1] * len(rows)
            elif len(earlier) == 1:
                before = earlier[0]
                rows = [
                    i for i, (n, b) in enumerate(zip(normalized, before, strict=True))
                    if n is not None and n != b
                ]  # fmt: skip
                first = [1 if before[i] is None else 0 for i in rows]
            else:
                rows = [
                    i for i, n in enumerate(normalized)
                    if n is not None and all(n != b[i] for b in earlier)
                ]  # fmt: skip
                first = [1 if all(b[i] is None for b in earlier) else 0 for i in rows]
            earlier.append(normalized)
            if errors:
                kept = [k for k, i in enumerate(rows) if i not in errors]
                rows, first = [rows[k] for k in kept], [first[k] for k in kept]
            row_of.extend([position[i] for i in rows] if errors else rows)
            kinds.extend([kind] * len(rows))
            values = [normalized[i] for i in rows]
            normalized_as.extend(values)
            if is_phone:
                written_as.extend([raw[i][:200] for i in rows])
                labels.extend(map(phone_label, values))  # type: ignore[arg-type]
            else:
                written_as.extend([raw[i] for i in rows])
                labels.extend(["work" if name == "email2" else "personal"] * len(rows))
            firsts.extend(first)

    @staticmethod
    def _normalize(
        raw: list[str], homes: list[str], name: str, errors: dict[int, str]
    ) -> list[str | None]:
        result: list[str | None] = [None] * len(raw)
        for index, value in enumerate(raw):
            if value:
                try:
                    result[index] = normalize_phone(value, homes[index], name)
                except RowError as error:
                    errors.setdefault(index, str(error))
        return result

    @staticmethod
    def _emails(raw: list[str], name: str, errors: dict[int, str]) -> list[str | None]:
        result: list[str | None] = [None] * len(raw)
        for index, value in enumerate(raw):
            if value:
                try:
                    result[index] = normalize_email(value, name)
                except RowError as error:
                    errors.setdefault(index, str(error))
        return result

    def _birth(self, raw: str) -> str:
        born = parse_date(raw, "birth_date")
        if not EARLIEST_BIRTH <= born <= self.today:
            raise RowError(_("implausible birth_date: {raw!r}").format(raw=raw))
        return born.isoformat()

    def _moment(self, raw: str) -> tuple[str, str]:
        created_at = parse_datetime(raw, "created_at", self.tz)
        return time_text(created_at), created_at.date().isoformat()

    @staticmethod
    def _flag(name: str) -> Callable[[str], int]:
        return lambda raw: int(parse_bool(raw, name))


class _Collector:
    """Gathers records and makes chunks of them."""

    def __init__(self, parser: ColumnParser, keep_fields: bool) -> None:
        self.parser = parser
        self.keep_fields = keep_fields
        self.records: list[list[str]] = []
        self.lines: list[int] = []

    @property
    def count(self) -> int:
        return len(self.lines)

    def add(self, line: int, fields: list[str]) -> None:
        self.records.append(fields)
        self.lines.append(line)

    def chunk(self, last_line: int, delimiter: str) -> ParsedChunk:
        records, lines = self.records, self.lines
        self.records, self.lines = [], []
        good_lines, columns, points, rejects = self.parser.parse(records, lines)
        external_ids = columns[0]
        kept = None
        if self.keep_fields:
            refused = {line for line, _, _ in rejects}
            kept = [(n, f) for n, f in zip(lines, records, strict=True) if n not in refused]
        return ParsedChunk(
            lines=good_lines,
            columns=columns,
            points=points,
            rejects=rejects,
            last_line=last_line,
            repeated=len(set(external_ids)) != len(external_ids),
            delimiter=delimiter,
            records=kept,
        )


def parse_chunk(text: str, first_line: int, delimiter: str, parser: ColumnParser) -> ParsedChunk:
    """Parse `text`, a piece of the file cut at a line end (core.importing.parallel), which
    starts on line `first_line`; `clean` says whether it really ended between two records.
    """
    source = text if text.endswith("\n") else text + "\n"
    reader = csv.reader(io.StringIO(source + END_OF_CHUNK + "\n"), delimiter=delimiter)
    collector = _Collector(parser, keep_fields=False)
    offset = first_line - 1
    end = offset
    clean = False
    for fields in reader:
        if len(fields) == 1 and fields[0] == END_OF_CHUNK:
            clean = next(reader, None) is None
            break
        start, end = end + 1, reader.line_num + offset
        if fields and (fields[0].strip() or "".join(fields).strip()):  # blank lines skipped
            collector.add(start, fields)
    chunk = collector.chunk(end, delimiter)
    chunk.clean = clean
    chunk.text, chunk.first_line = text, first_line
    return chunk


def iter_chunks(
    text: str, first_line: int, delimiter: str, parser: ColumnParser, rows: int
) -> Iterator[ParsedChunk]:
    """Parse `text` (the file from a record's start to its end, starting on line
    `first_line`) in this process, a chunk every `rows` records."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    collector = _Collector(parser, keep_fields=True)
    offset = first_line - 1
    end = offset
    for fields in reader:
        start, end = end + 1, reader.line_num + offset
        if not _is_blank(fields):
            collector.add(start, fields)
            if collector.count >= rows:
                yield collector.chunk(end, delimiter)
    if collector.count:
        yield collector.chunk(end, delimiter)
