"""Likely duplicates of a customer: the same phone or email, or a close name and the same
birth date; each with what they share and what tells them apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import CustomerNotFound
from core.i18n import words as _
from core.models import ContactPoint, Customer
from core.models.search_index import SearchContact
from core.search.keys import phone_key
from core.search.normalize import name_key, phone_digits, phone_tail

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
        raise CustomerNotFound(
            _("no customer with id {customer_id}").format(customer_id=customer_id)
        )
    mine = (
        await session.execute(
            select(col(ContactPoint.kind), col(ContactPoint.normalized)).where(
                col(ContactPoint.customer_id) == customer_id
            )
        )
    ).all()
    return await _likely(session, me, [(kind, value) for kind, value in mine], customer_id)


async def find_likely_duplicates(
    session: AsyncSession,
    first_name: str,
    last_name: str,
    birth_date: date | None = None,
    phones: Sequence[str] = (),
    emails: Sequence[str] = (),
    city: str = "",
) -> list[Duplicate]:
    """The customers a record about to be created would likely duplicate (before saving).

    Returns:
        As `find_duplicates`: most shared first, with what tells each apart.
    """
    probe = Customer(
        external_id="", first_name=first_name, last_name=last_name, city=city,
        birth_date=birth_date,
    )  # fmt: skip
    contacts = [("phone", phone_digits(p)) for p in phones if phone_digits(p)]
    contacts += [("email", e.strip().lower()) for e in emails if e.strip()]
    return await _likely(session, probe, contacts, None)


async def _likely(
    session: AsyncSession,
    me: Customer,
    mine: Sequence[tuple[str, str]],
    customer_id: int | None,
) -> list[Duplicate]:
    shared: dict[int, list[str]] = {}
    for kind, normalized in mine:
        if kind == "phone":
            # Numbers are the same when their trailing digits are (with or without +34), as
            # the search compares them: a prefix of the index's reversed digits.
            tail = phone_tail(normalized)
            query = select(col(SearchContact.customer_id)).where(
                col(SearchContact.kind) == "p",
                *_starts_with(col(SearchContact.key), phone_key(tail)),
            )
            if customer_id is not None:
                query = query.where(col(SearchContact.customer_id) != customer_id)
            what = _("phone …{digits}").format(digits=tail)
        else:
            query = select(col(ContactPoint.customer_id)).where(
                col(ContactPoint.kind) == kind, col(ContactPoint.normalized) == normalized
            )
            if customer_id is not None:
                query = query.where(col(ContactPoint.customer_id) != customer_id)
            what = contact_shared(kind, normalized)
        for other_id in set((await session.execute(query)).scalars()):
            shared.setdefault(other_id, []).append(what)
    my_name = name_key(me.first_name, me.last_name)
    if me.birth_date is not None and my_name:
        # Only the names (ix_customer_birth_date finds them); the few close ones are read below.
        born_same = select(
            col(Customer.id), col(Customer.first_name), col(Customer.last_name)
        ).where(col(Customer.birth_date) == me.birth_date)
        if customer_id is not None:
            born_same = born_same.where(col(Customer.id) != customer_id)
        for namesake_id, first, last in (await session.execute(born_same)).all():
            if namesake_id is not None and (
                fuzz.token_sort_ratio(my_name, name_key(first, last)) >= CLOSE_NAME
            ):
                shared.setdefault(namesake_id, []).append(_("name and birth date"))
    found: list[Duplicate] = []
    for other_id, reasons in shared.items():
        other = await session.get(Customer, other_id)
        if other is None:
            continue
        found.append(
            Duplicate(
                other_id, other.external_id, other.full_name, tuple(reasons), differences(me, other)
            )
        )
    return sorted(found, key=lambda d: (-len(d.shared), d.customer_id))


def _starts_with(column: Any, digits: str) -> list[Any]:
    """`column` starts with `digits`, as a range the primary key answers: SQLite uses no
    index for LIKE 'prefix%' on a case-sensitive column (it read every phone of every
    customer at each opened customer). Keys are digits only: those starting with "12399"
    are the ones from "12399" up to, not including, "124"."""
    conditions = [column >= digits]
    stem = digits.rstrip("9")
    if stem:
        conditions.append(column < stem[:-1] + str(int(stem[-1]) + 1))
    return conditions


def differences(me: Customer, other: Customer) -> tuple[str, ...]:
    """What tells two customers apart: their name, city and birth date where they differ."""
    found = []
    for label, mine, theirs in (
        (_("name"), me.full_name, other.full_name),
        (_("city"), me.city, other.city),
        (_("birth date"), me.birth_date, other.birth_date),
    ):
        if mine != theirs:
            found.append(f"{label} {mine or '-'} / {theirs or '-'}")
    return tuple(found)


def contact_shared(kind: str, value: str) -> str:
    """A shared contact point as a person reads it: "email a@b.es", "phone …612345678"."""
    if kind == "phone":
        return _("phone …{digits}").format(digits=value)
    if kind == "email":
        return _("email {address}").format(address=value)
    return f"{kind} {value}"
