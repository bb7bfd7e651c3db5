"""The customer record as front-line staff change it: each change checked against the acting
person's role (core.privacy.access), kept in the field history and audited.

The console and `frontline customers` go through here; a branch user is refused in the
service, whatever a front end offers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import publish_change
from core.i18n import words as _
from core.identity import Identity
from core.models import AuditEvent, ContactPoint, Customer, CustomerMerge, FieldChange
from core.models.types import utcnow
from core.privacy.access import Can, require_to
from core.privacy.trail import AuditAction, Entry
from core.services.agents import AgentService
from core.services.customers import CustomerService
from core.services.duplicate_scan import DuplicatePair, duplicate_pairs
from core.services.duplicates import Duplicate, find_duplicates, find_likely_duplicates
from core.services.merge import MergeRefused, merge_customers, undo_merge

__all__ = ["MergeRefused", "RecordService"]


class RecordService:
    """Create, edit, restore and merge customers, as someone whose role allows it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        customers: CustomerService,
        agents: AgentService,
    ) -> None:
        self._sessions = sessions
        self._customers = customers
        self._agents = agents

    async def create(
        self,
        who: Identity,
        first_name: str,
        last_name: str,
        phones: Sequence[str] = (),
        emails: Sequence[str] = (),
        **fields: Any,
    ) -> Customer:
        """A new customer (CustomerService.create), audited. AccessDenied for branch staff."""
        grant = await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        if not (first_name.strip() or last_name.strip()):
            raise ValueError(_("a customer needs a first or a last name"))
        customer = await self._customers.create(
            first_name.strip(), last_name.strip(), phones, emails, **fields
        )
        assert customer.id is not None
        await self._audit(Entry(grant.name, AuditAction.CREATE, customer.id, "", who.place))
        return customer

    async def likely_duplicates(
        self,
        who: Identity,
        first_name: str,
        last_name: str,
        birth_date: date | None = None,
        phones: Sequence[str] = (),
        emails: Sequence[str] = (),
        city: str = "",
    ) -> list[Duplicate]:
        """Who a customer about to be created would likely duplicate, before saving."""
        await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        async with self._sessions() as session:
            return await find_likely_duplicates(
                session, first_name, last_name, birth_date, phones, emails, city
            )

    async def duplicates(self, who: Identity, customer_id: int) -> list[Duplicate]:
        """Likely duplicates of a customer on screen."""
        await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        async with self._sessions() as session:
            return await find_duplicates(session, customer_id)

    async def all_duplicates(
        self, who: Identity, since: datetime | None = None, limit: int | None = None
    ) -> list[DuplicatePair]:
        """Every likely duplicate pair (`since`: with a customer changed since then), audited
        as a search listing both customers of each pair."""
        grant = await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        async with self._sessions() as session:
            pairs = await duplicate_pairs(session, since, limit)
        listed = sorted({i for p in pairs for i in (p.customer_id, p.duplicate.customer_id)})
        entries = [Entry(grant.name, AuditAction.SEARCH, i, "likely duplicates", who.place)
                   for i in listed] or [Entry(grant.name, AuditAction.SEARCH, None,
                                              "likely duplicates", who.place)]  # fmt: skip
        async with self._sessions() as session, session.begin():
            await session.execute(insert(AuditEvent), [e.row(utcnow()) for e in entries])
        return pairs

    async def duplicates_since(self, since: datetime) -> int:
        """How many likely duplicate pairs have a customer changed since `since` (an import).

        A count, naming no one: the import's summary says it to whoever ran the import.
        """
        async with self._sessions() as session:
            return len(await duplicate_pairs(session, since))

    async def update(self, who: Identity, customer_id: int, **changes: Any) -> Customer:
        """Change fields (CustomerService.update: field history and audit)."""
        grant = await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        return await self._customers.update(
            customer_id, actor=grant.name, place=who.place, **changes
        )

    async def set_contacts(
        self, who: Identity, customer_id: int, kind: str, values: Sequence[str]
    ) -> list[ContactPoint]:
        """Replace the phones or emails (CustomerService.set_contacts)."""
        grant = await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        return await self._customers.set_contacts(
            customer_id, kind, values, actor=grant.name, place=who.place
        )

    async def field_history(self, who: Identity, customer_id: int) -> list[FieldChange]:
        """Every change to the record, newest first."""
        await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        return await self._customers.field_history(customer_id)

    async def restore(self, who: Identity, change_id: int) -> None:
        """Put back the value a change replaced (a change itself, in the history)."""
        grant = await require_to(self._agents, who, Can.EDIT_CUSTOMERS)
        await self._customers.restore(change_id, actor=grant.name, place=who.place)

    async def merge(self, who: Identity, keep_id: int, merged_id: int) -> CustomerMerge:
        """Merge `merged_id` into `keep_id` (core.services.merge), audited; undoable.

        Raises:
            AccessDenied, CustomerNotFound, MergeRefused.
        """
        grant = await require_to(self._agents, who, Can.MERGE_CUSTOMERS)
        async with self._sessions() as session, session.begin():
            record = await merge_customers(session, keep_id, merged_id, grant.name)
            detail = f"merged {record.merged_number} (id {merged_id}); merge {record.id}"
            await _audit(session, Entry(grant.name, AuditAction.MERGE, keep_id, detail, who.place))
            await publish_change(session, "customer", str(keep_id))
        return record

    async def undo_merge(self, who: Identity, merge_id: int) -> CustomerMerge:
        """Undo a merge: the merged customer back as they were, with their rows."""
        grant = await require_to(self._agents, who, Can.MERGE_CUSTOMERS)
        async with self._sessions() as session, session.begin():
            record = await undo_merge(session, merge_id, grant.name)
            detail = f"undid merge {merge_id}: {record.merged_number} is back"
            entry = Entry(grant.name, AuditAction.UNMERGE, record.customer_id, detail, who.place)
            await _audit(session, entry)
            await publish_change(session, "customer", str(record.customer_id))
        return record

    async def merges(self, who: Identity, customer_id: int) -> list[CustomerMerge]:
        """The merges into a customer, newest first (undone ones too)."""
        await require_to(self._agents, who, Can.MERGE_CUSTOMERS)
        async with self._sessions() as session:
            result = await session.execute(
                select(CustomerMerge)
                .where(col(CustomerMerge.customer_id) == customer_id)
                .order_by(col(CustomerMerge.id).desc())
            )
            return list(result.scalars())

    async def _audit(self, entry: Entry) -> None:
        async with self._sessions() as session, session.begin():
            await _audit(session, entry)


async def _audit(session: AsyncSession, entry: Entry) -> None:
    await session.execute(insert(AuditEvent), [entry.row(utcnow())])
