"""What a search hit shows about a customer, read in the same query that found them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.search.reader import Reader

DETAIL_COLUMNS = (
    "c.id, c.external_id, c.first_name, c.last_name, c.city, c.birth_date, c.last_activity_at, "
    "(SELECT l.tier FROM loyalty_account l WHERE l.customer_id = c.id) AS tier, "
    "(SELECT cp.normalized FROM contact_point cp WHERE cp.customer_id = c.id "
    "AND cp.kind = 'phone' ORDER BY cp.is_primary DESC, cp.id LIMIT 1) AS phone"
)
"""Columns every look-up selects about the customer `c`, in the order `Detail.from_row` reads."""
DETAIL_WIDTH = 9


def activity_stamp(value: Any) -> float:
    """Seconds since the epoch of a stored activity time (text on SQLite), 0 when never."""
    if value is None:
        return 0.0
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    stamp: datetime = value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


@dataclass(frozen=True)
class Detail:
    customer_id: int
    external_id: str
    name: str
    city: str
    birth_year: int | None
    phone_tail: str
    tier: str
    activity: float
    """Last activity, seconds since the epoch (0 when never active)."""

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Detail:
        cid, external_id, first, last, city, birth, activity, tier, phone = row[:DETAIL_WIDTH]
        year = None
        if birth is not None:
            year = int(birth[:4]) if isinstance(birth, str) else int(birth.year)
        return cls(
            customer_id=int(cid),
            external_id=str(external_id),
            name=f"{first or ''} {last or ''}".strip(),
            city=city or "",
            birth_year=year,
            phone_tail=str(phone)[-4:] if phone else "",
            tier=tier or "",
            activity=activity_stamp(activity),
        )


def load_details(db: Reader, ids: Sequence[int]) -> dict[int, Detail]:
    """The details of these customers, by id (missing ones were deleted meanwhile)."""
    if not ids:
        return {}
    rows = db.rows(
        f"SELECT {DETAIL_COLUMNS} FROM customer c WHERE c.id IN :ids", {"ids": list(ids)}
    )
    return {int(row[0]): Detail.from_row(row) for row in rows}
