"""What the search index stores a name or a contact point under.

Shared by the query side (which reads the keys), the per-customer indexer and the bulk
rebuild (which write them), so that none of them imports another for a constant.
"""

from __future__ import annotations

import re

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
