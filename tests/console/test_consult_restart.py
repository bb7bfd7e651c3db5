"""A consult transfer survives a console restart: the agent pressed Ctrl+K (the caller waits),
the console went (a crash: nothing but what was already written), and the console started
again on the same database shows the consult, with F11 and Ctrl+U working; F11 passes the
call on with the notes and the reason, as it would have before the restart. Both kinds of
call: one with no phone system (the console carries the consult out; the draft keeps it) and
one behind Asterisk (its consult command in the outbox says it)."""

from __future__ import annotations

from console.app import ConsoleApp
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel
from core.models import Agent, AgentState
from core.services import Services
from tests.console.conftest import fresh_services, running
from tests.console.test_pbx_keys import adapter, on_the_call, phone_call, said
from tests.console.test_screen_pop import until


async def consult_ben(app: ConsoleApp, pilot: object) -> CallPanel:
    """Ctrl+K, ben, Enter on the call on screen; the panel once it says consulting."""
    panel = app.agent_screen.query_one(CallPanel)
    await pilot.press("ctrl+k")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, CodePicker))  # type: ignore[arg-type]
    await pilot.press(*"ben", "enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: panel.line == "consulting")  # type: ignore[arg-type]
    return panel


async def test_a_consult_with_no_phone_system_is_back_after_a_restart_and_f11_completes_it(
    services: Services,
) -> None:
    shared = services.customer_ids[2]  # type: ignore[attr-defined]
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="ben", display_name="Ben", state=AgentState.AVAILABLE))
    first = ConsoleApp(services, agent_name="maria")
    async with running(first) as pilot:
        await until(pilot, lambda: first.agent_screen.ready)
        await first.agent_screen.open_customer(shared).wait()
        await pilot.press("f6")
        panel = first.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        assert panel.draft is not None and panel.draft.call_id is not None
        call_id = panel.draft.call_id
        panel.edit(reason="billing")
        await pilot.press("ctrl+n", *"double charge in May")
        await consult_ben(first, pilot)
        assert said(pilot, "No phone system to dial ben for you")
        maria = await services.agents.ensure("maria")
        assert maria.id is not None

        async def consult_written() -> bool:
            saved = await services.drafts.load(maria.id)  # type: ignore[arg-type]
            return saved is not None and saved.draft.consulting == ("ben", "")

        for _ in range(100):  # in the database before the console goes (a crash keeps no more)
            if await consult_written():
                break
            await pilot.pause(0.05)
        assert await consult_written()
    # The console is gone (nothing more written on leaving): another starts on the database.
    again = fresh_services(services)
    second = ConsoleApp(again, agent_name="maria")
    async with running(second) as pilot:
        screen = second.agent_screen
        await until(pilot, lambda: screen.ready)
        panel = screen.query_one(CallPanel)
        assert panel.draft is not None and panel.draft.call_id == call_id
        assert panel.line == "consulting"
        assert "CONSULTING" in str(screen.query_one("#call-status").render())
        assert said(pilot, "Consulting ben: the caller waits. F11 completes the transfer")
        assert screen.check_action("complete_consult", ())
        assert screen.check_action("cancel_consult", ())
        assert not screen.check_action("consult_call", ())
        await pilot.press("f11")
        await until(pilot, lambda: panel.draft is not None and panel.draft.handed_to == "ben")
        assert (panel.draft.phase, panel.draft.notes) == ("wrap_up", "double charge in May")
        assert panel.draft.consulting is None
        assert panel.line == ""
        assert said(pilot, "Call transferred to ben. Your notes and the reason went with it.")
    call = await services.calls.get(call_id)
    ben = await services.agents.ensure("ben")
    assert (call.agent_id, call.state) == (ben.id, "answered")
    assert (call.notes, call.reason, call.customer_id) == (
        "double charge in May",
        "billing",
        shared,
    )


async def test_a_consult_on_the_phone_system_is_back_after_a_restart_from_its_command(
    services: Services,
) -> None:
    call_id = await phone_call(services, "asterisk", "1733.901")
    sent: list[tuple[str, str]] = []
    first = ConsoleApp(services, agent_name="maria")
    async with adapter(services, sent), running(first) as pilot:
        panel = await on_the_call(first, pilot, call_id)
        panel.edit(reason="billing")
        await pilot.press("ctrl+n", *"wants a refund")
        await consult_ben(first, pilot)
        await until(pilot, lambda: said(pilot, "Consulting ben"))
        assert panel.draft is not None
        assert panel.draft.consulting is None  # the phone system's command says it, not the draft
        await first.agent_screen.keeper.flush()
    assert sent == [("consult_transfer", "ben")]

    again = fresh_services(services)
    second = ConsoleApp(again, agent_name="maria")
    async with adapter(again, sent), running(second) as pilot:
        screen = second.agent_screen
        await until(pilot, lambda: screen.ready)
        panel = screen.query_one(CallPanel)
        assert panel.draft is not None and panel.draft.call_id == call_id
        assert panel.line == "consulting"
        assert "CONSULTING" in str(screen.query_one("#call-status").render())
        assert said(pilot, "Consulting ben: the caller waits.")

        await pilot.press("ctrl+u")  # this phone system refuses it: the consult goes on
        await until(pilot, lambda: said(pilot, "refused the return to the caller"))
        assert panel.line == "consulting"
        await pilot.press("f11")
        await until(pilot, lambda: panel.draft is not None and panel.draft.handed_to == "ben")
        assert (panel.draft.phase, panel.draft.notes) == ("wrap_up", "wants a refund")
    assert sent[1:] == [("cancel_consult", "ben"), ("complete_consult", "ben")]
    call = await services.calls.get(call_id)
    ben = await services.agents.ensure("ben")
    assert (call.agent_id, call.notes, call.reason) == (ben.id, "wants a refund", "billing")


async def test_a_consult_the_phone_system_refused_is_not_shown_after_a_restart(
    services: Services,
) -> None:
    from core.models import PbxCommandKind

    call_id = await phone_call(services, "asterisk", "1733.902")
    first = ConsoleApp(services, agent_name="maria")
    async with running(first) as pilot:  # no adapter: the consult stays pending
        panel = await on_the_call(first, pilot, call_id)
        await consult_ben(first, pilot)
        await first.agent_screen.keeper.flush()
    pending = await services.commands.open_consult(call_id)
    assert pending is not None and pending.kind == PbxCommandKind.CONSULT_TRANSFER
    await services.commands.finish(pending.id, "Asterisk refused Atxfer: no such extension")

    second = ConsoleApp(fresh_services(services), agent_name="maria")
    async with running(second) as pilot:
        screen = second.agent_screen
        await until(pilot, lambda: screen.ready)
        panel = screen.query_one(CallPanel)
        assert panel.draft is not None and panel.draft.call_id == call_id
        assert panel.line == ""
        assert not screen.check_action("complete_consult", ())
        assert screen.check_action("consult_call", ())  # the agent may try again


async def test_going_back_to_the_caller_after_a_restart_is_kept_too(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="ben", display_name="Ben", state=AgentState.AVAILABLE))
    first = ConsoleApp(services, agent_name="maria")
    async with running(first) as pilot:
        await until(pilot, lambda: first.agent_screen.ready)
        await pilot.press("f6")  # an unknown caller, no phone system
        panel = first.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        await consult_ben(first, pilot)
        await first.agent_screen.keeper.flush()
    restarted = fresh_services(services)
    second = ConsoleApp(restarted, agent_name="maria")
    async with running(second) as pilot:
        screen = second.agent_screen
        await until(pilot, lambda: screen.ready)
        panel = screen.query_one(CallPanel)
        assert panel.line == "consulting"
        await pilot.press("ctrl+u")
        await until(pilot, lambda: said(pilot, "Back with the caller; ben was left out."))
        assert panel.line == "" and panel.draft is not None and panel.draft.consulting is None
        assert screen.check_action("consult_call", ())
        await screen.keeper.flush()
    await restarted.close()
    again = fresh_services(services)
    third = ConsoleApp(again, agent_name="maria")
    async with running(third) as pilot:
        screen = third.agent_screen
        await until(pilot, lambda: screen.ready)
        panel = screen.query_one(CallPanel)
        assert panel.draft is not None and panel.draft.phase == "on_call"
        assert panel.line == ""
        assert not screen.check_action("complete_consult", ())
    await again.close()
