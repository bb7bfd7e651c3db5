"""The console's writes with the SQLite database locked by another process (issue 13's
fault-injection suite, console side): the agent is told clearly, nothing is lost, and each
write goes through once the lock is gone. SIGKILL and SIGHUP: test_crash_recovery.py and
test_hang_up.py.

Writes tried here: the draft, an offer's answer, saving the call (F8), a quality score.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, TextArea

from console.app import ConsoleApp
from console.screens.call_review import CallReviewScreen, ScoreForm
from core.calls.review import ReviewService
from core.identity import Identity, IdentitySource
from core.models import Agent, Call, CallDraft, Interaction, OfferPresentation
from core.services import Services
from tests.console.conftest import fresh_services, running
from tests.console.test_agent_screen import open_first, settle
from tests.console.test_console_reliability import until
from tests.console.test_supervisor_review import SETTINGS, Host
from tests.sqlite_lock import Lock

LOCK_WAIT_MS = 200
"""How long a write waits on the lock before it fails (5 s in production)."""


@pytest.fixture
def quick_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.db.SQLITE_BUSY_TIMEOUT_MS", LOCK_WAIT_MS)


def messages(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in pilot.notes]


async def test_a_locked_database_loses_no_draft_answer_or_call(
    services: Services, quick_lock: None
) -> None:
    local = fresh_services(services)  # its connections wait LOCK_WAIT_MS on a lock
    app = ConsoleApp(local, agent_name="maria")
    notes = "Wants [b]fibre[/b] [a=? — call back"
    try:
        async with running(app, (120, 40)) as pilot:
            await settle(pilot)
            screen = app.agent_screen
            await open_first(pilot, "ana garcia lopez madrid")
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("f7")
            await settle(pilot)
            await pilot.press(*"bill", "enter")
            await settle(pilot)
            await pilot.press("1", "enter")
            await settle(pilot)
            with Lock(services.settings.database_url) as lock:
                # the draft
                screen.query_one("#notes", TextArea).insert(notes)
                agent_id = screen.agent.id  # type: ignore[union-attr]
                kept = local.drafts.fallback_path(agent_id)

                def kept_notes() -> str | None:
                    if not kept.exists():
                        return None
                    return str(json.loads(kept.read_text("utf-8"))["payload"]["notes"])

                # The codes' save, under way as the lock came, may fail first (and be kept
                # without the notes): the notes' own save follows it to the file.
                await until(
                    pilot,
                    lambda: screen.keeper.offline and kept_notes() == notes,
                    "the draft to be kept locally with the notes",
                )
                assert any("not answering" in m for m in messages(pilot))
                # the offer's answer
                await pilot.press("ctrl+o", "a")
                await settle(pilot)
                assert (
                    "The answer was not recorded (the database is locked by another program). "
                    "Give it again in a moment."
                ) in messages(pilot)
                assert "a accepted" in str(screen.query_one("#offer-status").render())
                # saving the call (the offer has no answer: F8 warns, F8 again saves)
                await pilot.press("f8")
                await settle(pilot)
                assert any("no answer was recorded" in m for m in messages(pilot))
                await pilot.press("f8")
                await settle(pilot)
                assert app.is_running  # the toast quoting SQL was once parsed as markup
                said = [m for m in messages(pilot) if "call was not saved" in m]
                assert said == [
                    "The call was not saved (the database is locked by another program). "
                    "Nothing is lost: press F8 to try again."
                ]
                assert screen.draft is not None and screen.draft.notes == notes
                lock.release()
                # all of it, once the lock is gone
                await until(pilot, lambda: not screen.keeper.offline, "the draft to be saved")
                await pilot.press("ctrl+o", "a")
                await settle(pilot)
                await pilot.press("f8")
                await settle(pilot)
                assert screen.draft is None
                assert any(m.startswith("Call saved") for m in messages(pilot))
    finally:
        await local.close()
    async with services.sessions() as session:
        shown = (await session.execute(select(OfferPresentation))).scalars().all()
        logged = (
            (await session.execute(select(Interaction).where(Interaction.notes == notes)))
            .scalars()
            .all()
        )
        drafts = (await session.execute(select(CallDraft))).scalars().all()
        call = (await session.execute(select(Call))).scalar_one()
    assert [p.response for p in shown] == ["accepted"]
    assert len(logged) == 1 and call.state == "completed" and call.notes == notes
    assert drafts == []


async def test_a_quality_score_with_the_database_locked_is_kept_and_tried_again(
    services: Services, quick_lock: None, tmp_path: Path
) -> None:
    local = fresh_services(services)
    async with local.sessions() as session, session.begin():
        ana = Agent(user_name="ana")
        session.add_all([ana, Agent(user_name="boss", role="supervisor")])
        await session.flush()
        now = datetime.now(UTC)
        session.add(Call(state="completed", agent_id=ana.id, answered_at=now, wrap_up_ended_at=now))
    reviews = ReviewService(local.sessions, SETTINGS)
    screen = CallReviewScreen(
        reviews, Identity("boss", IdentitySource.OS, "test"), (), (), zone=UTC
    )
    app = Host(screen)
    try:
        async with running(app) as pilot:
            table = screen.query_one("#review-table", DataTable)
            await until(pilot, lambda: table.row_count == 1, "the call to review")
            table.focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ScoreForm), "the form")
            await pilot.press("2", "tab", "3", "tab", "1", "tab", *"Good [b]call[/b]")
            with Lock(services.settings.database_url) as lock:
                await pilot.press("ctrl+s")
                await until(
                    pilot,
                    lambda: any("score was not saved" in m for m in messages(pilot)),
                    "the agent to be told",
                )
                assert isinstance(app.screen, ScoreForm)  # open, with what was typed
                said = next(m for m in messages(pilot) if "score was not saved" in m)
                assert said == (
                    "The score was not saved (the database is locked by another program). "
                    "Nothing is lost: ^S tries again."
                )
                lock.release()
                await pilot.press("ctrl+s")
                await until(pilot, lambda: app.screen is screen, "the score to be stored")
        scores = await reviews.scores_for("ana")
        assert [(s.scores, s.coaching_note) for s in scores] == [
            ({"Greeting": 2, "Need understood": 3, "Tone": 1}, "Good [b]call[/b]")
        ]
    finally:
        await local.close()


async def test_a_customer_edit_with_the_database_locked_says_so_and_keeps_the_form(
    services: Services, quick_lock: None
) -> None:
    from textual.widgets import Input

    from console.screens.customer_edit import CustomerForm
    from core.models import Customer
    from tests.console.test_customer_record import _open, _until_ready

    luis = services.customer_ids[4]  # type: ignore[attr-defined]
    local = fresh_services(services)
    app = ConsoleApp(local, agent_name="maria")
    try:
        async with running(app, (80, 24)) as pilot:
            await _until_ready(pilot, app)
            await _open(pilot, app, luis)
            await pilot.press("ctrl+s", "e")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, CustomerForm)
            form.query_one("#edit-city", Input).value = "Castellón"
            with Lock(services.settings.database_url) as lock:
                await pilot.press("ctrl+s")
                problem = form.query_one("#form-problem")
                await until(pilot, lambda: "Not saved" in str(problem.render()), "the refusal")
                assert str(problem.render()) == (
                    "Not saved (the database is locked by another program). Nothing is lost: "
                    "the form keeps what you typed; ^S tries again."
                )
                assert app.screen is form
                assert form.query_one("#edit-city", Input).value == "Castellón"
                lock.release()
                await pilot.press("ctrl+s")
                await until(pilot, lambda: app.screen is not form, "the edit to be saved")
    finally:
        await local.close()
    async with services.sessions() as session:
        saved = await session.get(Customer, luis)
        assert saved is not None and saved.city == "Castellón"
