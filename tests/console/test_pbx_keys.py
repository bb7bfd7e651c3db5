"""Hold and consult transfer from the keyboard on a call behind a phone system: each key
becomes a command its adapter sends, and the agent reads every outcome (done, refused with the
phone system's reason, nobody sending it); a phone system that takes no commands says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from console.app import ConsoleApp
from console.screens.agent import pbx_follow
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel
from core.calls.model import EventRequest
from core.models import Agent, AgentState, CallEventKind, PbxCommand
from core.pbx.adapter import PbxError
from core.pbx.commands import CommandRunner
from core.services import Services
from tests.console.conftest import running
from tests.console.test_screen_pop import until

NUMBER = "+34 600 123 123"


async def phone_call(services: Services, source: str, external_id: str) -> int:
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="ben", display_name="Ben", state=AgentState.AVAILABLE))
    queued = await services.events.apply(
        EventRequest(
            kind=CallEventKind.QUEUED,
            external_id=external_id,
            caller_number=NUMBER,
            queue="sales",
            source=source,
        )
    )
    return queued.call_id


@asynccontextmanager
async def adapter(services: Services, sent: list[tuple[str, str]]) -> AsyncIterator[None]:
    """A stand-in for `frontline pbx listen asterisk`: the real runner, a fake socket."""

    async def send(command: PbxCommand) -> str:
        sent.append((command.kind, command.to_agent))
        if command.kind == "cancel_consult":
            raise PbxError("Asterisk refused CancelAtxfer: atxferabort is not configured")
        return "Success"

    connected = asyncio.Event()
    connected.set()
    runner = CommandRunner(services.commands, "asterisk", send, services.events.apply, connected)
    task = asyncio.create_task(runner.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def said(pilot: object, text: str) -> bool:
    return any(text in n.message for n in pilot.notes)  # type: ignore[attr-defined]


async def on_the_call(app: ConsoleApp, pilot: object, call_id: int) -> CallPanel:
    """The agent's screen once ready, with the phone system's call `call_id` taken."""
    screen = app.agent_screen
    await until(pilot, lambda: screen.ready)  # type: ignore[arg-type]
    screen.take_call(None, NUMBER, call_id)
    panel = screen.query_one(CallPanel)
    await until(pilot, lambda: panel.draft is not None)  # type: ignore[arg-type]
    return panel


async def transfer_to_ben(app: ConsoleApp, pilot: object) -> None:
    """Ctrl+T, ben, Enter."""
    await pilot.press("ctrl+t")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, CodePicker))  # type: ignore[arg-type]
    await pilot.press(*"ben", "enter")  # type: ignore[attr-defined]


async def test_hold_and_a_consult_transfer_go_to_the_phone_system_and_their_outcomes_show(
    services: Services,
) -> None:
    call_id = await phone_call(services, "asterisk", "1733.900")
    sent: list[tuple[str, str]] = []
    app = ConsoleApp(services, agent_name="maria")
    async with adapter(services, sent), running(app) as pilot:
        screen = app.agent_screen
        panel = await on_the_call(app, pilot, call_id)
        await pilot.press("ctrl+n", *"wants a refund")

        await pilot.press("ctrl+g")
        await until(pilot, lambda: panel.line == "held")  # the phone system's event shows it
        assert said(pilot, "Sent to the phone system (asterisk): the hold.")
        await until(pilot, lambda: said(pilot, "The phone system did it: the hold."))
        await pilot.press("ctrl+g")
        await until(pilot, lambda: panel.line == "")

        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, CodePicker))
        await pilot.press(*"ben", "enter")
        await until(pilot, lambda: said(pilot, "Consulting ben"))
        assert panel.line == "consulting"
        assert "CONSULTING" in str(screen.query_one("#call-status").render())

        await pilot.press("ctrl+u")  # the phone system refuses: the agent reads why
        await until(pilot, lambda: said(pilot, "refused the return to the caller"))
        assert said(pilot, "atxferabort is not configured")

        await pilot.press("f11")
        await until(pilot, lambda: panel.draft is not None and panel.draft.handed_to == "ben")
        await pilot.pause(0.5)  # the phone system's own news of the transfer: read, not told again
        assert panel.draft is not None
        assert (panel.draft.phase, panel.draft.notes) == ("wrap_up", "wants a refund")
        assert panel.draft.handed_to == "ben"
        assert [n.title for n in pilot.notes].count("Transferred") == 1
    assert sent == [
        ("hold", ""),
        ("unhold", ""),
        ("consult_transfer", "ben"),
        ("cancel_consult", "ben"),
        ("complete_consult", "ben"),
    ]
    call = await services.calls.get(call_id)
    ben = await services.agents.ensure("ben")
    assert (call.state, call.agent_id, call.notes) == ("answered", ben.id, "wants a refund")
    assert (await services.agents.ensure("maria")).state == "wrap_up"


async def test_a_phone_system_that_cannot_hold_says_what_to_do(services: Services) -> None:
    call_id = await phone_call(services, "kamailio", "a84b4c76e66710@pc33")
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        panel = await on_the_call(app, pilot, call_id)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: said(pilot, "use your phone's hold key"))
        assert panel.line == ""
    assert (await services.calls.get(call_id)).state == "answered"


async def test_a_kamailio_call_is_transferred_through_its_command_runner(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+T on a call behind Kamailio records the blind transfer for
    `frontline pbx listen kamailio` (which REFERs the caller); it is not refused any more."""
    from core.calls.routing import set_contact

    monkeypatch.setattr(pbx_follow, "NOT_TAKEN_SECONDS", 0.0)
    call_id = await phone_call(services, "kamailio", "a84b4c76e66710@pc33")
    await set_contact(services.events, "ben", "sip:ben@10.0.0.6:5060", None)
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await on_the_call(app, pilot, call_id)
        await transfer_to_ben(app, pilot)
        await until(pilot, lambda: said(pilot, "frontline pbx listen kamailio"))
    [command] = await services.commands.claim("kamailio")
    assert (command.kind, command.to_agent, command.external_id) == (
        "blind_transfer",
        "ben",
        "a84b4c76e66710@pc33",
    )


async def test_a_command_no_adapter_takes_is_not_a_silent_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pbx_follow, "NOT_TAKEN_SECONDS", 0.0)
    call_id = await phone_call(services, "freeswitch", "5f1e-member")
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        panel = await on_the_call(app, pilot, call_id)
        await transfer_to_ben(app, pilot)
        await until(pilot, lambda: said(pilot, "frontline pbx listen freeswitch"))
        assert panel.draft is not None and panel.draft.handed_to == ""  # still hers
