"""Toasts quote database errors, names and notes: they are shown as typed, never as markup."""

from __future__ import annotations

from textual.widgets import Static

from console.app import ConsoleApp
from core.services import Services
from tests.console.conftest import running

# What SQLAlchemy puts in a locked database's error, and a follow-up typed with a bracket.
HOSTILE = "The call was not saved ([SQL: UPDATE call SET notes=?] [a=? \x1b]0;pwned\x07)."


async def test_a_toast_quoting_brackets_and_escapes_is_shown_literally(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (80, 24)) as pilot:
        await pilot.pause()
        app.agent_screen.notify(HOSTILE, title="[b]Saved?[/b]", severity="error")
        app.agent_screen.query(Static).first().notify(HOSTILE, markup=True)
        app.notify(HOSTILE, markup=True)
        await pilot.pause()
        await pilot.pause()
        assert app.is_running  # a MarkupError would have closed the console
        shown = [n for n in pilot.notes if "not saved" in n.message]
        assert len(shown) == 3
        for note in shown:
            assert not note.markup
            assert "[SQL: UPDATE call SET notes=?] [a=?" in note.message
            assert "\x1b" not in note.message and "\x07" not in note.message
        assert shown[0].title == "[b]Saved?[/b]"
