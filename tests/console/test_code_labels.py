"""Codes on screen are labels in the agent's language, found by typing the label; the id is
what is stored (docs/languages.md, "Codes: ids with labels")."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, OptionList, Static

from console.app import ConsoleApp
from console.screens.call_review import CallReviewScreen, ScoreForm
from console.screens.pickers import CodePicker
from console.widgets.call_panel import CallPanel
from console.widgets.offer_prompt import OfferPrompt
from console.widgets.timeline import Timeline
from core.calls.review import ReviewService
from core.i18n import using
from core.services import Services
from tests.console.conftest import frozen_now, running
from tests.console.test_agent_screen import open_first, settle
from tests.console.test_languages import SupervisorHost, _until

WORDS = {
    "es": {
        "typed": "reclam",
        "reason": "Reclamación",
        "billing": "Facturación",
        "outcome_typed": "resu",
        "outcome": "Resuelta",
        "decline": "No le interesa",
        "break": "Comida",
        "examples": "mañana, pasado mañana, lunes, 15/12",
    },
    "en": {
        "typed": "compl",
        "reason": "Complaint",
        "billing": "Billing",
        "outcome_typed": "reso",
        "outcome": "Resolved",
        "decline": "Not interested",
        "break": "Lunch",
        "examples": "tomorrow, monday, ",
    },
}


def options(picker: CodePicker) -> list[str]:
    shown = picker.query_one("#codes", OptionList)
    return [str(shown.get_option_at_index(i).prompt) for i in range(shown.option_count)]


def plain(widget: Static) -> str:
    return str(getattr(widget.render(), "plain", widget.render()))


@pytest.mark.parametrize("code", ["es", "en"])
async def test_reason_and_outcome_are_picked_and_shown_by_label_and_stored_by_id(
    services: Services, code: str
) -> None:
    words = WORDS[code]
    with using(code):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, (120, 40)) as pilot:
            await settle(pilot)
            await open_first(pilot, "C00000001")
            screen = app.agent_screen
            await pilot.press("f6")
            await settle(pilot)
            panel = screen.query_one(CallPanel)
            field = panel.query_one("#follow-up", Input)
            assert field.placeholder.startswith(words["examples"])  # the agent's own words
            await pilot.press("f7")  # wrap-up asks for the reason
            await settle(pilot)
            picker = app.screen
            assert isinstance(picker, CodePicker)
            listed = options(picker)
            assert any(words["reason"] in line for line in listed), listed
            assert not any(line.endswith(" complaint") for line in listed), listed
            await pilot.press(*words["typed"])
            await settle(pilot)
            assert [line.split(maxsplit=1)[1] for line in options(picker)] == [words["reason"]]
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CodePicker)  # then the outcome
            await pilot.press(*words["outcome_typed"], "enter")
            await settle(pilot)
            assert panel.draft is not None
            assert (panel.draft.reason, panel.draft.outcome) == ("complaint", "resolved")
            assert words["reason"] in plain(panel.query_one("#call-reason", Static))
            assert words["outcome"] in plain(panel.query_one("#call-outcome", Static))

            await pilot.press("f9")  # the number still picks: 1 is the first reason
            await settle(pilot)
            await pilot.press("1", "enter")
            await settle(pilot)
            assert panel.draft is not None and panel.draft.reason == "billing"
            assert words["billing"] in plain(panel.query_one("#call-reason", Static))

            offers = screen.query_one(OfferPrompt)
            await pilot.press("ctrl+o", "d")  # the decline reasons, by label
            await settle(pilot)
            reasons = offers.query_one("#decline-reasons", OptionList)
            first = str(reasons.get_option_at_index(0).prompt)
            assert first == f"1. {words['decline']}", first
            await pilot.press("1")
            await settle(pilot)
            await pilot.press("f8")
            await settle(pilot)
            assert panel.draft is None
            timeline = screen.query_one(Timeline)
            assert timeline.items[0].outcome == "resolved"  # stored as the id…
            assert timeline.table.rows[0][3].text == words["outcome"]  # …shown as its label


@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_break_picker_and_the_agent_state_show_the_label(
    services: Services, code: str
) -> None:
    words = WORDS[code]
    with using(code):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, (120, 40)) as pilot:
            await settle(pilot)
            screen = app.agent_screen
            screen.action_take_break()
            await settle(pilot)
            picker = app.screen
            assert isinstance(picker, CodePicker)
            assert any(words["break"] in line for line in options(picker))
            await pilot.press(*words["break"][:3].lower(), "enter")
            await settle(pilot)
            assert screen.agent is not None and screen.agent.state_reason == "lunch"
            assert any(words["break"] in n.message for n in pilot.notes)


@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_call_review_shows_reason_and_outcome_by_label(
    services: Services, code: str
) -> None:
    words = WORDS[code]
    from core.models import Agent, Call

    async with services.sessions() as session, session.begin():
        agent = Agent(user_name="rev")
        session.add(agent)
        await session.flush()
        session.add(
            Call(
                state="completed",
                agent_id=agent.id,
                answered_at=frozen_now(),
                wrap_up_ended_at=frozen_now(),
                reason="complaint",
                disposition="resolved",
            )
        )
    with using(code):
        app = SupervisorHost(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: getattr(app.screen, "loads", 0) > 0)
            await pilot.press("f7")
            await _until(pilot, lambda: isinstance(app.screen, CallReviewScreen))
            review = app.screen
            assert isinstance(review, CallReviewScreen)
            review.query_one("#filter-day", Input).value = ""
            table = review.query_one("#review-table", DataTable)
            await _until(pilot, lambda: table.row_count > 0)
            shown = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
            row = shown.index(f"{words['reason']} / {words['outcome']}")
            assert isinstance(review.reviews, ReviewService)
            table.focus()
            table.move_cursor(row=row)
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, ScoreForm))
            summary = plain(app.screen.query_one("#review-summary", Static))
            assert words["reason"] in summary and words["outcome"] in summary, summary
            assert "complaint" not in summary
