"""Erasure (GDPR art. 17): a customer's personal data removed or anonymised everywhere.

What identifies or describes the person goes: names, birth date, city, every phone and
email, the search index's rows, free text (notes, subjects, NPS comments, drafts, call
events' raw payloads with the caller's number), the field history's old values. What only
counts stays, anonymous: transactions' amounts and dates, holdings, call times and
durations, offers' responses, the loyalty tier, so that figures and learnt rates do not
move. The audit trail keeps the erasure itself (who, when, why), about a customer who is
now a number without a name.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import CustomerNotFound
from core.i18n import words as _
from core.models import (
    Call,
    CallDraft,
    CallEvent,
    ContactPoint,
    Customer,
    CustomerMerge,
    FieldChange,
    Interaction,
    NpsResponse,
)
from core.models.types import utcnow
from core.search.indexer import index_customers

ERASED = "[erased]"
"""What free text becomes, so a reader sees it was there and was erased."""


def erased_number(customer_id: int) -> str:
    """The customer number an erased customer keeps: their database id, not their old number."""
    return f"X{customer_id:08d}"


async def erase_customer(session: AsyncSession, customer_id: int) -> dict[str, int]:
    """Erase a customer's personal data inside the caller's transaction.

    Args:
        session: the writer's session, in its transaction.
        customer_id: the customer's database id.

    Returns:
        What was changed: kind -> rows. Raises CustomerNotFound.
    """
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(
            _("no customer with id {customer_id}").format(customer_id=customer_id)
        )
    counts: dict[str, int] = {}
    name_ids = list(
        (
            await session.execute(
                text("SELECT name_id FROM search_name_customer WHERE customer_id = :c"),
                {"c": customer_id},
            )
        ).scalars()
    )
    customer.external_id = erased_number(customer_id)
    customer.first_name = ""
    customer.last_name = ""
    customer.city = ""
    customer.birth_date = None
    customer.marketing_consent = False
    customer.do_not_call = True  # never contact someone who asked to be forgotten
    customer.updated_at = utcnow()
    points = await session.execute(
        delete(ContactPoint).where(col(ContactPoint.customer_id) == customer_id)
    )
    counts["contact points"] = _count(points)
    interactions = await session.execute(
        update(Interaction)
        .where(col(Interaction.customer_id) == customer_id)
        .values(subject=ERASED, notes="")
    )
    counts["interactions"] = _count(interactions)
    calls = await session.execute(
        update(Call).where(col(Call.customer_id) == customer_id).values(caller_number="", notes="")
    )
    counts["calls"] = _count(calls)
    call_ids = select(col(Call.id)).where(col(Call.customer_id) == customer_id)
    events = await session.execute(
        update(CallEvent).where(col(CallEvent.call_id).in_(call_ids)).values(payload="{}")
    )
    counts["call events"] = _count(events)
    drafts = await session.execute(
        update(CallDraft)
        .where(col(CallDraft.customer_id) == customer_id)
        .values(payload="{}", customer_id=None)
    )
    counts["drafts"] = _count(drafts)
    history = await session.execute(  # old values are the person's data too
        delete(FieldChange).where(col(FieldChange.customer_id) == customer_id)
    )
    counts["field history"] = _count(history)
    merges = await session.execute(  # a merge keeps the merged record's data to undo it
        delete(CustomerMerge).where(col(CustomerMerge.customer_id) == customer_id)
    )
    counts["merges"] = _count(merges)
    comments = await session.execute(
        update(NpsResponse).where(col(NpsResponse.customer_id) == customer_id).values(comment="")
    )
    counts["nps comments"] = _count(comments)
    await session.flush()
    await index_customers(session, [customer_id])  # no name, no contacts: out of the index
    if name_ids:
        await _drop_orphan_names(session, name_ids)
    return counts


def _count(result: Result[Any]) -> int:
    return int(cast("CursorResult[Any]", result).rowcount or 0)


async def _drop_orphan_names(session: AsyncSession, name_ids: list[int]) -> None:
    # A name no other customer has would still hold the erased person's full name.
    orphans = list(
        (
            await session.execute(
                text(
                    "SELECT id FROM search_name WHERE id IN :ids AND NOT EXISTS "
                    "(SELECT 1 FROM search_name_customer c WHERE c.name_id = search_name.id)"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": name_ids},
            )
        ).scalars()
    )
    if not orphans:
        return
    for table in ("search_posting", "search_name_word"):
        await session.execute(
            text(f"DELETE FROM {table} WHERE name_id IN :ids").bindparams(  # noqa: S608
                bindparam("ids", expanding=True)
            ),
            {"ids": orphans},
        )
    await session.execute(
        text("DELETE FROM search_name WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": orphans},
    )
