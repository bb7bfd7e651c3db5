"""Customers: look-up by id or number, creation and changes that keep the search index current."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import publish_change
from core.errors import CustomerNotFound as CustomerNotFound  # re-exported: callers import it here
from core.i18n import words as _
from core.models import AuditEvent, ContactPoint, Customer, FieldChange
from core.models.types import utcnow
from core.privacy.trail import AuditAction, Entry
from core.search.indexer import index_customers
from core.search.normalize import customer_number, phone_digits
from core.services.duplicates import Duplicate, find_duplicates

EDITABLE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "city",
        "country",
        "birth_date",
        "customer_since",
        "marketing_consent",
        "do_not_call",
    }
)


DATE_FIELDS = frozenset({"birth_date", "customer_since"})


class CustomerService:
    """Customer look-up and updates."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, customer_id: int) -> Customer:
        async with self._sessions() as session:
            customer = await session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(
                _("no customer with id {customer_id}").format(customer_id=customer_id)
            )
        return customer

    async def by_external_id(self, external_id: str) -> Customer:
        async with self._sessions() as session:
            result = await session.execute(
                select(Customer).where(col(Customer.external_id) == external_id)
            )
            customer = result.scalar_one_or_none()
        if customer is None:
            raise CustomerNotFound(
                _("no customer numbered {external_id}").format(external_id=external_id)
            )
        return customer

    async def create(
        self,
        first_name: str,
        last_name: str,
        phones: Sequence[str] = (),
        emails: Sequence[str] = (),
        **fields: Any,
    ) -> Customer:
        """Add a customer with the next customer number; searchable once committed.

        Args:
            first_name: given name(s).
            last_name: surname(s).
            phones: phone numbers as given; the first is the main one.
            emails: emails as given; the first is the main one.
            **fields: other Customer fields (city, country, birth_date, …).

        Returns:
            The stored customer.
        """
        unknown = set(fields) - EDITABLE_FIELDS
        if unknown:
            raise ValueError(
                _("not customer fields: {value}").format(value=", ".join(sorted(unknown)))
            )
        for attempt in range(5):
            try:
                async with self._sessions() as session, session.begin():
                    last = (
                        await session.execute(
                            select(func.max(col(Customer.external_id))).where(
                                col(Customer.external_id).like("C%")
                            )
                        )
                    ).scalar()
                    digits = "".join(ch for ch in (last or "") if ch.isdigit())
                    customer = Customer(
                        external_id=customer_number(str(int(digits or 0) + 1)),
                        first_name=first_name,
                        last_name=last_name,
                        **fields,
                    )
                    session.add(customer)
                    await session.flush()
                    assert customer.id is not None
                    for position, value in enumerate(phones):
                        session.add(_contact(customer.id, "phone", value, position == 0))
                    for position, value in enumerate(emails):
                        session.add(_contact(customer.id, "email", value, position == 0))
                    await index_customers(session, [customer.id])
                    await publish_change(session, "customer", str(customer.id))
                return customer
            except IntegrityError:  # another process took that customer number
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    async def update(
        self, customer_id: int, *, actor: str = "", place: str = "", **changes: Any
    ) -> Customer:
        """Change a customer's fields (names, city, consent…); the index follows, and each
        field that changed is kept in the field history (who, when, old, new) and audited.

        Args:
            customer_id: the customer's database id.
            actor: who changes it (the identity's name).
            place: where from, for the audit trail.
            **changes: field -> new value (EDITABLE_FIELDS).

        Returns:
            The updated customer. Raises CustomerNotFound for an unknown id.
        """
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ValueError(
                _("not customer fields: {value}").format(value=", ".join(sorted(unknown)))
            )
        async with self._sessions() as session, session.begin():
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise CustomerNotFound(
                    _("no customer with id {customer_id}").format(customer_id=customer_id)
                )
            changed: list[str] = []
            for name, value in changes.items():
                before = getattr(customer, name)
                if before == value:
                    continue
                session.add(_change(customer_id, actor, name, before, value))
                setattr(customer, name, value)
                changed.append(name)
            if changed:
                customer.updated_at = utcnow()
                await _audit_update(session, actor, customer_id, changed, place)
            await session.flush()
            await index_customers(session, [customer_id])
            await publish_change(session, "customer", str(customer_id))
        return customer

    async def set_contacts(
        self, customer_id: int, kind: str, values: Sequence[str], *, actor: str, place: str = ""
    ) -> list[ContactPoint]:
        """Replace a customer's phones (or emails) by these, the first the main one; the old
        list is kept in the field history and the change audited.

        Returns:
            The new contact points.
        """
        field = {"phone": "phones", "email": "emails"}.get(kind)
        if field is None:
            raise ValueError(
                _("a contact point is a phone or an email, not {kind!r}").format(kind=kind)
            )
        async with self._sessions() as session, session.begin():
            if await session.get(Customer, customer_id) is None:
                raise CustomerNotFound(
                    _("no customer with id {customer_id}").format(customer_id=customer_id)
                )
            before = [p.value for p in await _points(session, customer_id, kind)]
            wanted = [value.strip() for value in values if value.strip()]
            if before == wanted:
                return await _points(session, customer_id, kind)
            await session.execute(
                delete(ContactPoint).where(
                    col(ContactPoint.customer_id) == customer_id, col(ContactPoint.kind) == kind
                )
            )
            await session.flush()
            points = [_contact(customer_id, kind, v, n == 0) for n, v in enumerate(wanted)]
            session.add_all(points)
            session.add(_change(customer_id, actor, field, before, wanted))
            await _audit_update(session, actor, customer_id, [field], place)
            await session.flush()
            await index_customers(session, [customer_id])
            await publish_change(session, "customer", str(customer_id))
        return points

    async def duplicates(self, customer_id: int) -> list[Duplicate]:
        """Likely duplicates of a customer (core.services.duplicates)."""
        async with self._sessions() as session:
            return await find_duplicates(session, customer_id)

    async def field_history(self, customer_id: int) -> list[FieldChange]:
        """Every change to a customer's record, newest first."""
        async with self._sessions() as session:
            result = await session.execute(
                select(FieldChange)
                .where(col(FieldChange.customer_id) == customer_id)
                .order_by(col(FieldChange.at).desc(), col(FieldChange.id).desc())
            )
            return list(result.scalars())

    async def restore(self, change_id: int, *, actor: str, place: str = "") -> None:
        """Put back the value a change replaced (itself a change, kept in the history)."""
        async with self._sessions() as session:
            change = await session.get(FieldChange, change_id)
        if change is None:
            raise ValueError(_("no change numbered {change_id}").format(change_id=change_id))
        old = json.loads(change.old)
        if change.field in ("phones", "emails"):
            kind = "phone" if change.field == "phones" else "email"
            await self.set_contacts(change.customer_id, kind, old or [], actor=actor, place=place)
        else:
            if change.field in DATE_FIELDS and old is not None:
                old = date.fromisoformat(old)
            await self.update(change.customer_id, actor=actor, place=place, **{change.field: old})
        async with self._sessions() as session, session.begin():
            latest = (
                await session.execute(
                    select(FieldChange)
                    .where(col(FieldChange.customer_id) == change.customer_id)
                    .order_by(col(FieldChange.id).desc())
                    .limit(1)
                )
            ).scalar_one()
            if latest.id != change.id:
                latest.restored_from = change.id

    async def add_contact_point(
        self, customer_id: int, kind: str, value: str, label: str = "", is_primary: bool = False
    ) -> ContactPoint:
        """Give a customer another phone number or email; searchable once committed."""
        async with self._sessions() as session, session.begin():
            if await session.get(Customer, customer_id) is None:
                raise CustomerNotFound(
                    _("no customer with id {customer_id}").format(customer_id=customer_id)
                )
            point = _contact(customer_id, kind, value, is_primary, label)
            session.add(point)
            await session.flush()
            await index_customers(session, [customer_id])
            await publish_change(session, "customer", str(customer_id))
        return point


def _change(customer_id: int, actor: str, field: str, old: Any, new: Any) -> FieldChange:
    return FieldChange(
        customer_id=customer_id,
        actor=actor[:100],
        field=field,
        old=json.dumps(old, default=str, ensure_ascii=False)[:2000],
        new=json.dumps(new, default=str, ensure_ascii=False)[:2000],
    )


async def _points(session: AsyncSession, customer_id: int, kind: str) -> list[ContactPoint]:
    result = await session.execute(
        select(ContactPoint)
        .where(col(ContactPoint.customer_id) == customer_id, col(ContactPoint.kind) == kind)
        .order_by(col(ContactPoint.is_primary).desc(), col(ContactPoint.id))
    )
    return list(result.scalars())


async def _audit_update(
    session: AsyncSession, actor: str, customer_id: int, fields: list[str], place: str
) -> None:
    entry = Entry(actor, AuditAction.UPDATE, customer_id, "changed " + ", ".join(fields), place)
    await session.execute(insert(AuditEvent), [entry.row(utcnow())])


def _contact(
    customer_id: int, kind: str, value: str, is_primary: bool, label: str = ""
) -> ContactPoint:
    if kind not in ("phone", "email"):
        raise ValueError(
            _("a contact point is a phone or an email, not {kind!r}").format(kind=kind)
        )
    normalized = phone_digits(value) if kind == "phone" else value.strip().lower()
    return ContactPoint(
        customer_id=customer_id,
        kind=kind,
        value=value.strip(),
        normalized=normalized,
        label=label,
        is_primary=is_primary,
    )
