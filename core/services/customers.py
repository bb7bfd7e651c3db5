"""Customer look-up: the card an agent sees, and the contact points behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import ContactPoint, Customer, Interaction, LoyaltyAccount


class CustomerNotFound(LookupError):
    """No customer has that id or customer number."""


@dataclass(frozen=True)
class CustomerCard:
    """Everything the console shows about one customer at a glance."""

    customer: Customer
    contact_points: list[ContactPoint] = field(default_factory=list)
    loyalty: LoyaltyAccount | None = None
    recent: list[Interaction] = field(default_factory=list)


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

    async def card(self, customer_id: int, recent: int = 5) -> CustomerCard:
        """The customer with their contact points, loyalty account and latest interactions.

        Args:
            customer_id: the customer's database id.
            recent: how many of the latest interactions to include.

        Returns:
            The card. Raises CustomerNotFound for an unknown id.
        """
        async with self._sessions() as session:
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise CustomerNotFound(f"no customer with id {customer_id}")
            points = (
                await session.execute(
                    select(ContactPoint)
                    .where(col(ContactPoint.customer_id) == customer_id)
                    .order_by(col(ContactPoint.kind).desc(), col(ContactPoint.is_primary).desc())
                )
            ).scalars()
            loyalty = (
                await session.execute(
                    select(LoyaltyAccount).where(col(LoyaltyAccount.customer_id) == customer_id)
                )
            ).scalar_one_or_none()
            latest = (
                await session.execute(
                    select(Interaction)
                    .where(col(Interaction.customer_id) == customer_id)
                    .order_by(col(Interaction.at).desc())
                    .limit(recent)
                )
            ).scalars()
            return CustomerCard(customer, list(points), loyalty, list(latest))

    async def find_simple(self, text: str, limit: int = 20) -> list[Customer]:
        """Plain prefix match on names and customer numbers; fuzzy search is core.search."""
        words = text.split()
        if not words:
            return []
        query = select(Customer)
        for word in words:
            pattern = f"{word}%"
            query = query.where(
                or_(
                    col(Customer.first_name).ilike(pattern),
                    col(Customer.last_name).ilike(pattern),
                    col(Customer.last_name).ilike(f"% {word}%"),
                    col(Customer.external_id).ilike(pattern),
                )
            )
        async with self._sessions() as session:
            return list((await session.execute(query.limit(limit))).scalars())
