"""From the keyboard: hold and resume, a break with a reason and back to ready, the wrap-up
limit; a supervisor sets a stuck agent's state from the team board."""

from __future__ import annotations

from datetime import timedelta

from console.app import ConsoleApp
from console.screens.pickers import CodePicker
from console.screens.supervisor import SupervisorScreen
from console.widgets.call_panel import CallPanel
from console.widgets.team_board import TeamBoard
from core.models import Agent, AgentState, Call
from core.services import Services
from tests.console.conftest import fresh_services, running
from tests.console.seed import NOW
from tests.console.test_screen_pop import until


async def _agent(services: Services, name: str) -> Agent:
    return await services.agents.ensure(name)


def status(app: ConsoleApp) -> str:
    return str(app.agent_screen.query_one("#call-status").render())


async def test_one_key_holds_the_caller_and_the_same_key_takes_them_back(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        await pilot.press("f6")
        panel = app.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        assert panel.draft is not None
        call_id = panel.draft.call_id
        assert call_id is not None
        await pilot.press("ctrl+g")
        await until(pilot, lambda: "ON HOLD" in status(app))
        assert (await services.calls.get(call_id)).state == "held"
        await pilot.press("ctrl+g")
        await until(pilot, lambda: "ON CALL" in status(app))
        assert (await services.calls.get(call_id)).state == "answered"


async def test_a_break_with_a_reason_from_configuration_and_back_to_ready(
    services: Services,
) -> None:
    configured = fresh_services(services, break_reasons="coffee,coaching")
    app = ConsoleApp(configured, agent_name="maria")
    try:
        async with running(app) as pilot:
            await until(pilot, lambda: app.agent_screen.ready)
            await pilot.press("ctrl+b")
            await until(pilot, lambda: isinstance(app.screen, CodePicker))
            assert isinstance(app.screen, CodePicker)
            assert app.screen.codes == ["coffee", "coaching"]
            await pilot.press(*"coach", "enter")
            await until(pilot, lambda: "break: coaching" in app.sub_title)
            agent = await _agent(services, "maria")
            assert (agent.state, agent.state_reason) == ("break", "coaching")
            assert app.agent_screen.check_action("be_ready", ()) is True
            assert app.agent_screen.check_action("take_break", ()) is False

            await pilot.press("ctrl+r")
            await until(pilot, lambda: "available" in app.sub_title)
            assert (await _agent(services, "maria")).state == "available"
    finally:
        await configured.close()


async def test_a_state_set_elsewhere_shows_on_the_agent_screen(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        other = fresh_services(services)  # another process: a supervisor's console
        try:
            await other.events.set_agent_state("maria", AgentState.BREAK, "meeting")
        finally:
            await other.close()
        await until(pilot, lambda: "break: Meeting" in app.sub_title)
        assert any("Meeting" in n.message for n in pilot.notes)  # type: ignore[attr-defined]


async def test_after_call_work_over_its_limit_warns_the_agent(services: Services) -> None:
    clock = [NOW]
    limited = fresh_services(services, wrap_up_limit_seconds="60")
    app = ConsoleApp(limited, agent_name="maria", now=lambda: clock[0])
    try:
        async with running(app) as pilot:
            await until(pilot, lambda: app.agent_screen.ready)
            await pilot.press("f6")
            panel = app.agent_screen.query_one(CallPanel)
            await until(pilot, lambda: panel.draft is not None)
            await pilot.press("f7", "escape")
            await until(pilot, lambda: "WRAP-UP" in status(app))
            assert "over" not in status(app)
            clock[0] = NOW + timedelta(seconds=61)
            panel.tick()
            await until(pilot, lambda: "over 01:00" in status(app))
            await pilot.pause()
            assert any("over its limit" in n.message for n in pilot.notes)  # type: ignore[attr-defined]
    finally:
        await limited.close()


async def test_the_team_board_flags_wrap_up_over_the_limit(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="sofia", display_name="Sofía", role="supervisor"))
    limited = fresh_services(services, wrap_up_limit_seconds="60")
    maria = await _agent(limited, "maria")
    assert maria.id is not None
    call = await limited.calls.start(maria.id, None, "+34 600 000 000")
    assert call.id is not None
    await limited.calls.end(call.id)
    app = ConsoleApp(limited, agent_name="sofia")
    try:
        async with running(app) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
            screen = app.screen
            assert isinstance(screen, SupervisorScreen)
            await pilot.press("f6")
            board = screen.query_one(TeamBoard)
            await until(pilot, lambda: board.snapshot is not None)
            table = board.query_one("#team")
            row = str(maria.id)
            later = board.snapshot.at + timedelta(seconds=90)  # type: ignore[union-attr]
            board.tick(later)
            cell = table.get_cell(row, "state")  # type: ignore[attr-defined]
            assert str(cell) == "wrap-up!"
    finally:
        await limited.close()


async def test_a_supervisor_sets_a_stuck_agents_state_from_the_team_board(
    services: Services,
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(Agent(user_name="sofia", display_name="Sofía", role="supervisor"))
        session.add(Agent(user_name="zoe", display_name="Zoe", state="available"))
    app = ConsoleApp(services, agent_name="sofia")
    async with running(app) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
        screen = app.screen
        await pilot.press("f6")
        board = screen.query_one(TeamBoard)
        await until(pilot, lambda: board.snapshot is not None and len(board.snapshot.agents) >= 2)
        table = board.query_one("#team")
        table.focus()
        while (picked := board.highlighted()) is None or picked.user_name != "zoe":
            await pilot.press("down")
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, CodePicker))
        await pilot.press(*"lunch", "enter")
        await until(pilot, lambda: any("zoe is now" in n.message for n in pilot.notes))  # type: ignore[attr-defined]
        zoe = await _agent(services, "zoe")
        assert (zoe.state, zoe.state_reason) == ("break", "lunch")


async def test_no_break_while_the_caller_is_on_the_line(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        await pilot.press("f6")
        panel = app.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        assert app.agent_screen.check_action("take_break", ()) is False
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not isinstance(app.screen, CodePicker)
        assert panel.draft is not None
        row = await services.calls.get(panel.draft.call_id)  # type: ignore[arg-type]
        assert isinstance(row, Call) and row.state == "answered"
