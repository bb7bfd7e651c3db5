"""The agent's side of a call: take, end, complete; drafts; the history in pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.calls.drafts import CallDraft as Draft
from core.calls.drafts import DraftService
from core.calls.events import CallEvents
from core.calls.lifecycle import CallService, CallStateError
from core.models import (
    Agent,
    Call,
    CallDraft,
    CallState,
    ContactPoint,
    Customer,
    Holding,
    Interaction,
    Product,
)
from core.services.agents import AgentService
from core.services.history import HistoryService
from core.services.overview import OverviewService

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


async def _customer(sessions: async_sessionmaker[AsyncSession], n: int = 1) -> int:
    async with sessions() as session, session.begin():
        customer = Customer(external_id=f"C{n:08d}", first_name="Ana", last_name="García López")
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        return customer.id


async def test_complete_saves_call_and_interaction_and_frees_the_agent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agent = await AgentService(sessions).add("maria")
    assert agent.id is not None
    customer_id = await _customer(sessions)
    calls = CallService(sessions, CallEvents(sessions))
    call = await calls.start(agent.id, customer_id, caller_number="+34 612 345 678")
    assert call.id is not None
    async with sessions() as session:
        assert (await session.get(Agent, agent.id)).state == "on_call"  # type: ignore[union-attr]
    assert call.answered_at is not None
    half = Draft(
        call.id, customer_id, "Customer", call.caller_number, call.answered_at, notes="half"
    )
    await DraftService(sessions, Path("/nonexistent")).save(agent.id, half)
    await calls.end(call.id)
    async with sessions() as session:
        assert (await session.get(Agent, agent.id)).state == "wrap_up"  # type: ignore[union-attr]
    interaction = await calls.complete(
        call.id, "billing", "resolved", "Refunded the roaming charge", date(2026, 2, 1)
    )
    assert interaction is not None
    async with sessions() as session:
        stored = (
            await session.execute(
                select(Interaction).where(col(Interaction.customer_id) == customer_id)
            )
        ).scalar_one()
        saved_call = await session.get(Call, call.id)
        state = (await session.get(Agent, agent.id)).state  # type: ignore[union-attr]
        drafts = (await session.execute(select(CallDraft))).scalars().all()
    assert (stored.channel, stored.direction, stored.subject, stored.outcome, stored.agent) == (
        "phone",
        "inbound",
        "Billing",
        "resolved",
        "maria",
    )
    assert stored.notes == "Refunded the roaming charge"
    assert stored.call_id == call.id
    assert saved_call is not None and saved_call.state == CallState.COMPLETED
    assert saved_call.follow_up_on == date(2026, 2, 1)
    assert saved_call.ended_at is not None and saved_call.wrap_up_ended_at is not None
    assert state == "available"
    assert drafts == []
    # completing twice logs nothing twice
    again = await calls.complete(call.id, "billing", "resolved", "x")
    assert again is not None and again.id == stored.id
    # a late "end" (a key pressed twice) leaves the completed call as it is
    assert (await calls.end(call.id)).state == CallState.COMPLETED
    async with sessions() as session:
        saved_call = await session.get(Call, call.id)
    assert saved_call is not None and saved_call.notes == "Refunded the roaming charge"
    # a call nobody answered cannot be ended from the console
    async with sessions() as session, session.begin():
        waiting = Call(caller_number="600", state=CallState.QUEUED, queued_at=T0)
        session.add(waiting)
    assert waiting.id is not None
    with pytest.raises(CallStateError, match="queued: it cannot be ended"):
        await calls.end(waiting.id)


async def test_call_for_someone_not_found_stays_in_the_call_table(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agent = await AgentService(sessions).add("luis")
    assert agent.id is not None
    calls = CallService(sessions, CallEvents(sessions))
    call = await calls.start(agent.id, None, caller_number="+34 600 000 001")
    assert call.id is not None
    assert await calls.complete(call.id, "information", "no action", "wrong number") is None
    async with sessions() as session:
        saved = await session.get(Call, call.id)
        count = len((await session.execute(select(Interaction))).scalars().all())
    assert saved is not None and saved.customer_id is None
    assert saved.caller_number == "+34 600 000 001" and saved.notes == "wrong number"
    assert count == 0


async def test_answering_a_queued_call_and_identifying_the_caller(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agent = await AgentService(sessions).add("eva")
    assert agent.id is not None
    customer_id = await _customer(sessions)
    async with sessions() as session, session.begin():
        queued = Call(caller_number="612345678", state=CallState.QUEUED, queued_at=T0)
        session.add(queued)
    assert queued.id is not None
    calls = CallService(sessions, CallEvents(sessions))
    call = await calls.start(agent.id, None, call_id=queued.id)
    assert call.id == queued.id and call.state == CallState.ANSWERED
    assert call.caller_number == "612345678"
    await calls.identify(queued.id, customer_id)
    assert (await calls.active_call(agent.id)) is not None
    interaction = await calls.complete(queued.id, "sales", "sale", "")
    assert interaction is not None and interaction.customer_id == customer_id
    assert await calls.active_call(agent.id) is None


async def test_draft_round_trip_and_fallback_when_the_database_fails(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    agent = await AgentService(sessions).add("ines")
    assert agent.id is not None
    drafts = DraftService(sessions, tmp_path)
    assert await drafts.load(agent.id) is None
    draft = Draft(
        call_id=None,
        customer_id=None,
        caller="Unknown caller",
        caller_number="+34 600 000 000",
        started_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        notes="Línea 1\n[red]x[/red] \x1b[2J",
        reason="billing",
    )
    assert await drafts.save(agent.id, draft) is True
    loaded = await drafts.load(agent.id)
    assert loaded is not None and loaded.draft == draft and not loaded.from_fallback

    class Broken:
        def __call__(self) -> object:
            raise OSError("database unreachable")

    offline = DraftService(Broken(), tmp_path)  # type: ignore[arg-type]
    newer = draft.edited(notes=draft.notes + " and more", phase="wrap_up")
    assert newer.version == draft.version + 1
    assert await offline.save(agent.id, newer) is False
    record = json.loads(offline.fallback_path(agent.id).read_text(encoding="utf-8"))
    assert record["payload"]["notes"] == newer.notes
    # Back online: the newer local copy wins over the older database row...
    restored = await drafts.load(agent.id)
    assert restored is not None and restored.draft == newer and restored.from_fallback
    # ...and once written to the database the local file is gone.
    assert await drafts.save(agent.id, newer) is True
    assert not drafts.fallback_path(agent.id).exists()
    await drafts.clear(agent.id)
    assert await drafts.load(agent.id) is None


async def test_draft_of_a_completed_call_is_not_restored(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    agent = await AgentService(sessions).add("jon")
    assert agent.id is not None
    calls = CallService(sessions, CallEvents(sessions))
    call = await calls.start(agent.id, None)
    assert call.id is not None and call.answered_at is not None
    drafts = DraftService(sessions, tmp_path)
    draft = Draft(call.id, None, "Unknown caller", "", call.answered_at, notes="x")
    await drafts.save(agent.id, draft)
    await calls.complete(call.id, "other", "resolved", "x")
    assert await drafts.load(agent.id) is None


async def test_history_pages_newest_first_with_channel_filter(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await _customer(sessions)
    channels = ["phone", "email", "web", "chat"]
    async with sessions() as session, session.begin():
        for i in range(250):
            session.add(
                Interaction(
                    customer_id=customer_id,
                    # pairs share a timestamp, so the id must break ties
                    at=T0 + timedelta(hours=i // 2),
                    channel=channels[i % 4],
                    direction="inbound",
                    subject=f"#{i}",
                )
            )
    history = HistoryService(sessions)
    seen: list[str] = []
    page = await history.page(customer_id, limit=100)
    seen += [i.subject for i in page.items]
    while page.next_cursor is not None:
        page = await history.page(customer_id, after=page.next_cursor, limit=100)
        seen += [i.subject for i in page.items]
    assert len(seen) == 250 and len(set(seen)) == 250
    assert seen[0] == "#249" and seen[-1] in {"#0", "#1"}
    emails = await history.page(customer_id, channel="email", limit=1000)
    assert len(emails.items) == 63 and {i.channel for i in emails.items} == {"email"}
    assert emails.next_cursor is None
    assert await history.channel_counts(customer_id) == {
        "phone": 63,
        "email": 63,
        "web": 62,
        "chat": 62,
    }


async def test_overview_shows_products_by_line_and_alerts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await _customer(sessions)
    agent = await AgentService(sessions).add("pia")
    assert agent.id is not None
    async with sessions() as session, session.begin():
        fibre = Product(code="FIBRE_600", name="Fibre 600", line="fibre")
        mobile = Product(code="MOBILE_PLUS", name="Mobile Plus", line="mobile")
        tv = Product(code="TV_SPORTS", name="TV Sports", line="tv")
        session.add_all([fibre, mobile, tv])
        await session.flush()
        session.add_all(
            [
                Holding(customer_id=customer_id, product_id=fibre.id, since=date(2020, 1, 1)),
                Holding(customer_id=customer_id, product_id=mobile.id, since=date(2021, 1, 1)),
                Holding(
                    customer_id=customer_id,
                    product_id=tv.id,
                    since=date(2019, 1, 1),
                    ended_on=date(2022, 1, 1),
                ),
                ContactPoint(
                    customer_id=customer_id,
                    kind="phone",
                    value="+34 612 345 678",
                    normalized="34612345678",
                    is_primary=True,
                ),
                Interaction(
                    customer_id=customer_id,
                    at=T0,
                    channel="email",
                    direction="inbound",
                    subject="Reclamación formal",  # Spanish words: the code is what counts
                    outcome="escalated",
                    reason="complaint",
                ),
                Interaction(
                    customer_id=customer_id,
                    at=T0 - timedelta(days=1),
                    channel="email",
                    direction="inbound",
                    subject="Complaint about the wrong thing",  # the words alone flag nothing
                    outcome="escalated",
                    reason="billing",
                ),
            ]
        )
    overview = await OverviewService(sessions).overview(customer_id)
    assert sorted(overview.products_by_line()) == ["fibre", "mobile"]
    assert [p.value for p in overview.contact_points] == ["+34 612 345 678"]
    assert overview.open_complaint is not None
    assert overview.follow_up_on is None
    calls = CallService(sessions, CallEvents(sessions))
    call = await calls.start(agent.id, customer_id)
    assert call.id is not None
    await calls.complete(call.id, "complaint", "resolved", "", date(2026, 3, 1))
    overview = await OverviewService(sessions).overview(customer_id)
    assert overview.open_complaint is None  # the call resolved it
    assert overview.follow_up_on == date(2026, 3, 1)
    assert overview.follow_up_due(date(2026, 3, 1)) and not overview.follow_up_due(
        date(2026, 2, 28)
    )
