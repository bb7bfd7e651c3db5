"""Reveals, exports and erasures: each one done and audited in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import publish_change
from core.errors import CustomerNotFound
from core.i18n import words as _
from core.models import AuditEvent, ContactPoint, Customer
from core.models.types import utcnow
from core.privacy.erase import erase_customer
from core.privacy.export import export_rows
from core.privacy.trail import AuditAction, Entry

MIN_REASON = 3
"""A reason shorter than this ("x", "ok") says nothing to whoever reads the trail."""


class ReasonRequired(ValueError):
    """A reveal or an erasure needs a reason, written down in the audit trail."""


@dataclass(frozen=True)
class ContactDetails:
    """A customer's main phone, main email and birth date, unmasked."""

    phone: str
    email: str
    birth_date: date | None


def check_reason(reason: str) -> str:
    """The reason, trimmed; ReasonRequired when it is missing or too short to mean anything."""
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise ReasonRequired(_("say why (--reason TEXT): it is kept in the audit trail"))
    return reason


class PrivacyService:
    """What only a reason or a role unlocks, with its audit record in the same transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def details(self, customer_id: int) -> ContactDetails:
        """The unmasked details, for masking by the caller (core.privacy.mask); not audited.

        Raises:
            CustomerNotFound: no such customer.
        """
        async with self._sessions() as session:
            return await _details(session, customer_id)

    async def reveal(
        self, actor: str, customer_id: int, reason: str, place: str = ""
    ) -> ContactDetails:
        """The unmasked details, with the reveal and its reason in the audit trail.

        Args:
            actor: who asks.
            customer_id: whose details.
            reason: why (required; ReasonRequired otherwise).
            place: where from.

        Returns:
            The details.
        """
        why = check_reason(reason)
        async with self._sessions() as session, session.begin():
            found = await _details(session, customer_id)
            await _audit(session, Entry(actor, AuditAction.REVEAL, customer_id, why, place))
        return found

    async def export(self, actor: str, customer_id: int, place: str = "") -> dict[str, Any]:
        """Everything held about a customer, by table; the export is audited.

        Returns:
            {"customer_id", "exported_at", "tables": {table: [rows]}}.
        """
        async with self._sessions() as session, session.begin():
            if await session.get(Customer, customer_id) is None:
                raise CustomerNotFound(
                    _("no customer with id {customer_id}").format(customer_id=customer_id)
                )
            tables = await export_rows(session, customer_id)
            rows = sum(len(found) for found in tables.values())
            detail = f"{rows} rows from {len(tables)} tables"
            await _audit(session, Entry(actor, AuditAction.EXPORT, customer_id, detail, place))
        return {"customer_id": customer_id, "exported_at": utcnow().isoformat(), "tables": tables}

    async def erase(
        self, actor: str, customer_id: int, reason: str, place: str = ""
    ) -> dict[str, int]:
        """Erase a customer's personal data everywhere (core.privacy.erase), audited.

        Returns:
            What was changed: kind -> rows.
        """
        why = check_reason(reason)
        async with self._sessions() as session, session.begin():
            counts = await erase_customer(session, customer_id)
            changed = ", ".join(f"{kind} {n}" for kind, n in counts.items() if n)
            detail = f"{why}; {changed or 'nothing but the customer row'}"
            await _audit(session, Entry(actor, AuditAction.ERASE, customer_id, detail, place))
            await publish_change(session, "customer", str(customer_id))
        return counts


async def _details(session: AsyncSession, customer_id: int) -> ContactDetails:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(
            _("no customer with id {customer_id}").format(customer_id=customer_id)
        )
    points = (
        await session.execute(
            select(ContactPoint)
            .where(col(ContactPoint.customer_id) == customer_id)
            .order_by(col(ContactPoint.is_primary).desc(), col(ContactPoint.id))
        )
    ).scalars()
    phone = email = ""
    for point in points:
        if point.kind == "phone" and not phone:
            phone = point.value
        elif point.kind == "email" and not email:
            email = point.value
    return ContactDetails(phone, email, customer.birth_date)


async def _audit(session: AsyncSession, entry: Entry) -> None:
    await session.execute(insert(AuditEvent), [entry.row(utcnow())])
