"""The look-ups behind SearchService: ids, phones, emails and names, each one query.

Every look-up returns `Found` items whose `order` sorts them best first across kinds: an
exact id, email or whole phone number first, then partial phones and email local parts, then
names (whose own order is words matched, exactness, closeness, recent activity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.search.details import DETAIL_COLUMNS, DETAIL_WIDTH, Detail
from core.search.dictionary import Dictionary, prefix_end
from core.search.names import search_names
from core.search.normalize import phone_tail
from core.search.reader import Reader

EXACT_KEY = 0.0
PARTIAL_KEY = 1.0
NAME_KEY = 2.0
AFTER_NAMES_KEY = 3.0


@dataclass(frozen=True)
class Found:
    """A customer a look-up found."""

    detail: Detail
    score: float
    matched: str
    order: tuple[float, ...]
    """Sort key, smallest first: kind of match, then ranking within the kind."""


def _cap(limit: int) -> int:
    """Rows a contact look-up reads at most. Written into the SQL, not bound: PostgreSQL
    plans the search's statements once (generic plans), and only a known LIMIT makes the
    plan walk the index instead of hashing the whole customer table."""
    return max(int(limit) * 10, 100)


def _keys(kind: str, condition: str, limit: int) -> str:
    """The FROM clause of a look-up on search_contact: `sc` (the matching keys, at most
    `_cap(limit)`) joined to their customers `c`.

    The LIMIT is inside, on the keys: PostgreSQL's generic plan cannot know how many keys a
    range holds (it guesses hundreds), and with the LIMIT outside it hashes the whole
    customer table for them (a scan growing with the base: 27 ms at 100,000 customers, a
    quarter of a second at a million); with it inside, it walks the key index, then the
    customer key for each.
    """
    return (
        f"(SELECT key, customer_id FROM search_contact WHERE kind = '{kind}' AND {condition} "
        f"LIMIT {_cap(limit)}) sc JOIN customer c ON c.id = sc.customer_id"
    )


def find_ids(db: Reader, numbers: Sequence[str]) -> list[Found]:
    """Customers whose customer number is one of `numbers` (any case)."""
    if not numbers:
        return []
    wanted = list(dict.fromkeys([n.upper() for n in numbers] + list(numbers)))
    rows = db.rows(
        f"SELECT {DETAIL_COLUMNS} FROM customer c WHERE c.external_id IN :numbers",
        {"numbers": wanted},
    )
    return [Found(Detail.from_row(row), 1000.0, "id", (EXACT_KEY,)) for row in rows]


def find_phone(db: Reader, digits: str, limit: int) -> list[Found]:
    """Customers with a phone number ending in the query's trailing digits.

    A number that ends with every digit typed (country code included) comes before one that
    only shares the trailing digits; then the most recently active customer.
    """
    tail = phone_tail(digits)[::-1]
    full = digits[::-1]
    rows = db.rows(
        f"SELECT {DETAIL_COLUMNS}, sc.key FROM {_keys('p', 'key >= :lo AND key < :hi', limit)}",
        {"lo": tail, "hi": prefix_end(tail)},
    )
    found: dict[int, Found] = {}
    for row in rows:
        detail = Detail.from_row(row)
        whole = str(row[DETAIL_WIDTH]).startswith(full)
        item = Found(
            detail,
            900.0 if whole else 800.0,
            "phone",
            (EXACT_KEY if whole else PARTIAL_KEY, -detail.activity),
        )
        if detail.customer_id not in found or found[detail.customer_id].order > item.order:
            found[detail.customer_id] = item
    return list(found.values())


def find_email(
    db: Reader, email: str, limit: int, prefixes: bool = True, place: float = 1.0
) -> list[Found]:
    """Customers by email: exact (any case) when a domain was typed, else by local part.

    Args:
        db: the reader.
        email: the lower-case email, or a local part alone.
        limit: how many are wanted.
        prefixes: also match emails that start with what was typed.
        place: where local-part matches rank (PARTIAL_KEY: above names; AFTER_NAMES_KEY).
    """
    cap = _cap(limit)
    found: dict[int, Found] = {}

    def add(row: Any, score: float, order: float) -> None:
        detail = Detail.from_row(row)
        item = Found(detail, score, "email", (order, -detail.activity))
        if detail.customer_id not in found or found[detail.customer_id].order > item.order:
            found[detail.customer_id] = item

    if "@" in email:
        rows = db.rows(
            f"SELECT {DETAIL_COLUMNS} FROM (SELECT customer_id FROM contact_point "
            f"WHERE kind = 'email' AND normalized = :email LIMIT {cap}) e "
            "JOIN customer c ON c.id = e.customer_id",
            {"email": email},
        )
        for row in rows:
            add(row, 900.0, EXACT_KEY)
        if not found and prefixes:  # still typing the domain
            rows = db.rows(
                f"SELECT {DETAIL_COLUMNS} FROM (SELECT customer_id FROM contact_point "
                f"WHERE kind = 'email' AND normalized >= :lo AND normalized < :hi LIMIT {cap}) e "
                "JOIN customer c ON c.id = e.customer_id",
                {"lo": email, "hi": prefix_end(email)},
            )
            for row in rows:
                add(row, 850.0, PARTIAL_KEY)
    elif email:
        sql = "key >= :lo AND key < :hi" if prefixes else "key = :lo"
        rows = db.rows(
            f"SELECT {DETAIL_COLUMNS}, sc.key FROM {_keys('e', sql, limit)}",
            {"lo": email, "hi": prefix_end(email)},
        )
        for row in rows:
            exact = row[DETAIL_WIDTH] == email
            add(row, 850.0 if exact else 700.0, place if exact else place + 0.5)
    return list(found.values())


def find_names(db: Reader, dictionary: Dictionary, words: Sequence[str], limit: int) -> list[Found]:
    """Customers by name through the index (see core.search.names)."""
    hits = search_names(db, dictionary, words, limit)
    return [Found(hit.detail, hit.score, "name", (NAME_KEY, *hit.order)) for hit in hits]
