"""Blind transfer from the keyboard, with the hand-off: the receiving agent's console opens the
same customer with the notes so far and the reason; the first agent wraps up their part."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from console.app import ConsoleApp
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel
from core.calls.model import EventRequest
from core.models import Agent, AgentState, Call, CallEventKind, Interaction
from core.services import Services
from tests.console.conftest import fresh_services, running
from tests.console.test_screen_pop import until


async def test_a_blind_transfer_hands_the_customer_notes_and_reason_to_the_next_agent(
    services: Services,
) -> None:
    shared = services.customer_ids[2]  # type: ignore[attr-defined]  # García Ruiz, no offer
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="ben", display_name="Ben", state=AgentState.AVAILABLE))
    ben_services = fresh_services(services)  # another agent's console, another process
    maria = ConsoleApp(services, agent_name="maria")
    ben = ConsoleApp(ben_services, agent_name="ben")
    try:
        async with running(ben) as ben_pilot, running(maria) as pilot:
            await until(ben_pilot, lambda: ben.agent_screen.ready)
            await until(pilot, lambda: maria.agent_screen.ready)
            await maria.agent_screen.open_customer(shared).wait()
            await pilot.press("f6")
            panel = maria.agent_screen.query_one(CallPanel)
            await until(pilot, lambda: panel.draft is not None)
            assert panel.draft is not None
            call_id = panel.draft.call_id
            assert call_id is not None
            panel.edit(reason="billing")
            await pilot.press("ctrl+n", *"double charge in May")

            await pilot.press("ctrl+t")
            await until(pilot, lambda: isinstance(maria.screen, CodePicker))
            assert isinstance(maria.screen, CodePicker)
            assert "agent: ben" in maria.screen.codes
            await pilot.press(*"ben", "enter")
            await until(pilot, lambda: panel.draft is not None and panel.draft.handed_to == "ben")
            assert any("transferred to ben" in n.message for n in pilot.notes)  # type: ignore[attr-defined]
            mine = panel.draft
            assert mine is not None  # kept: the wrap-up of maria's part
            assert (mine.phase, mine.notes) == ("wrap_up", "double charge in May")
            assert "passed to ben" in str(maria.agent_screen.query_one("#call-status").render())

            ben_panel = ben.agent_screen.query_one(CallPanel)
            await until(ben_pilot, lambda: ben_panel.draft is not None)
            handed = ben_panel.draft
            assert handed is not None
            assert handed.call_id == call_id
            assert ben.agent_screen.customer_id == shared
            assert (handed.notes, handed.reason) == ("double charge in May", "billing")
            assert any("Handed over" in n.message for n in ben_pilot.notes)  # type: ignore[attr-defined]
            me = await services.agents.ensure("maria")
            assert (me.state, me.state_reason) == ("wrap_up", "after transfer")
            await pilot.press("f10")
            await until(pilot, lambda: isinstance(maria.screen, CodePicker))
            await pilot.press("enter")
            await until(pilot, lambda: panel.draft is not None and bool(panel.draft.outcome))
            await pilot.press("f8")
            await until(pilot, lambda: panel.draft is None)
            assert any("Call saved" in n.message for n in pilot.notes)  # type: ignore[attr-defined]
        async with services.sessions() as session:
            call = await session.get(Call, call_id)
            found = select(Interaction).where(col(Interaction.call_id) == call_id)
            logged = (await session.execute(found)).scalar_one()
        me = await services.agents.ensure("maria")
        assert call is not None and call.state == "answered"  # ben's call now
        assert me.state == "available"  # her part saved
        assert (logged.agent, logged.notes) == ("maria", "double charge in May")
    finally:
        await ben_services.close()


async def test_a_transfer_to_a_queue_puts_the_call_back_in_it(services: Services) -> None:
    queued = await services.events.apply(  # the phone system queued it in "sales"
        EventRequest(kind=CallEventKind.QUEUED, caller_number="+34 600 123 123", queue="sales")
    )
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        app.agent_screen.take_call(None, "+34 600 123 123", queued.call_id)
        panel = app.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, CodePicker))
        await pilot.press(*"sales", "enter")
        await until(pilot, lambda: panel.draft is not None and bool(panel.draft.handed_to))
        assert panel.draft is not None and panel.draft.handed_to == "queue sales"
    call = await services.calls.get(queued.call_id)
    assert (call.state, call.queue, call.agent_id) == ("queued", "sales", None)
