"""What the rules know of a customer: their profile (core.analytics), their record, their past
offers. One customer for a call; the whole base, in batches, for the simulation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from core.analytics.profile import CustomerProfile
from core.analytics.store import day_end
from core.i18n.codes import COMPLAINT
from core.models import Customer, Interaction, OfferPresentation, OfferResponse
from core.rules.history import CustomerHistory, OfferHistory

COMPLAINT_WINDOW_DAYS = 180
"""A complaint counts as open for this long unless its outcome says it was resolved."""
CLOSED_OUTCOMES = ("resolved", "no action", "closed")


@dataclass(frozen=True)
class CustomerRecord:
    """The fields of the customer row the rules read."""

    id: int
    number: str
    first_name: str
    last_name: str
    city: str
    country: str
    birth_date: date | None
    consent: bool
    do_not_call: bool

    @classmethod
    def of(cls, customer: Customer) -> CustomerRecord:
        assert customer.id is not None
        return cls(
            customer.id, customer.external_id, customer.first_name, customer.last_name,
            customer.city, customer.country, customer.birth_date,
            bool(customer.marketing_consent), bool(customer.do_not_call),
        )  # fmt: skip


def customer_namespace(
    record: CustomerRecord,
    profile: CustomerProfile,
    history: CustomerHistory,
    open_complaints: int,
    day: date,
) -> dict[str, object]:
    """The `customer` fields of the rules context (core.rules.schema.CUSTOMER), typed for CEL.

    Args:
        record: the customer row.
        profile: their analytics profile.
        history: their past offers (for days since the last offer).
        open_complaints: complaints not resolved.
        day: the local date of the call.

    Returns:
        The namespace; ints stay ints and numbers are floats so that CEL arithmetic works.
    """
    birth = record.birth_date
    age = None
    if birth is not None:
        age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    last_offer = history.last_offer_at
    return {
        "number": record.number,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "city": record.city,
        "country": record.country,
        "birth_year": birth.year if birth else None,
        "age": age,
        "consent": record.consent,
        "do_not_call": record.do_not_call,
        "tier": profile.tier,
        "points": int(profile.points),
        "next_tier": profile.next_tier,
        "points_to_next_tier": profile.points_to_next_tier,
        "tier_since": profile.tier_since.isoformat() if profile.tier_since else None,
        "tenure_days": int(profile.tenure_days),
        "tenure_years": float(profile.tenure_years),
        "scope": int(profile.scope),
        "product_lines": list(profile.product_lines),
        "products": list(profile.products),
        "depth": float(profile.depth),
        "spend_12m": float(profile.spend_12m),
        "nps_score": profile.nps_score,
        "nps_category": profile.nps_category,
        "recency_days": profile.recency_days,
        "frequency": int(profile.frequency),
        "monetary": float(profile.monetary),
        "r_score": int(profile.r_score),
        "f_score": int(profile.f_score),
        "m_score": int(profile.m_score),
        "rfm_segment": profile.rfm_segment,
        "expected_purchases": float(profile.expected_purchases),
        "p_alive": float(profile.p_alive),
        "churn_risk": float(profile.churn_risk),
        "expected_value": float(profile.expected_value),
        "days_since_last_purchase": profile.days_since_last_purchase,
        "days_since_last_contact": profile.days_since_last_contact,
        "days_since_last_offer": None if last_offer is None else (day - last_offer.date()).days,
        "open_complaints": int(open_complaints),
    }


Runner = AsyncSession | AsyncConnection


async def offer_histories(
    runner: Runner, customer_ids: Iterable[int], at: datetime, window_days: int,
    low: int | None = None, high: int | None = None, exclude_call: int | None = None,
) -> dict[int, CustomerHistory]:  # fmt: skip
    """Each customer's past offers up to `at`: counts, last answer, impressions in the window.

    Args:
        runner: a session or connection.
        customer_ids: whose histories (ignored when `low`/`high` give an id range).
        at: presentations up to and including this moment count (a frozen or coarse clock
            stamps what was just shown with `at` itself).
        window_days: the impression-cap window.
        low: with `high`, read every customer with low <= id <= high (bulk reads).
        high: see `low`.
        exclude_call: leave out what was shown on this call (the call in progress).

    Returns:
        customer id -> history; customers never offered anything are absent.
    """
    query = select(
        col(OfferPresentation.customer_id), col(OfferPresentation.offer_id),
        col(OfferPresentation.presented_at), col(OfferPresentation.response),
        col(OfferPresentation.responded_at),
    ).where(col(OfferPresentation.presented_at) <= at)  # fmt: skip
    if low is not None and high is not None:
        query = query.where(col(OfferPresentation.customer_id).between(low, high))
    else:
        query = query.where(col(OfferPresentation.customer_id).in_(list(customer_ids)))
    if exclude_call is not None:
        query = query.where(
            or_(
                col(OfferPresentation.call_id).is_(None),
                col(OfferPresentation.call_id) != exclude_call,
            )
        )
    rows = (await runner.execute(query.order_by(col(OfferPresentation.presented_at)))).all()
    since = at - timedelta(days=window_days)
    per: dict[int, dict[str, dict[str, object]]] = defaultdict(dict)
    totals: dict[int, int] = defaultdict(int)
    last: dict[int, datetime] = {}
    for customer_id, offer_id, shown_at, response, responded_at in rows:
        entry = per[customer_id].setdefault(
            offer_id, {"shown": 0, "accepted": 0, "declined": 0, "last_response": "",
                       "last_shown": None, "last_declined": None, "window": 0}
        )  # fmt: skip
        if response == OfferResponse.NOT_OFFERED:
            continue  # the agent did not say it: the customer never heard this offer
        entry["shown"] = int(str(entry["shown"])) + 1
        entry["last_shown"] = shown_at
        last[customer_id] = shown_at
        if shown_at >= since:
            entry["window"] = int(str(entry["window"])) + 1
            totals[customer_id] += 1
        if response:
            entry["last_response"] = response
        if response == OfferResponse.ACCEPTED:
            entry["accepted"] = int(str(entry["accepted"])) + 1
        elif response == OfferResponse.DECLINED:
            entry["declined"] = int(str(entry["declined"])) + 1
            entry["last_declined"] = responded_at or shown_at
    out = {}
    for customer_id, offers in per.items():
        built = {
            offer_id: OfferHistory(
                shown=int(str(e["shown"])), accepted=int(str(e["accepted"])),
                declined=int(str(e["declined"])), last_response=str(e["last_response"]),
                last_shown=_moment(e["last_shown"]), last_declined=_moment(e["last_declined"]),
                shown_in_window=int(str(e["window"])),
            )
            for offer_id, e in offers.items()
        }  # fmt: skip
        out[customer_id] = CustomerHistory(built, totals[customer_id], last.get(customer_id))
    return out


def _moment(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


async def open_complaints(
    runner: Runner, customer_ids: Iterable[int], day: date,
    low: int | None = None, high: int | None = None,
) -> dict[int, int]:  # fmt: skip
    """Complaints (interactions with the complaint reason code, whatever their subject's words)
    not marked resolved, within COMPLAINT_WINDOW_DAYS before the end of `day`, per customer.
    """
    end = day_end(day)
    outcome = func.lower(col(Interaction.outcome))
    query = (
        select(col(Interaction.customer_id), func.count())
        .where(
            col(Interaction.at) < end,
            col(Interaction.at) >= end - timedelta(days=COMPLAINT_WINDOW_DAYS),
            col(Interaction.reason) == COMPLAINT,
            outcome.not_in(CLOSED_OUTCOMES),
        )
        .group_by(col(Interaction.customer_id))
    )
    if low is not None and high is not None:
        query = query.where(col(Interaction.customer_id).between(low, high))
    else:
        query = query.where(col(Interaction.customer_id).in_(list(customer_ids)))
    return {int(k): int(v) for k, v in (await runner.execute(query)).all()}


async def response_counts(runner: Runner) -> Mapping[str, tuple[int, int]]:
    """offer id -> (accepted, declined), over every response recorded: what rates learn from."""
    response = col(OfferPresentation.response)
    accepted = func.sum(case((response == OfferResponse.ACCEPTED, 1), else_=0))
    declined = func.sum(case((response == OfferResponse.DECLINED, 1), else_=0))
    query = (
        select(col(OfferPresentation.offer_id), accepted, declined)
        .where(response.in_([OfferResponse.ACCEPTED, OfferResponse.DECLINED]))
        .group_by(col(OfferPresentation.offer_id))
    )
    rows = (await runner.execute(query)).all()
    return {str(k): (int(a or 0), int(d or 0)) for k, a, d in rows}
