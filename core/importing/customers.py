"""Importing customers: upsert by customer number, add new phones and emails, re-index.

An empty cell never erases what is stored: it means "not known in this file". Phones and
emails are added when new and never removed; a customer's first phone and first email become
the primary ones when the customer has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import publish_change
from core.importing.base import Reject, Row, cell, chunks, customer_ids, table
from core.importing.fields import (
    RowError,
    normalize_email,
    normalize_phone,
    parse_bool,
    parse_country,
    parse_date,
    parse_datetime,
)
from core.models import ContactPoint, Customer
from core.models.types import utcnow
from core.search.indexer import index_customers

PHONE_COLUMNS = ("phone", "phone2", "phone3", "mobile")
EMAIL_COLUMNS = ("email", "email2")
UPDATABLE = (
    "first_name",
    "last_name",
    "city",
    "country",
    "birth_date",
    "customer_since",
    "created_at",
    "marketing_consent",
    "do_not_call",
)


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

    def parse(self, row: dict[str, str]) -> CustomerValues:
        external_id = cell(row, "external_id")
        if not external_id:
            raise RowError("missing external_id")
        if len(external_id) > 32:
            raise RowError(f"external_id longer than 32 characters: {external_id!r}")
        values: dict[str, Any] = {}
        first, last = cell(row, "first_name"), cell(row, "last_name")
        if not first and not last:
            raise RowError("missing name (first_name and last_name are both empty)")
        if len(first) > 100 or len(last) > 150:
            raise RowError("name too long (first_name 100, last_name 150 characters at most)")
        values["first_name"], values["last_name"] = first, last
        if city := cell(row, "city"):
            values["city"] = city[:100]
        if country := cell(row, "country"):
            values["country"] = parse_country(country)
        if birth := cell(row, "birth_date"):
            born = parse_date(birth, "birth_date")
            if not date(1900, 1, 1) <= born <= date.today():
                raise RowError(f"implausible birth_date: {birth!r}")
            values["birth_date"] = born
        if created := cell(row, "created_at"):
            created_at = parse_datetime(created, "created_at", self.tz)
            values["created_at"] = created_at
            values["customer_since"] = created_at.date()
        for flag in ("marketing_consent", "do_not_call"):
            if raw := cell(row, flag):
                values[flag] = parse_bool(raw, flag)
        result = CustomerValues(external_id, values)
        home = values.get("country", "")
        for column in PHONE_COLUMNS:
            if raw := cell(row, column):
                normalized = normalize_phone(raw, home, column)
                if all(normalized != p[1] for p in result.phones):
                    result.phones.append((raw[:200], normalized, _phone_label(normalized)))
        for column in EMAIL_COLUMNS:
            if raw := cell(row, column):
                normalized = normalize_email(raw, column)
                if all(normalized != e[1] for e in result.emails):
                    label = "work" if column == "email2" else "personal"
                    result.emails.append((raw, normalized, label))
        return result

    async def write(self, session: AsyncSession, rows: list[Row]) -> list[Reject]:
        merged: dict[str, CustomerValues] = {}
        for row in rows:  # the same customer twice in a batch: the later row wins
            values: CustomerValues = row.values
            earlier = merged.get(values.external_id)
            if earlier is not None:
                earlier.fields.update(values.fields)
                earlier.phones += [p for p in values.phones if p not in earlier.phones]
                earlier.emails += [e for e in values.emails if e not in earlier.emails]
            else:
                merged[values.external_id] = CustomerValues(
                    values.external_id, dict(values.fields), list(values.phones),
                    list(values.emails),
                )  # fmt: skip
        existing = await customer_ids(session, merged)
        now = utcnow()
        new = [v for key, v in merged.items() if key not in existing]
        if new:
            await session.execute(
                table(Customer).insert(),
                [
                    {
                        "external_id": v.external_id,
                        "first_name": v.fields["first_name"],
                        "last_name": v.fields["last_name"],
                        "city": v.fields.get("city", ""),
                        "country": v.fields.get("country", ""),
                        "birth_date": v.fields.get("birth_date"),
                        "customer_since": v.fields.get("customer_since"),
                        "marketing_consent": v.fields.get("marketing_consent", False),
                        "do_not_call": v.fields.get("do_not_call", False),
                        "created_at": v.fields.get("created_at", now),
                        "updated_at": now,
                    }
                    for v in new
                ],
            )
        changed = [v for key, v in merged.items() if key in existing]
        if changed:
            await _update(session, changed, existing, now)
        ids = existing | await customer_ids(session, [v.external_id for v in new])
        await _add_contact_points(session, merged, ids, existing)
        await index_customers(session, sorted(ids.values()))
        await publish_change(session, "customer", "import")
        return []


async def _update(
    session: AsyncSession,
    changed: list[CustomerValues],
    ids: dict[str, int],
    now: datetime,
) -> None:
    """One UPDATE per customer in a single executemany; NULL parameters keep stored values."""
    customers = table(Customer)
    values: dict[str, Any] = {"updated_at": bindparam("p_updated_at")}
    for name in UPDATABLE:
        column = customers.c[name]
        values[name] = func.coalesce(bindparam(f"p_{name}", type_=column.type), column)
    statement = (
        update(customers)
        .where(customers.c.id == bindparam("p_id"))
        .values(values)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        statement,
        [
            {"p_id": ids[v.external_id], "p_updated_at": now}
            | {f"p_{name}": v.fields.get(name) for name in UPDATABLE}
            for v in changed
        ],
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
    rows: list[dict[str, Any]] = []
    for external_id, v in merged.items():
        cid = ids[external_id]
        is_new = external_id not in existing
        for kind, points in (("phone", v.phones), ("email", v.emails)):
            for position, (written, normalized, label) in enumerate(points):
                if (cid, kind, normalized) in known:
                    continue
                known.add((cid, kind, normalized))
                rows.append(
                    {
                        "customer_id": cid,
                        "kind": kind,
                        "value": written,
                        "normalized": normalized,
                        "label": label,
                        "is_primary": is_new and position == 0,
                    }
                )
    if rows:
        await session.execute(table(ContactPoint).insert(), rows)
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
