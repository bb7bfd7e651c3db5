"""Codes are ids with labels: what an agent picks (reason, outcome, decline, break).

The id is stored (calls, interactions, offer responses, agent states) and is what rules and
flags compare (`call.reason == "complaint"`); the label is what a person reads and types, in
their language. The labels ship in `codes.toml` beside this module; a site adds codes or
relabels them in a file of the same shape (FRONTLINE_CODES_FILE). An id without a label shows
as itself, so a code configured before it had labels keeps working.

    book = load_codes()
    book.label("reason", "complaint")        # "Reclamación" in Spanish, "Complaint" in English
    book.find("reason", "reclam")             # [Code("complaint", ...)]: prefixes, no accents
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from core.i18n import Language, current_language

Kind = Literal["reason", "outcome", "decline", "break"]
KINDS: tuple[Kind, ...] = ("reason", "outcome", "decline", "break")

DEFAULT_FILE = Path(__file__).parent / "codes.toml"

COMPLAINT = "complaint"
"""The reason id the open-complaint flag and `customer.open_complaints` count."""


class CodesFileError(ValueError):
    """A codes file that cannot be read; the message names the file and the entry."""


def fold(text: str) -> str:
    """Lower case without accents, for matching what was typed: `Reclamación` -> `reclamacion`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


@dataclass(frozen=True)
class Code:
    """One code: its stored id and its labels by catalog language (`es`, `es_MX`, `en`)."""

    id: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, language: Language | None = None) -> str:
        """The label in `language` (default: the current one), through its fallback chain;
        then Spanish, then English, then the id itself."""
        chosen = language or current_language()
        for lang in (chosen.locale, *chosen.catalogs, "es", "en"):
            text = self.labels.get(lang)
            if text:
                return text
        return self.id

    def matches(self, typed: str, language: Language | None = None) -> bool:
        """True if every typed word starts a word of the label (or the id), accents ignored."""
        wanted = fold(typed).split()
        if not wanted:
            return True
        for text in (self.label(language), self.id):
            words = fold(text).replace("-", " ").split()
            if all(any(w.startswith(t) for w in words) for t in wanted):
                return True
        return fold(self.label(language)).startswith(fold(typed))


@dataclass(frozen=True)
class CodeBook:
    """Every known code, per kind, in the order configured."""

    codes: Mapping[str, tuple[Code, ...]] = field(default_factory=dict)

    def get(self, kind: Kind, code_id: str) -> Code:
        """The code with this id; an unknown id is a code labelled with itself."""
        for code in self.codes.get(kind, ()):
            if code.id == code_id:
                return code
        return Code(code_id)

    def label(self, kind: Kind, code_id: str, language: Language | None = None) -> str:
        """What a person reads for a stored id (`complaint` -> `Reclamación`); "" for ""."""
        if not code_id:
            return ""
        return self.get(kind, code_id).label(language)

    def offered(self, kind: Kind, ids: Iterable[str] | None = None) -> tuple[Code, ...]:
        """The codes offered, in order: `ids` as configured (FRONTLINE_CALL_REASONS), else all."""
        if ids is None:
            return self.codes.get(kind, ())
        return tuple(self.get(kind, i) for i in ids)

    def labels(
        self, kind: Kind, ids: Iterable[str] | None = None, language: Language | None = None
    ) -> list[tuple[str, str]]:
        """(id, label) pairs for a picker, in the configured order.

        Args:
            kind: reason, outcome, decline or break.
            ids: the ids offered (the settings' list); None means every code of the kind.
            language: default the current one.

        Returns:
            [(id, label)], e.g. [("billing", "Facturación"), ...].
        """
        return [(c.id, c.label(language)) for c in self.offered(kind, ids)]

    def find(
        self,
        kind: Kind,
        typed: str,
        ids: Iterable[str] | None = None,
        language: Language | None = None,
    ) -> list[Code]:
        """The offered codes whose label (or id) the typed text starts, accents ignored.

        `reclam` and `RECLAMACION` find the complaint code; an exact label or id comes first.

        Args:
            kind: reason, outcome, decline or break.
            typed: what the agent typed.
            ids: the ids offered; None means every code of the kind.
            language: default the current one.

        Returns:
            The matching codes, exact matches first, then in the configured order.
        """
        found = [c for c in self.offered(kind, ids) if c.matches(typed, language)]
        wanted = fold(typed)
        exact = [c for c in found if wanted in (fold(c.label(language)), fold(c.id))]
        return exact + [c for c in found if c not in exact]

    def to_id(self, kind: Kind, typed: str, ids: Iterable[str] | None = None) -> str | None:
        """The id an agent meant by a typed id or label (any language); None if not one code."""
        text = fold(typed)
        if not text:
            return None
        for code in self.offered(kind, ids):
            if text == fold(code.id) or any(text == fold(v) for v in code.labels.values()):
                return code.id
        found = self.find(kind, typed, ids)
        return found[0].id if len(found) == 1 else None


def load_codes(extra: Path | str | None = None) -> CodeBook:
    """The shipped codes, with a site's file laid over them (same ids relabelled, new ids added).

    Args:
        extra: a TOML file of the shape of codes.toml; "" or None for none.

    Returns:
        The code book. Raises CodesFileError naming the file and entry for a bad file.
    """
    book = _read(DEFAULT_FILE)
    if extra:
        for kind, codes in _read(Path(extra)).items():
            merged = {c.id: c for c in book.get(kind, ())}
            for code in codes:
                old = merged.get(code.id)
                labels = {**(old.labels if old else {}), **code.labels}
                merged[code.id] = Code(code.id, labels)
            book[kind] = tuple(merged.values())
    return CodeBook(book)


def _read(path: Path) -> dict[str, tuple[Code, ...]]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CodesFileError(f"{path}: {error}") from error
    out: dict[str, tuple[Code, ...]] = {}
    for kind, entries in raw.items():
        if kind not in KINDS or not isinstance(entries, list):
            raise CodesFileError(f"{path}: [[{kind}]]: expected one of {', '.join(KINDS)}")
        out[kind] = tuple(_code(path, kind, n, entry) for n, entry in enumerate(entries, 1))
    return out


def _code(path: Path, kind: str, n: int, entry: object) -> Code:
    where = f"{path}: [[{kind}]] number {n}"
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        raise CodesFileError(f'{where}: needs id = "..."')
    labels = entry.get("label", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise CodesFileError(f"{where} ({entry['id']}): label.<language> must be text")
    return Code(str(entry["id"]), {str(k): str(v) for k, v in labels.items()})


_BOOK: CodeBook | None = None


def codes() -> CodeBook:
    """The process's code book: the one `use_codes` set (make_services, with the site's file),
    else the shipped codes. For labels where no services are at hand (a call's subject)."""
    global _BOOK
    if _BOOK is None:
        _BOOK = load_codes()
    return _BOOK


def use_codes(book: CodeBook) -> CodeBook:
    """Make `book` the process's code book (make_services does, from FRONTLINE_CODES_FILE)."""
    global _BOOK
    _BOOK = book
    return book


__all__ = [
    "COMPLAINT",
    "KINDS",
    "Code",
    "CodeBook",
    "CodesFileError",
    "Kind",
    "codes",
    "fold",
    "load_codes",
    "use_codes",
]
