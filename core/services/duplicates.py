"""Likely duplicates of a customer: the same phone or email, or a close name and the same
birth date; each with what they share and what tells them apart."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import CustomerNotFound
from core.models import ContactPoint, Customer
from core.models.search_index import SearchContact
from core.search.keys import phone_key
from core.search.normalize import name_key, phone_tail

CLOSE_NAME = 85.0
"""rapidfuzz token_sort_ratio (0-100) from which two folded names are "close"."""


@dataclass(frozen=True)
class Duplicate:
    customer_id: int
    external_id: str
    name: str
    shared: tuple[str, ...]
    """What they have in common: "phone 34612345678", "email a@b.es", "name and birth date"."""
    differs: tuple[str, ...]
    """What tells them apart: "city Madrid / Sevilla", "birth date …"."""


async def find_duplicates(session: AsyncSession, customer_id: int) -> list[Duplicate]:
    """Other customers who are likely the same person as this one.

    Args:
        session: an open session.
        customer_id: the customer just created, imported or popped.

    Returns:
        The likely duplicates, most shared first. Raises CustomerNotFound.
    """
    me = await session.get(Customer, customer_id)
    if me is None:
        raise CustomerNotFound(f"no customer with id {customer_id}")
    mine = (
        await session.execute(
            select(col(ContactPoint.kind), col(ContactPoint.normalized)).where(
                col(ContactPoint.customer_id) == customer_id
            )
        )
    ).all()
    shared: dict[int, list[str]] = {}
    for kind, normalized in mine:
        if kind == "phone":
            # Numbers are the same when their trailing digits are (with or without +34), as
            # the search compares them: a prefix of the index's reversed digits.
            tail = phone_tail(normalized)
            others = await session.execute(
                select(col(SearchContact.customer_id)).where(
                    col(SearchContact.kind) == "p",
                    col(SearchContact.key).startswith(phone_key(tail)),
                    col(SearchContact.customer_id) != customer_id,
                )
            )
            what = f"phone …{tail}"
        else:
            others = await session.execute(
                select(col(ContactPoint.customer_id)).where(
                    col(ContactPoint.kind) == kind,
                    col(ContactPoint.normalized) == normalized,
                    col(ContactPoint.customer_id) != customer_id,
                )
            )
            what = f"{kind} {normalized}"
        for other_id in set(others.scalars()):
            shared.setdefault(other_id, []).append(what)
    my_name = name_key(me.first_name, me.last_name)
    if me.birth_date is not None and my_name:
        born_same = await session.execute(
            select(Customer).where(
                col(Customer.birth_date) == me.birth_date, col(Customer.id) != customer_id
            )
        )
        for namesake in born_same.scalars():
            their = name_key(namesake.first_name, namesake.last_name)
            if namesake.id is not None and fuzz.token_sort_ratio(my_name, their) >= CLOSE_NAME:
                shared.setdefault(namesake.id, []).append("name and birth date")
    found: list[Duplicate] = []
    for other_id, reasons in shared.items():
        other = await session.get(Customer, other_id)
        if other is None:
            continue
        found.append(
            Duplicate(
                other_id, other.external_id, other.full_name, tuple(reasons), _differs(me, other)
            )
        )
    return sorted(found, key=lambda d: (-len(d.shared), d.customer_id))


def _differs(me: Customer, other: Customer) -> tuple[str, ...]:
    differences = []
    for label, mine, theirs in (
        ("name", me.full_name, other.full_name),
        ("city", me.city, other.city),
        ("birth date", me.birth_date, other.birth_date),
    ):
        if mine != theirs:
            differences.append(f"{label} {mine or '-'} / {theirs or '-'}")
    return tuple(differences)
