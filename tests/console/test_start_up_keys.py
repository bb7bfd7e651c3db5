"""F6 pressed in the first moment, while the console still signs the agent in: the caller is
on the line already, so the call starts as soon as the console is signed in, and says so."""

from __future__ import annotations

import asyncio

import pytest

from console.app import ConsoleApp
from core.services import Services
from tests.console.conftest import running
from tests.console.test_pbx_keys import said
from tests.console.test_screen_pop import until


async def test_f6_while_signing_in_takes_the_call_once_signed_in(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing_in = asyncio.Event()
    release = asyncio.Event()
    load = services.drafts.load

    async def slow_load(agent_id: int):  # type: ignore[no-untyped-def]
        signing_in.set()  # the agent is known; the unfinished call is still being looked for
        await release.wait()
        return await load(agent_id)

    monkeypatch.setattr(services.drafts, "load", slow_load)
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, signing_in.is_set)
        screen = app.agent_screen
        assert not screen.ready
        await pilot.press("f6")
        await until(pilot, lambda: said(pilot, "Still starting: the call starts as soon as"))
        assert screen.draft is None
        release.set()
        await until(pilot, lambda: screen.draft is not None)
        assert screen.draft is not None and screen.draft.phase == "on_call"
        await until(pilot, lambda: screen.draft is not None and screen.draft.call_id is not None)
