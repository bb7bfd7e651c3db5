"""Everything the agent screen shows about a customer apart from the history and figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel import col

from core.db import Reads
from core.i18n import words as _
from core.i18n.codes import COMPLAINT
from core.models import (
    Call,
    CallState,
    ContactPoint,
    Customer,
    Holding,
    Interaction,
    LoyaltyAccount,
    Product,
)
from core.services.customers import CustomerNotFound

RESOLVED_OUTCOMES = frozenset({"resolved", "closed", "solved", "refunded", "cancelled"})
"""Outcomes that close a complaint; any other outcome leaves the latest complaint open."""

COMPLAINT_WINDOW = 200
"""How many of the latest interactions are searched for an open complaint."""


@dataclass(frozen=True)
class HeldProduct:
    """A product the customer holds now."""

    code: str
    name: str
    line: str
    since: date


@dataclass(frozen=True)
class CustomerOverview:
    """Who the customer is and what needs attention, for the header and side panels."""

    customer: Customer
    contact_points: list[ContactPoint] = field(default_factory=list)
    loyalty: LoyaltyAccount | None = None
    products: list[HeldProduct] = field(default_factory=list)
    open_complaint: Interaction | None = None
    """The latest complaint, when its outcome does not close it."""
    follow_up_on: date | None = None
    """The earliest follow-up date promised on a call and not yet acted on."""
    follow_up_reason: str = ""

    def products_by_line(self) -> dict[str, list[HeldProduct]]:
        """Products held, grouped by product line, lines in alphabetical order."""
        lines: dict[str, list[HeldProduct]] = {}
        for product in sorted(self.products, key=lambda p: (p.line, p.code)):
            lines.setdefault(product.line, []).append(product)
        return lines

    def follow_up_due(self, today: date) -> bool:
        return self.follow_up_on is not None and self.follow_up_on <= today


class OverviewService:
    """Reads a customer's overview in one session, all its statements in one go (Reads)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], reads: Reads | None = None
    ) -> None:
        self._reads = reads or Reads(sessions)

    async def overview(self, customer_id: int) -> CustomerOverview:
        """The customer's header data, contact points, loyalty account, products and alerts.

        Args:
            customer_id: the customer's database id.

        Returns:
            The overview. Raises CustomerNotFound for an unknown id.
        """
        return await self._reads.run(lambda session: _read_overview(session, customer_id))


def _read_overview(session: Session, customer_id: int) -> CustomerOverview:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(
            _("no customer with id {customer_id}").format(customer_id=customer_id)
        )
    points = session.execute(
        select(ContactPoint)
        .where(col(ContactPoint.customer_id) == customer_id)
        .order_by(
            col(ContactPoint.kind).desc(),
            col(ContactPoint.is_primary).desc(),
            col(ContactPoint.id),
        )
    ).scalars()
    loyalty = session.execute(
        select(LoyaltyAccount).where(col(LoyaltyAccount.customer_id) == customer_id)
    ).scalar_one_or_none()
    held = session.execute(
        select(col(Product.code), col(Product.name), col(Product.line), col(Holding.since))
        .join(Product, col(Product.id) == col(Holding.product_id))
        .where(col(Holding.customer_id) == customer_id, col(Holding.ended_on).is_(None))
    ).all()
    # Only the latest interactions count: a complaint buried under hundreds of later contacts
    # is not "open" in any useful sense, and this keeps the look-up bounded for customers
    # with 10,000 interactions.
    latest = (
        select(col(Interaction.id))
        .where(col(Interaction.customer_id) == customer_id)
        .order_by(col(Interaction.at).desc(), col(Interaction.id).desc())
        .limit(COMPLAINT_WINDOW)
        .scalar_subquery()
    )
    complaint = session.execute(
        select(Interaction)
        .where(
            col(Interaction.id).in_(latest),
            col(Interaction.reason) == COMPLAINT,
        )
        .order_by(col(Interaction.at).desc(), col(Interaction.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    if complaint is not None and complaint.outcome.strip().lower() in RESOLVED_OUTCOMES:
        complaint = None
    follow_up, follow_reason = _pending_follow_up(session, customer_id)
    return CustomerOverview(
        customer=customer,
        contact_points=list(points),
        loyalty=loyalty,
        products=[HeldProduct(code, name, line, since) for code, name, line, since in held],
        open_complaint=complaint,
        follow_up_on=follow_up,
        follow_up_reason=follow_reason,
    )


def _pending_follow_up(session: Session, customer_id: int) -> tuple[date | None, str]:
    # A follow-up is pending until the customer is contacted again after the call that
    # promised it: any later interaction counts as the follow-up.
    call = session.execute(
        select(Call)
        .where(
            col(Call.customer_id) == customer_id,
            col(Call.state) == CallState.COMPLETED,
            col(Call.follow_up_on).is_not(None),
        )
        .order_by(col(Call.wrap_up_ended_at).desc())
        .limit(1)
    ).scalar_one_or_none()
    if call is None or call.follow_up_on is None:
        return None, ""
    since: datetime | None = call.wrap_up_ended_at
    if since is not None:
        later = session.execute(
            select(col(Interaction.id))
            .where(col(Interaction.customer_id) == customer_id, col(Interaction.at) > since)
            .limit(1)
        ).first()
        if later is not None:
            return None, ""
    return call.follow_up_on, call.reason
