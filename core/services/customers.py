"""Customers: look-up by id or number, creation and changes that keep the search index current."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import publish_change
from core.errors import CustomerNotFound as CustomerNotFound  # re-exported: callers import it here
from core.models import ContactPoint, Customer
from core.models.types import utcnow
from core.search.indexer import index_customers
from core.search.normalize import customer_number, phone_digits

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


class CustomerService:
    """Customer look-up and updates."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, customer_id: int) -> Customer:
        async with self._sessions() as session:
            customer = await session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(f"no customer with id {customer_id}")
        return customer

    async def by_external_id(self, external_id: str) -> Customer:
        async with self._sessions() as session:
            result = await session.execute(
                select(Customer).where(col(Customer.external_id) == external_id)
            )
            customer = result.scalar_one_or_none()
        if customer is None:
            raise CustomerNotFound(f"no customer numbered {external_id}")
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
            raise ValueError(f"not customer fields: {', '.join(sorted(unknown))}")
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

    async def update(self, customer_id: int, **changes: Any) -> Customer:
        """Change a customer's fields (names, city, consent…); the index follows.

        Returns:
            The updated customer. Raises CustomerNotFound for an unknown id.
        """
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ValueError(f"not customer fields: {', '.join(sorted(unknown))}")
        async with self._sessions() as session, session.begin():
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise CustomerNotFound(f"no customer with id {customer_id}")
            for name, value in changes.items():
                setattr(customer, name, value)
            customer.updated_at = utcnow()
            await session.flush()
            await index_customers(session, [customer_id])
            await publish_change(session, "customer", str(customer_id))
        return customer

    async def add_contact_point(
        self, customer_id: int, kind: str, value: str, label: str = "", is_primary: bool = False
    ) -> ContactPoint:
        """Give a customer another phone number or email; searchable once committed."""
        async with self._sessions() as session, session.begin():
            if await session.get(Customer, customer_id) is None:
                raise CustomerNotFound(f"no customer with id {customer_id}")
            point = _contact(customer_id, kind, value, is_primary, label)
            session.add(point)
            await session.flush()
            await index_customers(session, [customer_id])
            await publish_change(session, "customer", str(customer_id))
        return point


def _contact(
    customer_id: int, kind: str, value: str, is_primary: bool, label: str = ""
) -> ContactPoint:
    if kind not in ("phone", "email"):
        raise ValueError(f"a contact point is a phone or an email, not {kind!r}")
    normalized = phone_digits(value) if kind == "phone" else value.strip().lower()
    return ContactPoint(
        customer_id=customer_id,
        kind=kind,
        value=value.strip(),
        normalized=normalized,
        label=label,
        is_primary=is_primary,
    )
