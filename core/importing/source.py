"""Opening a CSV file saved by a spreadsheet: encoding, delimiter, header, records with lines.

UTF-8 with or without a byte-order mark is expected; a file that is not UTF-8 is read as
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

csv.field_size_limit(16 * 1024 * 1024)

DELIMITERS = (",", ";", "\t", "|")


class UnreadableFile(Exception):
    """The file cannot be imported at all: missing, unreadable, binary or without the columns."""


@dataclass(frozen=True)
class CsvSource:
    path: Path
    text: str
    encoding: str
    """utf-8, utf-8-sig (with a byte-order mark) or cp1252."""
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


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    sample = data[: 64 * 1024]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if b"\x00" in sample or controls > len(sample) // 100:
        raise UnreadableFile(f"{path} is not a text file (binary content)")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"{path} is not valid UTF-8: {error}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise UnreadableFile(f"{path} is neither UTF-8 nor Windows-1252 text") from None


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
        raise UnreadableFile(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path} is a directory, not a CSV file") from None
    except OSError as error:
        raise UnreadableFile(f"cannot read {path}: {error.strerror or error}") from None
    text, encoding = _decode(data, path)
    text, malformed = _mend_line_ends(text)
    if not text.strip():
        raise UnreadableFile(f"{path} is empty: a CSV file starts with a header line")
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (csv.Error, StopIteration) as error:
        raise UnreadableFile(f"{path}: cannot read the header line: {error}") from None
    columns = [column_name(f) for f in header]
    counts = Counter(c for c in columns if c)
    duplicates = sorted(c for c, n in counts.items() if n > 1)
    if duplicates:
        raise UnreadableFile(f"{path}: columns named twice: {', '.join(duplicates)}")
    missing = [c for c in required if c not in columns]
    if missing:
        raise UnreadableFile(
            f"{path}: missing column(s) {', '.join(missing)} "
            f"(the header has: {', '.join(c for c in columns if c) or 'nothing'})"
        )
    return CsvSource(
        path, text, encoding, delimiter, header, columns, text.count("\n"), tuple(malformed)
    )


_LONE_CR = re.compile(r"\r(?!\n)")
MALFORMED = (
    "a line break inside a field that is not in quotes "
    "(quote the field, or save the file again as CSV)"
)


def _mend_line_ends(text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Old Mac files end lines with a carriage return alone: read those as line ends. A lone
    carriage return in a file that ends its lines otherwise is junk inside a record that no
    CSV reader can read: that record is set aside (its lines left blank, so that every
    other line keeps its number) to be reported with its line number, not to stop the import."""
    if _LONE_CR.search(text) is None:
        return text, []
    if "\n" not in text:
        return text.replace("\r", "\n"), []
    lines = text.split("\n")
    bad: list[tuple[int, str, str]] = []
    sniffed = _sniff_delimiter(lines[0])
    reader = csv.reader(io.StringIO(text), delimiter=sniffed)
    end = 0
    while True:
        try:
            next(reader)
        except StopIteration:
            break
        except csv.Error:
            first, last = end + 1, reader.line_num
            if first == 1:  # the header itself: the file cannot be read (open_source says why)
                return text, []
            raw = "\n".join(lines[first - 1 : last])
            bad.append((first, raw, MALFORMED))
            for number in range(first - 1, last):
                lines[number] = ""
        end = reader.line_num
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
