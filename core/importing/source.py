"""Opening a CSV file saved by a spreadsheet: encoding, delimiter, header, records with lines.

UTF-8 with or without a byte-order mark is expected; UTF-16 (Excel's "Unicode text") is
recognised by its byte-order mark or its zero bytes; a file that is not UTF-8 is read as
Windows-1252 (what older Excel versions save as "CSV"). Comma, semicolon and tab delimiters
are recognised from the header line. A file that is binary, empty, or lacks a required column
cannot be read at all (`UnreadableFile`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.i18n import words as _

MAX_FIELD_CHARS = 1_000_000
"""A longer field rejects its row (a 20 MB field is a broken file, not a note)."""
csv.field_size_limit(MAX_FIELD_CHARS)

DELIMITERS = (",", ";", "\t", "|")


class UnreadableFile(Exception):
    """The file cannot be imported at all: missing, unreadable, binary or without the columns."""


@dataclass(frozen=True)
class CsvSource:
    path: Path
    text: str
    encoding: str
    """utf-8, utf-8-sig (with a byte-order mark), utf-16 (-le, -be without a mark) or cp1252."""
    delimiter: str
    header: list[str]
    """The header fields as written."""
    columns: list[str]
    """The header fields as column names: trimmed, lower case, spaces as underscores."""
    lines: int
    malformed: tuple[tuple[int, str, str], ...] = ()
    """Records no CSV reader can read (line, the line as written, why), blanked in `text`."""

    @property
    def has_bom(self) -> bool:
        return self.encoding == "utf-8-sig"


def column_name(field: str) -> str:
    return "_".join(field.strip().lstrip("\ufeff").lower().replace("-", " ").split())


def _utf16(data: bytes) -> str | None:
    """The codec of a UTF-16 file (what Excel's "Unicode text" saves), if it is one: by its
    byte-order mark, or by the zero bytes every other byte of mostly-ASCII text has."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.9 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.9 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    codec = _utf16(data)
    if codec is not None:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                _("{path} is not valid UTF-16: {reason}").format(path=path, reason=error.reason)
            ) from None
    sample = data[: 64 * 1024]
    # A stray NUL or control character is a bad row (set aside with its line); many are
    # a file that is not text.
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if controls > max(2, len(sample) // 100):
        raise UnreadableFile(_("{path} is not a text file (binary content)").format(path=path))
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                _("{path} is not valid UTF-8: {error}").format(path=path, error=error)
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("{path} is neither UTF-8 nor Windows-1252 text").format(path=path)
        ) from None


def _sniff_delimiter(first_line: str) -> str:
    counts: dict[str, int] = {d: 0 for d in DELIMITERS}
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_source(path: Path, required: tuple[str, ...]) -> CsvSource:
    """Read and check a CSV file's encoding and header.

    Args:
        path: the file.
        required: column names that must be in the header.

    Returns:
        The decoded file and what was learnt about it.

    Raises:
        UnreadableFile: the file cannot be imported at all.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(_("{path}: no such file").format(path=path)) from None
    except IsADirectoryError:
        raise UnreadableFile(_("{path} is a directory, not a CSV file").format(path=path)) from None
    except OSError as error:
        raise UnreadableFile(
            _("cannot read {path}: {value}").format(path=path, value=error.strerror or error)
        ) from None
    text, encoding = _decode(data, path)
    text, malformed = _screen(text)
    if not text.strip():
        raise UnreadableFile(
            _("{path} is empty: a CSV file starts with a header line").format(path=path)
        )
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (csv.Error, StopIteration) as error:
        raise UnreadableFile(
            _("{path}: cannot read the header line: {error}").format(path=path, error=error)
        ) from None
    columns = [column_name(f) for f in header]
    counts = Counter(c for c in columns if c)
    duplicates = sorted(c for c, n in counts.items() if n > 1)
    if duplicates:
        raise UnreadableFile(
            _("{path}: columns named twice: {value}").format(path=path, value=", ".join(duplicates))
        )
    missing = [c for c in required if c not in columns]
    if missing:
        raise UnreadableFile(
            _("{path}: missing column(s) {value} (the header has: {value2})").format(
                path=path,
                value=", ".join(missing),
                value2=", ".join(c for c in columns if c) or "nothing",
            )
        )
    return CsvSource(
        path, text, encoding, delimiter, header, columns, text.count("\n"), tuple(malformed)
    )


_LONE_CR = re.compile(r"\r(?!\n)")
MALFORMED = (
    "a line break inside a field that is not in quotes "
    "(quote the field, or save the file again as CSV)"
)
UNTERMINATED = (
    'a quote (") opened on this line is never closed: the lines after it would be read as '
    "one field (close the quote, or double it inside a field)"
)
TOO_LONG = f"a field longer than {MAX_FIELD_CHARS:,} characters"
NUL = "a NUL character (\\0) in the row: not text a spreadsheet saves"


def _needs_screening(text: str, lines: list[str]) -> bool:
    """Whether any record could be one no reader can read as a row. A record spans lines
    only where a line has an odd number of quotes: files without one (most, even with
    quoted fields) skip the full reading."""
    return (
        "\x00" in text
        or _LONE_CR.search(text) is not None
        or max(map(len, lines)) > MAX_FIELD_CHARS
        or ('"' in text and any(line.count('"') % 2 for line in lines))
    )


def _swallowed(lines: list[str], first: int, last: int, delimiter: str, width: int) -> bool:
    """Whether the record on lines first..last is an unterminated quote that ate the rows
    after it: its quotes do not pair up (it ran to the end of the file), or one of the lines
    inside it has as many fields as a row (a line break in a quoted note rarely does)."""
    body = lines[first - 1 : last]
    if sum(line.count('"') for line in body) % 2:
        return True
    return width >= 2 and any(line.count(delimiter) + 1 >= width for line in body[1:-1])


def _screen(text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Set aside the records no reader can read as rows, each to be reported at its line
    rather than stop the import or swallow other rows: a lone carriage return inside a
    record, a field too long, a NUL character, a quote never closed (only its own line is
    set aside: reading starts again on the next line). Their lines are left blank, so that
    every other line keeps its number. Old Mac files (carriage returns alone) are read as
    lines."""
    if "\n" not in text and _LONE_CR.search(text):
        text = text.replace("\r", "\n")
    lines = text.split("\n")
    if not _needs_screening(text, lines):
        return text, []
    delimiter = _sniff_delimiter(lines[0])
    bad: list[tuple[int, str, str]] = []
    blank: set[int] = set()
    width: int | None = None
    starts: list[int] = []
    line = 1
    while line <= len(lines):
        if line > 1 and not starts:  # where each line starts, to read again from one
            starts.append(0)
            for physical in lines:
                starts.append(starts[-1] + len(physical) + 1)
        rest = text[starts[line - 1] :] if line > 1 else text
        reader = csv.reader(io.StringIO(rest), delimiter=delimiter)
        end, restart = line - 1, None
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                first, last = end + 1, reader.line_num + line - 1
                end = last
                if first == 1:  # the header itself: the file cannot be read (open_source says why)
                    return text, []
                if last > first and width and _swallowed(lines, first, last, delimiter, width):
                    bad.append((first, lines[first - 1], UNTERMINATED))
                    blank.add(first)
                    restart = first + 1
                    break
                reason = TOO_LONG if "field limit" in str(error) else MALFORMED
                bad.append((first, "\n".join(lines[first - 1 : last]), reason))
                blank.update(range(first, last + 1))
                continue
            first, last = end + 1, reader.line_num + line - 1
            end = last
            if width is None:
                width = len(fields)
                continue
            if last > first and _swallowed(lines, first, last, delimiter, width):
                bad.append((first, lines[first - 1], UNTERMINATED))
                blank.add(first)
                restart = first + 1
                break
            if any("\x00" in field for field in fields):
                bad.append((first, "\n".join(lines[first - 1 : last]).replace("\x00", ""), NUL))
                blank.update(range(first, last + 1))
        if restart is None:
            break
        line = restart
    if not bad:
        return text, []
    for number in blank:
        lines[number - 1] = ""
    return "\n".join(lines), bad


def records(source: CsvSource) -> Iterator[tuple[int, list[str]]]:
    """Every record after the header, with the line it starts on (the header is line 1).
    Blank lines are skipped."""
    reader = csv.reader(io.StringIO(source.text), delimiter=source.delimiter)
    next(reader, None)
    end = reader.line_num
    for fields in reader:
        start, end = end + 1, reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        yield start, fields
