"""The agent screen, driven with the keyboard like an agent would, on a real database."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col
from textual.widgets import Input, TextArea

from console.app import ConsoleApp
from console.screens.agent import FIRST_PAGE, AgentScreen
from console.screens.help import HelpScreen
from console.screens.pickers import CallerPicker, CodePicker
from console.widgets.call_panel import CallPanel
from console.widgets.customer_header import CustomerHeader
from console.widgets.customer_list import CustomerList
from console.widgets.offer_prompt import OfferPrompt
from console.widgets.timeline import Timeline
from core.models import Agent, Call, CallDraft, Interaction, OfferPresentation
from core.services import Services
from tests.console.conftest import fresh_services, running


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    errors = [n.message for n in pilot.notes if n.title == "Internal error"]
    assert not errors


def screen_of(app: ConsoleApp) -> AgentScreen:
    return app.agent_screen


async def open_first(pilot, query: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f2")
    await pilot.press(*query)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_find_open_log_wrap_up_saves_the_call_in_the_history(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert isinstance(app.focused, Input) and app.focused.id == "search"
        await pilot.press(*"ana garcia lopez")
        await settle(pilot)
        results = screen.query_one(CustomerList)
        found = {hit.customer_id for hit in results.hits}
        assert {services.customer_ids[0], services.customer_ids[1]} <= found  # type: ignore[attr-defined]
        first = services.customer_ids[0]  # type: ignore[attr-defined]
        position = [hit.customer_id for hit in results.hits].index(first)
        await pilot.press(*["down"] * position, "enter")
        await settle(pilot)
        assert screen.customer_id == first
        await pilot.press("f6")
        await settle(pilot)
        panel = screen.query_one(CallPanel)
        assert panel.draft is not None and panel.draft.customer_id == first
        assert isinstance(app.focused, TextArea)
        offers = screen.query_one(OfferPrompt)
        assert offers.display and [p.offer_id for p in offers.proposals] == ["gold-unlimited"]
        await pilot.press(*"Refund of roaming charge agreed")
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, CodePicker)  # wrap-up asks for the reason at once
        await pilot.press(*"bill", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CodePicker)  # ...then the outcome
        await pilot.press("1", "enter")
        await settle(pilot)
        assert panel.draft is not None and panel.draft.phase == "wrap_up"
        assert (panel.draft.reason, panel.draft.outcome) == ("billing", "resolved")
        await pilot.press("f8")
        await settle(pilot)
        assert panel.draft is not None  # an offer was shown and not answered: a warning
        assert any("no answer was recorded" in n.message for n in pilot.notes)
        await pilot.press("ctrl+o", "a")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert panel.draft is None
        timeline = screen.query_one(Timeline)
        assert timeline.items[0].subject == "Billing"
        assert timeline.items[0].notes == "Refund of roaming charge agreed"
    async with services.sessions() as session:
        stored = (
            (
                await session.execute(
                    select(Interaction)
                    .where(col(Interaction.customer_id) == first)
                    .order_by(col(Interaction.id).desc())
                )
            )
            .scalars()
            .first()
        )
        agent = (await session.execute(select(Agent))).scalar_one()
        drafts = (await session.execute(select(CallDraft))).scalars().all()
        shown = (await session.execute(select(OfferPresentation))).scalar_one()
    assert (shown.offer_id, shown.response, shown.customer_id) == (
        "gold-unlimited",
        "accepted",
        first,
    )
    assert stored is not None and stored.notes == "Refund of roaming charge agreed"
    assert (stored.channel, stored.outcome, stored.agent) == ("phone", "resolved", "maria")
    assert agent.user_name == "maria" and agent.state in ("available", "offline")
    assert drafts == []
    views = await services.audit.for_customer(first)
    assert [(v.actor, v.action) for v in views][-1] == ("maria", "view")


class SlowFirstSearch:
    """Answers the first query late and every later one at once."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real = real
        self.calls = 0

    async def search(self, query: str, limit: int = 10):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(0.5)
            return await self.real.search("luis", limit)
        return await self.real.search(query, limit)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.real, name)  # by_phone, close, …: the real service's


async def test_moving_through_the_history_shows_each_interactions_notes_and_loads_older_pages(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await open_first(pilot, "C00000001")
        timeline = screen_of(app).query_one(Timeline)
        notes = timeline.query_one("#timeline-notes")
        assert "Question #260" in str(notes.render()) and "Note 260" in str(notes.render())
        await pilot.press("f4", "down", "down", "down")
        await settle(pilot)
        assert timeline.table.cursor_row == 3
        assert "Question #257" in str(notes.render()) and "Note 257" in str(notes.render())
        for _ in range(3):  # page by page towards the oldest: the next page comes by itself
            await pilot.press("pagedown")
            await settle(pilot)
        assert len(timeline.items) > FIRST_PAGE
        row = timeline.table.cursor_row
        assert f"Question #{260 - row}" in str(notes.render())
        await pilot.press("home")
        await settle(pilot)
        await pilot.click(timeline.table, offset=(5, 3))  # the third row under the header
        await settle(pilot)
        assert timeline.table.cursor_row == 2
        assert "Note 258" in str(notes.render())


async def test_a_late_answer_never_replaces_a_newer_one(services: Services) -> None:
    slow = replace(services, search=SlowFirstSearch(services.search))
    app = ConsoleApp(slow, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")  # answered late, with Luis
        await pilot.press(*"arta")  # answered at once, with Marta
        await pilot.pause(0.8)
        await settle(pilot)
        names = {hit.name for hit in screen_of(app).query_one(CustomerList).hits}
        assert names and all("Marta" in name for name in names)


async def test_printable_keys_never_fire_shortcuts_while_typing(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*"?/ap")
        await settle(pilot)
        assert isinstance(app.screen, AgentScreen)
        assert screen_of(app).query_one("#search", Input).value == "?/ap"
        await pilot.press("ctrl+a", "ctrl+k")  # empty the box
        await open_first(pilot, "luis perez")
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press(*"q?/ cepa")
        await settle(pilot)
        assert isinstance(app.screen, AgentScreen)
        assert screen_of(app).query_one(CallPanel).draft.notes == "q?/ cepa"
        assert screen_of(app).query_one(Timeline).channel is None  # "e", "p", "c" typed, no filter
        # Outside text fields the same keys are shortcuts.
        await pilot.press("f4")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_markup_and_escapes_in_names_are_shown_literally(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await open_first(pilot, "tables")
        screen = screen_of(app)
        assert screen.customer_id == services.customer_ids[3]  # type: ignore[attr-defined]
        header = screen.query_one(CustomerHeader)
        assert header.overview is not None
        shown = header.render_overview(header.overview).plain
        assert "[red]Bob[/red]" in shown
        assert "\x1b" not in shown and "␛[2J" in shown
        svg = app.export_screenshot()
        assert "[red]Bob[/red]" in svg and "␛[2J" in svg


async def test_channel_keys_filter_the_history_and_pages_load_on_demand(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await open_first(pilot, "C00000001")
        timeline = screen_of(app).query_one(Timeline)
        assert len(timeline.items) == FIRST_PAGE and timeline.has_more  # a page, not all 260
        await pilot.press("f4", "e")
        await settle(pilot)
        assert timeline.channel == "email"
        assert len(timeline.items) == 44 and {i.channel for i in timeline.items} == {"email"}
        await pilot.press("a")
        await settle(pilot)
        assert timeline.channel is None and len(timeline.items) == FIRST_PAGE
        for _ in range(4):
            await pilot.press("end")
            await settle(pilot)
        assert len(timeline.items) == 260 and not timeline.has_more
        ats = [(i.at, i.id) for i in timeline.items]
        assert ats == sorted(ats, reverse=True)


async def test_caller_with_one_match_pops_their_record_and_starts_the_call(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria", caller="+34 612 345 678")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        call = screen.query_one(CallPanel).draft
        assert screen.customer_id == services.customer_ids[0]  # type: ignore[attr-defined]
        assert call is not None and call.customer_id == services.customer_ids[0]  # type: ignore[attr-defined]
        assert call.caller_number == "+34 612 345 678"


async def test_caller_with_several_matches_gets_a_picker(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria", caller="655000001")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CallerPicker)
        assert len(app.screen.hits) == 2
        picked = app.screen.hits[1].customer_id
        await pilot.press("down", "enter")
        await settle(pilot)
        call = screen_of(app).query_one(CallPanel).draft
        assert call is not None and call.customer_id == picked


async def test_unknown_caller_is_logged_with_the_number(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria", caller="+34 600 999 999")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        call = screen_of(app).query_one(CallPanel).draft
        assert call is not None and call.customer_id is None
        assert any("Unknown caller" in n.message for n in pilot.notes)
        await pilot.press(*"wrong number")
        await pilot.press("f9", "x", "escape")  # Esc clears the filter, then closes
        assert isinstance(app.screen, CodePicker)
        await pilot.press("escape")
        assert isinstance(app.screen, AgentScreen)
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press(*"information", "enter")
        await settle(pilot)
        await pilot.press(*"no action", "enter")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert screen_of(app).query_one(CallPanel).draft is None
    async with services.sessions() as session:
        saved = (await session.execute(select(Call))).scalar_one()
    assert saved.customer_id is None and saved.caller_number == "+34 600 999 999"
    assert saved.notes == "wrong number" and saved.state == "completed"


async def test_the_unfinished_call_comes_back_after_a_restart(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    notes = "Línea 1: wants [b]fibre[/b]\nLínea 2 — call back \\ later"
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await open_first(pilot, "luis perez")
        await pilot.press("f6")
        await settle(pilot)
        screen_of(app).query_one("#notes", TextArea).insert(notes)
        await pilot.press("f9", *"sales", "enter")
        await pilot.pause(1.5)  # the draft is written within 2 s of typing
        await settle(pilot)
    again = fresh_services(services)
    app2 = ConsoleApp(again, agent_name="maria")
    async with running(app2, (120, 40)) as pilot:
        await settle(pilot)
        screen = screen_of(app2)
        panel = screen.query_one(CallPanel)
        assert panel.draft is not None and panel.draft.reason == "sales"
        assert panel.draft is not None and panel.draft.notes == notes
        assert screen.customer_id == services.customer_ids[4]  # type: ignore[attr-defined]


class BrokenSessions:
    """A database that does not answer."""

    def __call__(self):  # type: ignore[no-untyped-def]
        raise OSError("connection refused")


async def test_a_database_outage_keeps_the_draft_locally_and_saves_it_when_back(
    services: Services, tmp_path: Path
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        drafts = services.drafts
        working = drafts._sessions
        drafts._sessions = BrokenSessions()  # type: ignore[assignment]
        await pilot.press(*"still typing")
        await pilot.pause(1.5)
        await settle(pilot)
        assert any("not answering" in n.message for n in pilot.notes)
        agent_id = screen_of(app).agent.id  # type: ignore[union-attr]
        local = json.loads(drafts.fallback_path(agent_id).read_text(encoding="utf-8"))
        assert local["payload"]["notes"] == "still typing"
        drafts._sessions = working
        await pilot.pause(3.5)  # the next retry
        await settle(pilot)
        assert not drafts.fallback_path(agent_id).exists()
        assert any("is back" in n.message for n in pilot.notes)
    async with services.sessions() as session:
        row = (await session.execute(select(CallDraft))).scalar_one()
    assert json.loads(row.payload)["notes"] == "still typing"


async def test_keys_are_remapped_by_id_from_configuration(services: Services) -> None:
    remapped = fresh_services(services, keymap="answer-call=f11;search=ctrl+f")
    app = ConsoleApp(remapped, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert screen_of(app).query_one(CallPanel).draft is None
        await pilot.press("f11")
        await settle(pilot)
        assert screen_of(app).query_one(CallPanel).draft is not None
        await pilot.press("ctrl+f")
        assert app.focused is screen_of(app).query_one("#search", Input)


async def test_help_lists_every_key_of_the_screen(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.export_screenshot().replace("&#160;", " ")
        for expected in ("Take call", "answer-call", "End call", "Reason", "Save call"):
            assert expected in text
        await pilot.press("escape")
        assert isinstance(app.screen, AgentScreen)


async def test_small_terminal_shows_one_pane_at_a_time(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert screen.narrow
        await open_first(pilot, "C00000001")
        assert screen.pane == "customer"
        assert screen.query_one("#customer-pane").display
        assert not screen.query_one("#left").display
        await pilot.press("f4")
        assert screen.query_one("#history-pane").has_class("-active")
        await pilot.press("f5")
        assert screen.query_one("#left").display and not screen.query_one("#right").display
        await pilot.press("f2")
        assert app.focused is screen_of(app).query_one("#search", Input)


async def test_the_command_palette_offers_what_makes_sense_now(services: Services) -> None:
    from console.screens.agent_commands import AgentCommands

    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        names = {name for name, *_ in AgentCommands(screen)._commands()}
        assert "Take call" in names and "End call" not in names and "Save call" not in names
        await pilot.press("f6")
        await settle(pilot)
        names = {name for name, *_ in AgentCommands(screen)._commands()}
        assert {"End call", "Save call", "Reason"} <= names and "Take call" not in names


async def test_text_arriving_with_f8_in_one_read_is_saved(services: Services) -> None:
    # A paste followed by F8 reaches Textual in one read: the save runs while the text
    # area's Changed message is still queued, and must take the text all the same.
    app = ConsoleApp(services, agent_name="maria", caller="+34 600 999 998")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*"caller asks")
        await pilot.press("f7")  # end: wrap-up asks for the reason, then the outcome
        await settle(pilot)
        await pilot.press(*"information", "enter")
        await settle(pilot)
        await pilot.press(*"no action", "enter")
        await settle(pilot)
        screen = screen_of(app)
        screen.query_one("#notes", TextArea).insert(" about roaming")
        screen.action_finish_call()  # before the queued Changed is handled
        await settle(pilot)
        assert screen.query_one(CallPanel).draft is None
    async with services.sessions() as session:
        saved = (await session.execute(select(Call))).scalar_one()
    assert saved.notes == "caller asks about roaming" and saved.state == "completed"
