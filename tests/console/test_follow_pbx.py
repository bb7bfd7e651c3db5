"""The agent screen follows the phone system after the pop, on SQLite and PostgreSQL: held,
resumed, ended, completed elsewhere; and the agent's words land on the call whatever the order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from console.app import ConsoleApp
from console.widgets.call_panel import CallPanel
from core.models import Call, Interaction
from core.services import Services, make_services
from tests.console.conftest import console_settings, fresh_services, running
from tests.console.seed import seed
from tests.console.test_screen_pop import frontline, until

PHONE = "+34 622 333 444"
"""Ana García Ruiz: no tier, so no offer waits for an answer before F8."""


@pytest.fixture
async def any_services(db_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Seeded services on SQLite and on PostgreSQL."""
    built = make_services(console_settings(db_url, tmp_path / "data"))
    built.customer_ids = await seed(built.sessions)  # type: ignore[attr-defined]
    yield built
    await built.close()


def status(app: ConsoleApp) -> str:
    return str(app.agent_screen.query_one("#call-status").render())


async def _popped_call(pilot, app: ConsoleApp, url: str) -> int:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: app.agent_screen.ready)
    queued = await frontline(url, "call", "queue", PHONE, "--queue", "sales")
    await frontline(url, "call", "offer", str(queued["call_id"]), "maria")
    panel = app.agent_screen.query_one(CallPanel)
    await until(pilot, lambda: panel.draft is not None and panel.draft.call_id is not None)
    call_id = queued["call_id"]
    assert isinstance(call_id, int)
    return call_id


async def test_the_screen_follows_hold_resume_end_and_completion_from_the_phone_system(
    any_services: Services,
) -> None:
    url = any_services.settings.resolved_database_url
    app = ConsoleApp(any_services, agent_name="maria")
    async with running(app) as pilot:
        call_id = await _popped_call(pilot, app, url)
        panel = app.agent_screen.query_one(CallPanel)
        assert "ON CALL" in status(app)

        await frontline(url, "call", "hold", str(call_id))
        await until(pilot, lambda: "ON HOLD" in status(app))
        await frontline(url, "call", "unhold", str(call_id))
        await until(pilot, lambda: "ON CALL" in status(app))

        # The agent types while the caller hangs up and the PBX closes after-call work.
        await pilot.press("ctrl+n", *"wants a refund")
        await frontline(url, "call", "end", str(call_id))
        await until(pilot, lambda: "WRAP-UP" in status(app))
        assert panel.draft is not None and panel.draft.phase == "wrap_up"
        await frontline(url, "call", "complete", str(call_id))
        await until(pilot, lambda: "closed by the phone system" in status(app))
        assert any("not lost" in n.message for n in pilot.notes)  # type: ignore[attr-defined]

        panel.edit(reason="billing", outcome="resolved")
        await pilot.press("f8")
        # The draft leaves the panel first, then the local copy is removed and "saved" is said.
        await until(
            pilot,
            lambda: any(n.message.startswith("Call saved") for n in pilot.notes),  # type: ignore[attr-defined]
        )
        assert panel.draft is None
    async with any_services.sessions() as session:
        call = await session.get(Call, call_id)
        interactions = (
            (await session.execute(select(Interaction).where(col(Interaction.call_id) == call_id)))
            .scalars()
            .all()
        )
    assert call is not None
    assert (call.state, call.reason, call.disposition) == ("completed", "billing", "resolved")
    assert call.notes == "wants a refund"
    assert [i.notes for i in interactions] == ["wants a refund"]


async def test_saved_is_said_only_when_the_call_is_saved(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        await pilot.press("f6", *"notes kept")
        panel = app.agent_screen.query_one(CallPanel)
        await until(pilot, lambda: panel.draft is not None)
        panel.edit(reason="billing", outcome="resolved")

        async def refuse(*_args: object, **_kwargs: object) -> None:
            raise ConnectionError("database gone")

        real = services.calls.complete
        services.calls.complete = refuse  # type: ignore[method-assign]
        await pilot.press("f8")
        await pilot.app.workers.wait_for_complete()
        notes = [n.message for n in pilot.notes]  # type: ignore[attr-defined]
        assert not any(m.startswith("Call saved") for m in notes)
        assert any("was not saved" in m for m in notes)
        assert panel.draft is not None and panel.draft.notes == "notes kept"

        services.calls.complete = real  # type: ignore[method-assign]
        await pilot.press("f8")
        # The draft leaves the panel first, then the local copy is removed and "saved" is said.
        await until(
            pilot,
            lambda: any(n.message.startswith("Call saved") for n in pilot.notes),  # type: ignore[attr-defined]
        )
        assert panel.draft is None


async def test_a_draft_for_a_call_completed_elsewhere_is_restored_and_saved_onto_it(
    services: Services,
) -> None:
    url = services.settings.resolved_database_url
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        call_id = await _popped_call(pilot, app, url)
        await pilot.press("ctrl+n", *"call me back at six")
        await app.agent_screen.keeper.flush()
    # The console is gone (a dropped SSH link); the PBX ends and completes the call meanwhile.
    await frontline(url, "call", "end", str(call_id))
    await frontline(url, "call", "complete", str(call_id))

    again = fresh_services(services)
    restarted = ConsoleApp(again, agent_name="maria")
    try:
        async with running(restarted) as pilot:
            await until(pilot, lambda: restarted.agent_screen.ready)
            panel = restarted.agent_screen.query_one(CallPanel)
            assert panel.draft is not None and panel.draft.call_id == call_id
            assert panel.draft.notes == "call me back at six"
            assert panel.draft.phase == "wrap_up"
            assert "closed by the phone system" in status(restarted)
            panel.edit(reason="information", outcome="callback requested")
            await pilot.press("f8")
            await until(pilot, lambda: panel.draft is None)
    finally:
        await again.close()
    async with services.sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None and call.notes == "call me back at six"
    assert call.disposition == "callback requested"
