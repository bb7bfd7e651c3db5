"""OfferService on SQLite and PostgreSQL: offers shown are recorded, answers land and teach."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.analytics.service import AnalyticsService
from core.config import Settings
from core.models import Agent, Call, Interaction, NpsResponse, OfferPresentation
from core.rules.bulk import stream_facts
from core.rules.facts import customer_namespace
from core.rules.service import (
    CustomerNotFound,
    InvalidResponse,
    OfferService,
    PresentationNotFound,
)
from core.rules.store import RulesStore
from tests.core.rules_fixtures import RULES, add_customer, write_rules

MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def service(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, text: str = RULES
) -> OfferService:
    settings = Settings()
    return OfferService(
        sessions, settings, AnalyticsService(sessions, settings),
        store=RulesStore(write_rules(tmp_path, text)),
        rng=random.Random(5), clock=lambda: MONDAY,
    )  # fmt: skip


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OfferPresentation]:
    async with sessions() as session:
        result = await session.execute(
            select(OfferPresentation).order_by(col(OfferPresentation.id))
        )
        return list(result.scalars())


async def test_best_offers_are_recorded_with_the_rules_version(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    offers = service(sessions, tmp_path)
    proposals = await offers.best_offers(customer_id, "billing")
    assert [p.offer_id for p in proposals] == ["fibre-upgrade", "tv-sports"]
    assert proposals[0].script == "Ana, after 6.9 years with us, 1 Gb is 9.90 more."
    why = {c.name: c for c in proposals[0].explanation}
    assert why["holds_fibre_300"].passed
    assert why["holds_fibre_300"].seen == 'customer.products = ["FIBRE_300", "TV_ESSENTIAL"]'
    assert why["policy: consent"].seen == "customer.consent = true"
    stored = await rows(sessions)
    assert [(r.id, r.offer_id, r.customer_id, r.rules_version, r.response) for r in stored] == [
        (p.presentation_id, p.offer_id, customer_id, offers.store.rules.version, None)
        for p in proposals
    ]


async def test_a_preview_records_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    proposals = await service(sessions, tmp_path).best_offers(customer_id, record=False)
    assert proposals and all(p.presentation_id is None for p in proposals)
    assert await rows(sessions) == []


async def test_recorded_answers_land_in_the_database(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    async with sessions() as session, session.begin():
        agent = Agent(user_name="maria")
        session.add(agent)
        await session.flush()
        call = Call(customer_id=customer_id, agent_id=agent.id, queue="residential")
        session.add(call)
        await session.flush()
        call_id, agent_id = call.id, agent.id
    offers = service(sessions, tmp_path)
    first, second = await offers.best_offers(customer_id, "billing", call_id, agent_id)
    assert [p.offer_id for p in await offers.unanswered(call_id or 0)] == [
        first.offer_id, second.offer_id,
    ]  # fmt: skip
    assert first.presentation_id and second.presentation_id
    await offers.record_response(first.presentation_id, "declined", "too expensive")
    await offers.record_response(second.presentation_id, "accepted")
    stored = {r.offer_id: r for r in await rows(sessions)}
    declined, accepted = stored[first.offer_id], stored[second.offer_id]
    assert (declined.response, declined.decline_reason) == ("declined", "too expensive")
    assert (accepted.response, accepted.decline_reason) == ("accepted", "")
    assert declined.call_id == call_id and declined.agent_id == agent_id
    assert declined.responded_at is not None and declined.responded_at.tzinfo is not None
    assert await offers.unanswered(call_id or 0) == []


async def test_asking_again_during_a_call_reuses_the_presentations(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    async with sessions() as session, session.begin():
        call = Call(customer_id=customer_id)
        session.add(call)
        await session.flush()
        call_id = call.id
    offers = service(sessions, tmp_path)
    first = await offers.best_offers(customer_id, "billing", call_id)
    again = await offers.best_offers(customer_id, "billing", call_id)
    assert [p.presentation_id for p in again] == [p.presentation_id for p in first]
    assert len(await rows(sessions)) == 2


async def test_a_declined_offer_waits_out_its_cooldown(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    offers = service(sessions, tmp_path)
    first = await offers.best_offers(customer_id, "billing")
    await offers.record_response(first[0].presentation_id or 0, "declined", "not interested")
    later = await offers.best_offers(customer_id, "billing")
    assert first[0].offer_id not in [p.offer_id for p in later]


async def test_not_offered_does_not_count_as_shown_or_as_an_answer(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    offers = service(sessions, tmp_path)
    first = await offers.best_offers(customer_id, "billing")
    await offers.record_response(first[0].presentation_id or 0, "not_offered")
    rates = {r.offer_id: r for r in await offers.rates()}
    assert rates[first[0].offer_id].not_offered == 1
    assert rates[first[0].offer_id].rate == 0.10  # the prior: no answer learnt


async def test_acceptance_rates_are_learnt_from_answers(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ids = [await add_customer(sessions, number=f"C0000010{i}") for i in range(6)]
    offers = service(sessions, tmp_path)
    # fibre-upgrade (value 120) beats tv-sports (90) on the prior; customers decline it
    for customer_id in ids[:5]:
        shown = await offers.best_offers(customer_id, "billing")
        for proposal in shown:
            answer = "declined" if proposal.offer_id == "fibre-upgrade" else "accepted"
            await offers.record_response(proposal.presentation_id or 0, answer, "not interested")
    rates = {r.offer_id: r for r in await offers.rates()}
    assert rates["fibre-upgrade"].declined == 5
    assert rates["fibre-upgrade"].rate == pytest.approx(5 / 55)
    assert rates["tv-sports"].rate == pytest.approx(10 / 55)
    fresh = await offers.best_offers(ids[5], "billing")
    assert [p.offer_id for p in fresh][0] == "tv-sports"  # 90 × 0.18 now beats 120 × 0.09


async def test_policy_keeps_offers_from_customers_without_consent_or_on_do_not_call(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    no_consent = await add_customer(sessions, number="C00000201", consent=False)
    dnc = await add_customer(sessions, number="C00000202", do_not_call=True)
    offers = service(sessions, tmp_path)
    assert [p.offer_id for p in await offers.best_offers(no_consent, "billing")] == ["gold-thanks"]
    assert await offers.best_offers(dnc, "billing") == []


async def test_unknown_customer_and_bad_answers_are_errors(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    offers = service(sessions, tmp_path)
    with pytest.raises(CustomerNotFound):
        await offers.best_offers(999_999)
    with pytest.raises(PresentationNotFound):
        await offers.record_response(999_999, "accepted")
    with pytest.raises(InvalidResponse):
        await offers.record_response(1, "maybe")


async def test_the_simulation_sees_the_same_customer_as_a_call(
    sessions: async_sessionmaker[AsyncSession], engine: object, tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    async with sessions() as session, session.begin():
        session.add(
            Interaction(
                customer_id=customer_id,
                at=datetime(2026, 11, 1, 23, 30, tzinfo=UTC),
                channel="phone",
                direction="inbound",
                subject="billing",
            )
        )
        session.add(
            NpsResponse(customer_id=customer_id, at=datetime(2026, 10, 1, tzinfo=UTC), score=9)
        )
    offers = service(sessions, tmp_path)
    profile = await offers._analytics.profile(customer_id, as_of=MONDAY.date())
    assert profile.days_since_last_contact == 22 and profile.nps_category == "promoter"
    async for batch in stream_facts(engine, MONDAY.date(), MONDAY, offers._analytics.config, 30):  # type: ignore[arg-type]
        [facts] = batch
    assert facts.profile == profile
    bulk = customer_namespace(facts.record, facts.profile, facts.history, 0, date(2026, 11, 23))
    assert bulk["products"] == ["FIBRE_300", "TV_ESSENTIAL"]
    assert bulk["tier"] == "Gold" and bulk["age"] == 46


async def test_at_most_k_offers_per_call_even_when_asked_again(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    customer_id = await add_customer(sessions)
    async with sessions() as session, session.begin():
        call = Call(customer_id=customer_id)
        session.add(call)
        await session.flush()
        call_id = call.id
    offers = service(sessions, tmp_path)
    first, second = await offers.best_offers(customer_id, "billing", call_id)
    await offers.record_response(first.presentation_id or 0, "accepted")
    again = await offers.best_offers(customer_id, "billing", call_id)
    # the accepted offer is not made again, the other is the same row, nothing new is added
    assert [(p.offer_id, p.presentation_id) for p in again] == [
        (second.offer_id, second.presentation_id)
    ]
    assert len(await rows(sessions)) == 2
