"""Quick look-ups for branch staff: a masked customer card (the audit is core.services.audit).

Kept apart from core.services so that `frontline lookup` over SSH loads only what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import ContactPoint, Customer, Interaction, LoyaltyAccount
from core.privacy.mask import mask_email, mask_phone  # one masking rule (console, CLI, here)

RECENT = 5


@dataclass(frozen=True)
class RecentContact:
    at: datetime
    channel: str
    direction: str
    subject: str
    outcome: str


@dataclass(frozen=True)
class LookupCard:
    """What branch staff see: enough to recognise the customer, contact details masked."""

    customer_id: int
    external_id: str
    name: str
    city: str
    tier: str
    points: int | None
    phone: str
    """Main phone, masked."""
    email: str
    """Main email, masked."""
    recent: tuple[RecentContact, ...]


class LookupService:
    """Cards for `frontline lookup`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def card(self, customer_id: int) -> LookupCard | None:
        """The masked card of a customer, or None when there is no such customer.

        Args:
            customer_id: the customer's database id.

        Returns:
            The card with the latest five interactions.
        """
        async with self._sessions() as session:
            customer = await session.get(Customer, customer_id)
            if customer is None:
                return None
            points = list(
                (
                    await session.execute(
                        select(ContactPoint)
                        .where(col(ContactPoint.customer_id) == customer_id)
                        .order_by(col(ContactPoint.is_primary).desc(), col(ContactPoint.id))
                    )
                ).scalars()
            )
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
                    .limit(RECENT)
                )
            ).scalars()
            phone = next((p.value for p in points if p.kind == "phone"), "")
            email = next((p.value for p in points if p.kind == "email"), "")
            return LookupCard(
                customer_id=customer_id,
                external_id=customer.external_id,
                name=customer.full_name,
                city=customer.city,
                tier=loyalty.tier if loyalty else "",
                points=loyalty.points if loyalty else None,
                phone=mask_phone(phone) if phone else "",
                email=mask_email(email) if email else "",
                recent=tuple(
                    RecentContact(i.at, i.channel, i.direction, i.subject, i.outcome)
                    for i in latest
                ),
            )
