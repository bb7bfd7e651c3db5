"""What the search index stores a name or a contact point under.

Shared by the query side (which reads the keys), the per-customer indexer and the bulk
rebuild (which write them), so that none of them imports another for a constant.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

from sqlalchemy import text

PAIR = "+"
"""Joins the two words of a pair pseudo-word; never inside a real (folded) word."""
BUMP = text(
    "INSERT INTO search_meta (key, value) VALUES (:key, 1) "
    "ON CONFLICT (key) DO UPDATE SET value = search_meta.value + 1"
)
"""Counts a change other processes' dictionary caches must notice (and locks the counter)."""
NOT_DIGIT = re.compile(r"\D")


def phone_key(normalized: str) -> str:
    """The stored form of a phone: its digits reversed, so trailing digits are a prefix."""
    return NOT_DIGIT.sub("", normalized)[::-1]


def email_key(normalized: str) -> str:
    """The stored form of an email: its local part, lower case."""
    return normalized.strip().lower().partition("@")[0]


def contact_rows(customer_id: int, kind: str, normalized: str) -> list[tuple[str, str, int]]:
    """The search_contact rows of one contact point."""
    if kind == "phone":
        key = phone_key(normalized)
        return [("p", key, customer_id)] if key else []
    if kind == "email":
        local = email_key(normalized)
        return [("e", local, customer_id)] if local else []
    return []


def name_terms(key: str) -> list[str]:
    """What a name is indexed under: its distinct words and every pair of them ("a+b").

    Pairs are pseudo-words: their posting lists answer two common words at once
    ("garcia lopez") without reading either word's long list.
    """
    words = sorted(set(key.split()))
    pairs = [f"{a}{PAIR}{b}" for i, a in enumerate(words) for b in words[i + 1 :]]
    return words + pairs


SIGNATURE_BITS = 24
"""Width of a name's signature (search_posting.sig): small enough to travel packed with a
posting's two ids in one integer during a rebuild."""


def _bit(start: str) -> int:
    return 1 << (zlib.crc32(start.encode()) % SIGNATURE_BITS)


def word_signature(word: str) -> int:
    """The signature bits of one folded word: its first two and first three letters."""
    return _bit(word[:2]) | (_bit(word[:3]) if len(word) >= 3 else 0)


def name_signature(key: str) -> int:
    """What search_posting.sig holds for a name: its words' bits together.

    A posting list is read with the signature beside each name, so a test "does the name
    have a word starting with `ma`" is one AND on the row just read, before any look-up of
    the name's words: most names failing a query word are dropped for nothing.
    """
    signature = 0
    for word in key.split():
        signature |= word_signature(word)
    return signature


def meaning_mask(typed: str, words: Iterable[str]) -> int:
    """Bits at least one of which is in the signature of every name holding one of `words`
    (the dictionary words a typed word stands for) or a word starting with `typed`; 0 when
    nothing can be said (one letter typed)."""
    if len(typed) < 2:
        return 0
    own = _bit(typed[:3] if len(typed) >= 3 else typed[:2])
    mask = own
    for word in words:
        if word.startswith(typed):  # itself, or a word it starts: its beginning says it
            continue
        mask |= _bit(word[:3] if len(word) >= 3 else word[:2])
    return mask
