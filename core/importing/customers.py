"""Importing customers: upsert by customer number, add new phones and emails, re-index.

An empty cell never erases what is stored: it means "not known in this file". Phones and
emails are added when new and never removed; a customer's first phone and first email become
the primary ones when the customer has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import publish_change
from core.importing import sqlite_write
from core.importing.base import Reject, Row, chunks, customer_ids
from core.importing.bulk import executemany
from core.importing.fields import (
    RowError,
    normalize_email,
    normalize_phone,
    parse_bool,
    parse_country,
    parse_date,
    parse_datetime,
)
from core.importing.sqlite_write import UPDATABLE
from core.models import ContactPoint
from core.models.types import utcnow
from core.search.indexer import index_customers

PHONE_COLUMNS = ("phone", "phone2", "phone3", "mobile")
EMAIL_COLUMNS = ("email", "email2")
EARLIEST_BIRTH = date(1900, 1, 1)
TYPES = "....ddtbb"
"""Parameter types of UPDATABLE, for bulk.executemany."""


@dataclass
class CustomerValues:
    external_id: str
    fields: dict[str, Any]
    """Column -> value for every cell the file gave (an empty cell is absent)."""
    phones: list[tuple[str, str, str]] = field(default_factory=list)
    """(as written, normalised, label)."""
    emails: list[tuple[str, str, str]] = field(default_factory=list)


def _phone_label(normalized: str) -> str:
    if normalized.startswith("34") and len(normalized) == 11:
        return "mobile" if normalized[2] in "67" else "home"
    return ""


class CustomerImport:
    name: str = "customers"
    required: tuple[str, ...] = ("external_id", "first_name", "last_name")
    optional: tuple[str, ...] = (
        "email", "email2", "phone", "phone2", "phone3", "mobile", "city", "country",
        "birth_date", "created_at", "marketing_consent", "do_not_call",
    )  # fmt: skip

    def __init__(self, tz: Any = None) -> None:
        self.tz = tz
        self.today = date.today()
        self.index_now = True
        """Index the customers for search in each batch's transaction; False when the caller
        rebuilds the whole index after a big import."""

    def parse(self, row: dict[str, str]) -> CustomerValues:
        get = row.get
        external_id = get("external_id", "").strip()
        if not external_id:
            raise RowError("missing external_id")
        if len(external_id) > 32:
            raise RowError(f"external_id longer than 32 characters: {external_id!r}")
        values: dict[str, Any] = {}
        first, last = get("first_name", "").strip(), get("last_name", "").strip()
        if not first and not last:
            raise RowError("missing name (first_name and last_name are both empty)")
        if len(first) > 100 or len(last) > 150:
            raise RowError("name too long (first_name 100, last_name 150 characters at most)")
        values["first_name"], values["last_name"] = first, last
        if city := get("city", "").strip():
            values["city"] = city[:100]
        if country := get("country", "").strip():
            values["country"] = parse_country(country)
        if birth := get("birth_date", "").strip():
            born = parse_date(birth, "birth_date")
            if not EARLIEST_BIRTH <= born <= self.today:
                raise RowError(f"implausible birth_date: {birth!r}")
            values["birth_date"] = born
        if created := get("created_at", "").strip():
            created_at = parse_datetime(created, "created_at", self.tz)
            values["created_at"] = created_at
            values["customer_since"] = created_at.date()
        for flag in ("marketing_consent", "do_not_call"):
            if raw := get(flag, "").strip():
                values[flag] = parse_bool(raw, flag)
        result = CustomerValues(external_id, values)
        home = values.get("country", "")
        phones, emails = result.phones, result.emails
        for column in PHONE_COLUMNS:
            if raw := get(column, "").strip():
                normalized = normalize_phone(raw, home, column)
                if not phones or all(normalized != p[1] for p in phones):
                    phones.append((raw[:200], normalized, _phone_label(normalized)))
        for column in EMAIL_COLUMNS:
            if raw := get(column, "").strip():
                normalized = normalize_email(raw, column)
                if not emails or all(normalized != e[1] for e in emails):
                    label = "work" if column == "email2" else "personal"
                    emails.append((raw, normalized, label))
        return result

    async def write(self, session: AsyncSession, rows: list[Row]) -> list[Reject]:
        merged = _merge(rows)
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            raw = await connection.get_raw_connection()
            ids = await sqlite_write.run(raw.driver_connection, merged)
        else:
            ids = await _write_with_session(session, merged)
        if self.index_now:
            await index_customers(session, sorted(ids.values()))
        await publish_change(session, "customer", "import")
        return []


def _merge(rows: list[Row]) -> dict[str, CustomerValues]:
    """One entry per customer: the same customer twice in a batch, the later row wins.
    The rows' own values are never changed (a refused batch is retried row by row)."""
    merged: dict[str, CustomerValues] = {}
    for row in rows:
        values: CustomerValues = row.values
        earlier = merged.get(values.external_id)
        if earlier is None:
            merged[values.external_id] = values
        else:
            merged[values.external_id] = CustomerValues(
                values.external_id,
                {**earlier.fields, **values.fields},
                earlier.phones + [p for p in values.phones if p not in earlier.phones],
                earlier.emails + [e for e in values.emails if e not in earlier.emails],
            )
    return merged


async def _write_with_session(
    session: AsyncSession, merged: dict[str, CustomerValues]
) -> dict[str, int]:
    existing = await customer_ids(session, merged)
    now = utcnow()
    new = [v for key, v in merged.items() if key not in existing]
    if new:
        await executemany(
            session,
            "INSERT INTO customer (external_id, first_name, last_name, city, country, "
            "birth_date, customer_since, marketing_consent, do_not_call, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ".....ddbbtt",
            [
                (
                    v.external_id,
                    v.fields["first_name"],
                    v.fields["last_name"],
                    v.fields.get("city", ""),
                    v.fields.get("country", ""),
                    v.fields.get("birth_date"),
                    v.fields.get("customer_since"),
                    v.fields.get("marketing_consent", False),
                    v.fields.get("do_not_call", False),
                    v.fields.get("created_at", now),
                    now,
                )
                for v in new
            ],
        )
    changed = [v for key, v in merged.items() if key in existing]
    if changed:
        await _update(session, changed, existing, now)
    ids = existing | await customer_ids(session, [v.external_id for v in new])
    await _add_contact_points(session, merged, ids, existing)
    return ids


async def _update(
    session: AsyncSession,
    changed: list[CustomerValues],
    ids: dict[str, int],
    now: datetime,
) -> None:
    """One UPDATE per customer in a single executemany; NULL parameters keep stored values."""
    assignments = ", ".join(f"{name} = COALESCE(?, {name})" for name in UPDATABLE)
    await executemany(
        session,
        f"UPDATE customer SET {assignments}, updated_at = ? WHERE id = ?",
        TYPES + "t.",
        [(*(v.fields.get(name) for name in UPDATABLE), now, ids[v.external_id]) for v in changed],
    )


async def _add_contact_points(
    session: AsyncSession,
    merged: dict[str, CustomerValues],
    ids: dict[str, int],
    existing: dict[str, int],
) -> None:
    known: set[tuple[int, str, str]] = set()
    old_ids = sorted(existing.values())
    statement = select(
        col(ContactPoint.customer_id), col(ContactPoint.kind), col(ContactPoint.normalized)
    ).where(col(ContactPoint.customer_id).in_(bindparam("ids", expanding=True)))
    for part in chunks(old_ids):
        result = await session.execute(statement, {"ids": list(part)})
        known.update((int(c), k, n) for c, k, n in result.all())
    rows: list[tuple[Any, ...]] = []
    for external_id, v in merged.items():
        cid = ids[external_id]
        is_new = external_id not in existing
        for kind, points in (("phone", v.phones), ("email", v.emails)):
            for position, (written, normalized, label) in enumerate(points):
                if (cid, kind, normalized) in known:
                    continue
                known.add((cid, kind, normalized))
                rows.append((cid, kind, written, normalized, label, is_new and position == 0))
    await executemany(
        session,
        "INSERT INTO contact_point (customer_id, kind, value, normalized, label, is_primary) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ".....b",
        rows,
    )
    if old_ids:
        await _give_primaries(session, old_ids)


async def _give_primaries(session: AsyncSession, customer_ids: list[int]) -> None:
    """A customer's oldest phone (email) becomes primary when none of them is."""
    for part in chunks(customer_ids):
        await session.execute(
            text(
                "UPDATE contact_point SET is_primary = :yes WHERE id IN ("
                " SELECT MIN(id) FROM contact_point WHERE customer_id IN :ids"
                " GROUP BY customer_id, kind"
                " HAVING SUM(CASE WHEN is_primary THEN 1 ELSE 0 END) = 0)"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(part), "yes": True},
        )
