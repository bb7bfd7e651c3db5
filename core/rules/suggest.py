"""The nearest known name to a misspelt one, for "did you mean" hints."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name within a small edit distance of `name`, or None.

    Args:
        name: what was written.
        known: the names that exist.

    Returns:
        The best candidate when it is close enough to be the intended one.
    """
    choices = list(known)
    if not choices:
        return None
    limit = max(2, len(name) // 3)
    found = process.extractOne(name, choices, scorer=Levenshtein.distance, score_cutoff=limit)
    return None if found is None else str(found[0])
