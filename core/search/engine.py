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
        f"SELECT {DETAIL_COLUMNS}, sc.key FROM search_contact sc "
        "JOIN customer c ON c.id = sc.customer_id "
        f"WHERE sc.kind = 'p' AND sc.key >= :lo AND sc.key < :hi LIMIT {_cap(limit)}",
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
            f"SELECT {DETAIL_COLUMNS} FROM contact_point e JOIN customer c "
            "ON c.id = e.customer_id WHERE e.kind = 'email' AND e.normalized = :email "
            f"LIMIT {cap}",
            {"email": email},
        )
        for row in rows:
            add(row, 900.0, EXACT_KEY)
        if not found and prefixes:  # still typing the domain
            rows = db.rows(
                f"SELECT {DETAIL_COLUMNS} FROM contact_point e JOIN customer c "
                "ON c.id = e.customer_id WHERE e.kind = 'email' "
                f"AND e.normalized >= :lo AND e.normalized < :hi LIMIT {cap}",
                {"lo": email, "hi": prefix_end(email)},
            )
            for row in rows:
                add(row, 850.0, PARTIAL_KEY)
    elif email:
        sql = "sc.key >= :lo AND sc.key < :hi" if prefixes else "sc.key = :lo"
        rows = db.rows(
            f"SELECT {DETAIL_COLUMNS}, sc.key FROM search_contact sc "
            f"JOIN customer c ON c.id = sc.customer_id WHERE sc.kind = 'e' AND {sql} "
            f"LIMIT {cap}",
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
