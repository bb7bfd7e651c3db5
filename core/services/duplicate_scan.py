"""Likely duplicates across the whole customer base (or among the customers changed since a
moment: an import), by the same tests as `find_duplicates`: the same phone (its trailing
digits) or email, or a close name with the same birth date.

Set-based, so an import of many customers is checked in a few queries: contact points that
more than one customer has are grouped in SQL; names are compared (rapidfuzz) only among the
customers born on the same day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from rapidfuzz import fuzz, process
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.i18n import words as _
from core.models import ContactPoint, Customer
from core.models.search_index import SearchName, SearchNameCustomer
from core.search.normalize import PHONE_TAIL_DIGITS
from core.services.duplicates import CLOSE_NAME, Duplicate, contact_shared, differences


@dataclass(frozen=True)
class DuplicatePair:
    """A customer and one other customer who is likely the same person."""

    customer_id: int
    external_id: str
    name: str
    duplicate: Duplicate
    """The other one, with what they share and what tells them apart."""


async def duplicate_pairs(
    session: AsyncSession, since: datetime | None = None, limit: int | None = None
) -> list[DuplicatePair]:
    """Every likely duplicate pair, each once (the older customer first).

    Args:
        session: an open session.
        since: only pairs in which a customer was created or changed at or after this moment
            (an import's start); None for the whole customer base.
        limit: at most this many pairs (None: all).

    Returns:
        The pairs, by the first customer's id.
    """
    shared: dict[tuple[int, int], list[str]] = defaultdict(list)
    for (first, second), what in await _shared_contacts(session):
        shared[(first, second)].append(what)
    for first, second in await _namesakes(session, since):
        shared[(first, second)].append(_("name and birth date"))
    if not shared:
        return []
    ids = {i for pair in shared for i in pair}
    people: dict[int, Customer] = {}
    recent: set[int] = set()
    id_list = sorted(ids)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for customer in (
            await session.execute(select(Customer).where(col(Customer.id).in_(chunk)))
        ).scalars():
            assert customer.id is not None
            people[customer.id] = customer
            if since is None or customer.updated_at >= since:
                recent.add(customer.id)
    pairs: list[DuplicatePair] = []
    for (first, second), reasons in sorted(shared.items()):
        if first not in people or second not in people or not ({first, second} & recent):
            continue
        me, other = people[first], people[second]
        pairs.append(
            DuplicatePair(
                first, me.external_id, me.full_name,
                Duplicate(second, other.external_id, other.full_name, tuple(reasons),
                          differences(me, other)),
            )
        )  # fmt: skip
        if limit is not None and len(pairs) >= limit:
            break
    return pairs


async def _shared_contacts(session: AsyncSession) -> list[tuple[tuple[int, int], str]]:
    """(customer, other customer) pairs with a phone tail or an email in common."""
    digits = col(ContactPoint.normalized)
    tail = case(
        (func.length(digits) > PHONE_TAIL_DIGITS,
         func.substr(digits, func.length(digits) - (PHONE_TAIL_DIGITS - 1))),
        else_=digits,
    )  # fmt: skip
    key = case((col(ContactPoint.kind) == "phone", tail), else_=digits)
    common = (
        select(col(ContactPoint.kind), key.label("key"))
        .group_by(col(ContactPoint.kind), key)
        .having(func.count(func.distinct(col(ContactPoint.customer_id))) > 1)
        .subquery()
    )
    rows = await session.execute(
        select(col(ContactPoint.kind), key, col(ContactPoint.customer_id))
        .join(common, (common.c.kind == col(ContactPoint.kind)) & (common.c.key == key))
        .distinct()
    )
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind, value, customer_id in rows:
        holders[(str(kind), str(value))].add(int(customer_id))
    found: list[tuple[tuple[int, int], str]] = []
    for (kind, value), customers in holders.items():
        what = contact_shared(kind, value)
        ordered = sorted(customers)
        for i, first in enumerate(ordered):
            found.extend(((first, second), what) for second in ordered[i + 1 :])
    return found


async def _namesakes(session: AsyncSession, since: datetime | None) -> list[tuple[int, int]]:
    """Pairs born the same day with close names; only on the days of `since`'s customers.

    The folded names come from the search index (its token-sorted key: rapidfuzz's `ratio` on
    it is `token_sort_ratio` on the names, as `find_duplicates` compares them).
    """
    query = (
        select(col(Customer.id), col(Customer.birth_date), col(SearchName.sorted_key))
        .join(SearchNameCustomer, col(SearchNameCustomer.customer_id) == col(Customer.id))
        .join(SearchName, col(SearchName.id) == col(SearchNameCustomer.name_id))
        .where(col(Customer.birth_date).is_not(None))
    )
    if since is not None:
        days = select(col(Customer.birth_date)).where(
            col(Customer.updated_at) >= since, col(Customer.birth_date).is_not(None)
        )
        query = query.where(col(Customer.birth_date).in_(days.distinct()))
    born: dict[date, list[tuple[int, str]]] = defaultdict(list)
    for customer_id, birth_date, name in await session.execute(query):
        if customer_id is not None and birth_date is not None and name:
            born[birth_date].append((customer_id, name))
    pairs: list[tuple[int, int]] = []
    for group in born.values():
        if len(group) == 2:  # most days: one comparison, without a matrix
            (a, name_a), (b, name_b) = sorted(group)
            if fuzz.ratio(name_a, name_b, score_cutoff=CLOSE_NAME):
                pairs.append((a, b))
        elif len(group) > 2:
            group.sort()
            names = [name for _member, name in group]
            scores = process.cdist(names, names, scorer=fuzz.ratio, score_cutoff=CLOSE_NAME)
            for i in range(len(group)):
                pairs.extend(
                    (group[i][0], group[j][0])
                    for j in range(i + 1, len(group))
                    if scores[i][j] >= CLOSE_NAME
                )
    return pairs
