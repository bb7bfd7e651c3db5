"""The look-ups behind SearchService: ids, phones, emails and names, and the hits' details."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.search.normalize import name_key, phone_tail


@dataclass(frozen=True)
class Found:
    """A customer a look-up found, before details are loaded."""

    customer_id: int
    score: float
    matched: str
    order: tuple[float, ...]
    """Sort key, smallest first: kind of match, then ranking within the kind."""


@dataclass(frozen=True)
class Detail:
    external_id: str
    name: str
    city: str
    birth_year: int | None
    phone_tail: str
    tier: str


class Dictionary:
    """The index's word dictionary, cached in this process (filled by the name index)."""


def _activity(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    stamp: datetime = value
    return stamp.timestamp() if stamp.tzinfo else stamp.replace(tzinfo=None).timestamp()


async def find_ids(session: AsyncSession, numbers: Sequence[str]) -> list[Found]:
    """Customers whose customer number is one of `numbers` (case-insensitive)."""
    if not numbers:
        return []
    rows = await session.execute(
        text("SELECT id FROM customer WHERE external_id IN :numbers").bindparams(
            bindparam("numbers", expanding=True)
        ),
        {"numbers": list(dict.fromkeys([n.upper() for n in numbers] + list(numbers)))},
    )
    return [Found(row[0], 1000.0, "id", (0.0,)) for row in rows]


async def find_phone(session: AsyncSession, digits: str, limit: int) -> list[Found]:
    """Customers with a phone number ending in the query's trailing digits."""
    tail = phone_tail(digits)
    rows = await session.execute(
        text(
            "SELECT cp.customer_id, cp.normalized, c.last_activity_at FROM contact_point cp "
            "JOIN customer c ON c.id = cp.customer_id "
            "WHERE cp.kind = 'phone' AND cp.normalized LIKE :pattern LIMIT :cap"
        ),
        {"pattern": f"%{tail}", "cap": max(limit * 5, 50)},
    )
    found = []
    for customer_id, normalized, activity in rows:
        full = normalized.endswith(digits)
        found.append(
            Found(
                customer_id,
                900.0 if full else 800.0,
                "phone",
                (0.0 if full else 1.0, -_activity(activity)),
            )
        )
    return found


async def find_email(session: AsyncSession, email: str, limit: int) -> list[Found]:
    """Customers with this email, or with this local part when no domain was typed."""
    if "@" in email:
        sql = "cp.normalized = :email"
        params: dict[str, Any] = {"email": email}
    else:
        sql = "cp.normalized LIKE :pattern"
        params = {"pattern": f"{email}@%"}
    rows = await session.execute(
        text(
            "SELECT cp.customer_id, c.last_activity_at FROM contact_point cp "
            "JOIN customer c ON c.id = cp.customer_id "
            f"WHERE cp.kind = 'email' AND {sql} LIMIT :cap"
        ),
        {**params, "cap": max(limit * 5, 50)},
    )
    exact = "@" in email
    return [
        Found(cid, 900.0 if exact else 850.0, "email", (0.0 if exact else 1.0, -_activity(a)))
        for cid, a in rows
    ]


async def find_names(
    session: AsyncSession, dictionary: Dictionary, words: Sequence[str], limit: int
) -> list[Found]:
    """Customers whose name contains every word typed (simple scan; replaced by the index)."""
    query = " ".join(words)
    conditions = " AND ".join(
        f"(lower(first_name) LIKE :w{i} OR lower(last_name) LIKE :w{i})" for i in range(len(words))
    )
    params: dict[str, Any] = {f"w{i}": f"%{word}%" for i, word in enumerate(words)}
    rows = await session.execute(
        text(
            "SELECT id, first_name, last_name, last_activity_at FROM customer "
            f"WHERE {conditions} LIMIT 500"
        ),
        params,
    )
    found = []
    for customer_id, first, last, activity in rows:
        closeness = fuzz.token_sort_ratio(query, name_key(first, last))
        found.append(Found(customer_id, closeness, "name", (2.0, -closeness, -_activity(activity))))
    return found


async def customer_details(session: AsyncSession, ids: Sequence[int]) -> dict[int, Detail]:
    """What a hit shows: name, city, birth year, last phone digits, tier."""
    if not ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT c.id, c.external_id, c.first_name, c.last_name, c.city, c.birth_date, "
            "l.tier FROM customer c LEFT JOIN loyalty_account l ON l.customer_id = c.id "
            "WHERE c.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list(ids)},
    )
    phones: dict[int, str] = {}
    phone_rows = await session.execute(
        text(
            "SELECT customer_id, normalized FROM contact_point WHERE kind = 'phone' "
            "AND customer_id IN :ids ORDER BY is_primary, id DESC"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list(ids)},
    )
    for customer_id, normalized in phone_rows:
        phones[customer_id] = normalized[-4:]  # primary last, so it wins
    details = {}
    for cid, external_id, first, last, city, birth, tier in rows:
        year = None
        if birth is not None:
            year = birth.year if not isinstance(birth, str) else int(birth[:4])
        details[cid] = Detail(
            external_id=external_id,
            name=f"{first} {last}".strip(),
            city=city or "",
            birth_year=year,
            phone_tail=phones.get(cid, ""),
            tier=tier or "",
        )
    return details
