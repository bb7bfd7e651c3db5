"""Issue 13, the console's part: what an agent saw go wrong, at 80×24 unless said otherwise."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, TextArea
from textual.widgets._footer import FooterKey

from console.app import ConsoleApp
from console.key_names import check_keymap, key_label
from console.screens.help import HelpScreen
from console.widgets.cells import fit, who_cell
from console.widgets.offer_prompt import OfferPrompt
from console.widgets.team_board import TeamBoard
from console.widgets.timeline import Timeline
from core.calls.queue import AgentRow, TeamSnapshot
from core.db import make_engine
from core.importing.runner import import_file
from core.models import OfferPresentation
from core.services import Services
from tests.console.conftest import fresh_services, running
from tests.console.seed import NOW
from tests.console.test_agent_screen import open_first, settle


def screen_text(app: App[None]) -> str:
    """What the terminal shows now, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def until(pilot, check, what: str, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        if check():
            return
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    raise AssertionError(f"never happened: {what}")


async def presentations(services: Services) -> list[OfferPresentation]:
    async with services.sessions() as session:
        return list((await session.execute(select(OfferPresentation))).scalars())


# --- 1. an offer never outlives its customer ------------------------------------------------


async def test_opening_another_customer_mid_call_takes_the_offer_away(services: Services) -> None:
    ana, luis = services.customer_ids[0], services.customer_ids[4]  # type: ignore[attr-defined]
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await settle(pilot)
        screen = app.agent_screen
        await open_first(pilot, "ana garcia lopez madrid")
        assert screen.customer_id == ana
        await pilot.press("f6")
        await settle(pilot)
        prompt = screen.query_one(OfferPrompt)
        assert prompt.display and prompt.proposals[0].script.startswith("Ana,")
        call_id = screen.draft.call_id  # type: ignore[union-attr]
        await open_first(pilot, "luis perez")  # the caller asks about someone else
        assert screen.customer_id == luis
        assert not prompt.display and prompt.proposals == []
        assert "Ana, as a Gold" not in screen_text(app)
        await pilot.press("ctrl+o", "a")  # no offer to go to, nothing to answer
        await settle(pilot)
        assert [p.response for p in await presentations(services)] == [None]
        await open_first(pilot, "ana garcia lopez madrid")  # back to the caller: her offer
        assert prompt.display and prompt.customer_id == ana
        await pilot.press("ctrl+o", "a")
        await settle(pilot)
    shown = await presentations(services)
    assert [(p.customer_id, p.call_id, p.response) for p in shown] == [(ana, call_id, "accepted")]


async def test_an_answer_for_another_customer_or_call_is_never_recorded(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await settle(pilot)
        screen = app.agent_screen
        await open_first(pilot, "ana garcia lopez madrid")
        await pilot.press("f6")
        await settle(pilot)
        prompt = screen.query_one(OfferPrompt)
        offer = prompt.proposals[0]
        assert offer.presentation_id is not None
        other = services.customer_ids[4]  # type: ignore[attr-defined]
        prompt.post_message(
            OfferPrompt.ResponseChosen(offer.presentation_id, "accepted", "", other, None)
        )
        await settle(pilot)
        assert any("nothing recorded" in n.message for n in pilot.notes)  # type: ignore[attr-defined]
    assert [p.response for p in await presentations(services)] == [None]


# --- 2. --caller while an unfinished call comes back ----------------------------------------


async def test_a_caller_given_while_a_draft_is_restored_is_said_and_waits_in_the_search(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await settle(pilot)
        await open_first(pilot, "luis perez")
        await pilot.press("f6")
        await settle(pilot)
        app.agent_screen.query_one("#notes", TextArea).insert("unfinished words")
        await app.save_and_sign_out()
    again = fresh_services(services)
    app2 = ConsoleApp(again, agent_name="maria", caller="+34 699 111 222")
    try:
        async with running(app2) as pilot:
            await settle(pilot)
            screen = app2.agent_screen
            assert screen.draft is not None and screen.draft.notes == "unfinished words"
            assert screen.customer_id == services.customer_ids[4]  # type: ignore[attr-defined]
            told = [n.message for n in pilot.notes if n.title == "Caller not opened"]  # type: ignore[attr-defined]
            assert told and "+34 699 111 222" in told[0] and "F8" in told[0]
            assert screen.query_one("#search", Input).value == "+34 699 111 222"
    finally:
        await again.close()


# --- 3. the open history follows an import from another process -----------------------------


async def test_an_import_from_another_process_shows_in_the_open_history(
    services: Services, tmp_path: Path
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await settle(pilot)
        await open_first(pilot, "luis perez")
        timeline = app.agent_screen.query_one(Timeline)
        before = len(timeline.items)
        path = tmp_path / "interactions.csv"
        path.write_text(
            "external_id,at,channel,direction,subject,outcome,agent,notes\n"
            "C00000005,2026-11-22T09:00:00Z,store,inbound,Came to the shop,resolved,,\n",
            encoding="utf-8",
        )
        engine = make_engine(services.settings.resolved_database_url)  # another process's
        try:
            result = await import_file(engine, "interactions", path, rejects_path=None)
        finally:
            await engine.dispose()
        assert result.imported == 1
        await until(pilot, lambda: len(timeline.items) == before + 1, "the history to grow")
        assert "Came to the shop" in [item.subject for item in timeline.items]


# --- 4 and 6. keys as typed, remapped keys named, unknown ids told --------------------------


def test_keys_are_shown_as_a_person_types_them() -> None:
    assert [key_label(k) for k in ("right_square_bracket", "bracketright", "]")] == ["]"] * 3
    assert [key_label(k) for k in ("question_mark", "slash", "ctrl+o", "f8", "escape")] == [
        "?",
        "/",
        "^O",
        "F8",
        "Esc",
    ]
    keymap, problems = check_keymap({"anwser-call": "f6", "offer-next": "bracketright,]"})
    assert keymap == {"offer-next": "right_square_bracket,right_square_bracket"}
    assert problems == [
        "FRONTLINE_KEYMAP: 'anwser-call' is not a binding id and is ignored: "
        "did you mean answer-call?"
    ]
    _, problems = check_keymap({"finish-call": "f8,ctrl+bogus"})
    assert len(problems) == 1 and "'ctrl+bogus' for finish-call is not a key" in problems[0]


async def test_a_remapped_keymap_is_told_named_and_shown_as_typed(services: Services) -> None:
    remapped = fresh_services(
        services,
        keymap="anwser-call=f6;toggle-hold=ctrl+k;offer-next=bracketright;offer-accepted=y",
    )
    app = ConsoleApp(remapped, agent_name="maria")
    try:
        async with running(app) as pilot:
            await settle(pilot)
            told = [n.message for n in pilot.notes if n.title == "Keymap"]  # type: ignore[attr-defined]
            assert told and "'anwser-call'" in told[0] and "did you mean answer-call?" in told[0]
            screen = app.agent_screen
            assert "^K hold" in str(screen.query_one("#call-pane").border_title)
            await open_first(pilot, "ana garcia lopez madrid")
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("ctrl+o")
            await settle(pilot)
            status = str(screen.query_one("#offer-status").render())
            assert status.startswith("y accepted · d declined")
            footer = {key.description: key.key_display for key in screen.query(FooterKey)}
            assert footer.get("Next offer") == "]", footer
            assert not [k for k in footer.values() if "bracket" in k or k.startswith("f")]
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            help_text = screen_text(app)
            assert "bracket" not in help_text and "question_mark" not in help_text
            await pilot.press("escape", "y")  # the remapped key answers
            await settle(pilot)
        assert [p.response for p in await presentations(services)] == ["accepted"]
    finally:
        await remapped.close()


# --- 5. the decline reasons are in view ------------------------------------------------------


async def test_the_decline_reasons_are_in_view_at_80x24(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await settle(pilot)
        await open_first(pilot, "ana garcia lopez madrid")
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("ctrl+o", "d")
        await settle(pilot)
        shown = screen_text(app)
        for reason in ("1. Not interested", "2. Too expensive", "3. Other"):  # labels, by id
            assert reason in shown, shown
        await pilot.press("2")
        await settle(pilot)
    assert [(p.response, p.decline_reason) for p in await presentations(services)] == [
        ("declined", "too expensive")
    ]


# --- 7. cut with an ellipsis, never a digit lost --------------------------------------------


def agent_row(n: int, name: str, customer: str, state: str = "on_call") -> AgentRow:
    return AgentRow(
        agent_id=n,
        user_name=f"a{n}",
        display_name=name,
        role="agent",
        state=state,
        reason="",
        since=NOW - timedelta(minutes=3),
        seconds_in_state=180,
        call_id=n,
        call_state="answered",
        call_seconds=170,
        customer=customer,
        handled_today=4,
        aht_today=300,
        offers_accepted_today=1,
    )


class BoardApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TeamBoard(id="board")


async def test_the_team_board_cuts_names_with_an_ellipsis_and_keeps_every_digit() -> None:
    app = BoardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        board = app.query_one(TeamBoard)
        board.show(
            TeamSnapshot(
                at=NOW,
                agents=[
                    agent_row(1, "Maximiliano Fernández", "María Fernández de Córdoba"),
                    agent_row(2, "Ana", "+34 612 345 678"),
                    agent_row(3, "Luis", "+44 20 7946 0958 12"),
                ],
                occupancy=1.0,
                levels={},
            )
        )
        await pilot.pause()
        shown = screen_text(app)
        assert "Maximilia…" in shown and "María Fern…" in shown
        assert "+34612345678" in shown and "+442079460958" in shown  # all the digits
    assert str(who_cell("+34 612 345 678", 20)) == "+34 612 345 678"  # fits as written


class ReviewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(id="t")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Reason/outcome", key="codes", width=15)
        table.add_row(fit("billing / follow-up call", 15))
        table.add_row(fit("[b]x[/b]\x1b[31m", 15))


async def test_the_call_review_cuts_with_an_ellipsis() -> None:
    app = ReviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "billing / foll…" in shown and "[b]x[/b]␛[31m" in shown
        assert str(app.query_one(DataTable).get_row_at(0)[0]) == "billing / follow-up call"


def test_text_too_long_for_nothing_loses_no_digits() -> None:
    assert str(who_cell("0034 612 345 678 999", 11)) == "0034612345678999"
