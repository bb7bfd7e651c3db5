"""What the agent screen looks like at 120×40 (everything at once) and 80×24 (one pane at a time).

Deterministic: a seeded database, the clock frozen at tests.console.seed.NOW, times shown in
UTC, cursor blink off, notifications cleared before the screenshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

import console.app
from console.app import ConsoleApp
from console.i18n import _
from core.i18n import set_language
from core.services import make_services
from tests.console.conftest import console_settings
from tests.console.seed import NOW, seed

WIDE = (120, 40)
NARROW = (80, 24)


class SnapshotApp(ConsoleApp):
    """The console, keeping the title of every notification it shows."""

    CSS_PATH = str(Path(console.app.__file__).with_name("app.tcss"))  # not beside this file

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notified: list[tuple[str, str]] = []

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        self.notified.append((title, message))
        super().notify(message, title=title, **kwargs)


def make_app(sqlite_url: str, tmp_path: Path) -> ConsoleApp:
    settings = console_settings(sqlite_url, tmp_path / "data")
    seeding = make_services(settings)

    async def prepare() -> None:
        await seed(seeding.sessions)
        await seeding.close()

    asyncio.run(prepare())
    return SnapshotApp(make_services(settings), agent_name="maria", now=lambda: NOW)


async def settle(pilot: Pilot[None]) -> None:
    for _round in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert isinstance(pilot.app, SnapshotApp)
    errors = [message for title, message in pilot.app.notified if title == _("Internal error")]
    assert not errors


def steps(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press keys, waiting for the screen's workers after each group; freeze what moves."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for group in keys:
            await pilot.press(*([group] if group.startswith(("f", "ctrl", "enter")) else group))
            await settle(pilot)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        for area in pilot.app.screen.query(TextArea):
            area.cursor_blink = False
            area.highlight_cursor_line = False
        pilot.app.clear_notifications()
        # Where focus is drawn depends on when the terminal's focus events arrive, which
        # varies from run to run: the pictures show the layout and content with no focus.
        pilot.app.set_focus(None)
        await pilot.pause()

    return run


TAKE_CALL = ("f2", "C00000001", "enter", "f6", "Asked about roaming [b]charges[/b]", "f9", "bill")


def test_wide_search_results(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url, tmp_path)
    assert snap_compare(app, terminal_size=WIDE, run_before=steps("ana garcia"))


def test_wide_on_a_call(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url, tmp_path)
    assert snap_compare(app, terminal_size=WIDE, run_before=steps(*TAKE_CALL, "enter"))


def test_narrow_customer(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url, tmp_path)
    assert snap_compare(app, terminal_size=NARROW, run_before=steps("f2", "C00000001", "enter"))


def test_narrow_history(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url, tmp_path)
    assert snap_compare(
        app, terminal_size=NARROW, run_before=steps("f2", "C00000001", "enter", "f4")
    )


def test_narrow_call_panel(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url, tmp_path)
    assert snap_compare(app, terminal_size=NARROW, run_before=steps(*TAKE_CALL, "enter", "f5"))


def test_narrow_help(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url, tmp_path)
    assert snap_compare(app, terminal_size=NARROW, run_before=steps("f1"))


# --- the same screens in Spanish (the suite reads English: tests/conftest.py) ---------------


@contextlib.contextmanager
def spanish() -> Iterator[None]:
    set_language("es")
    try:
        yield
    finally:
        set_language("en")


def test_wide_on_a_call_in_spanish(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with spanish():
        app = make_app(sqlite_url, tmp_path)
        assert snap_compare(app, terminal_size=WIDE, run_before=steps(*TAKE_CALL, "enter"))


def test_narrow_customer_in_spanish(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with spanish():
        app = make_app(sqlite_url, tmp_path)
        assert snap_compare(app, terminal_size=NARROW, run_before=steps("f2", "C00000001", "enter"))


def test_narrow_call_panel_in_spanish(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with spanish():
        app = make_app(sqlite_url, tmp_path)
        assert snap_compare(
            app, terminal_size=NARROW, run_before=steps(*TAKE_CALL, "enter", "f7", "f5")
        )


def test_narrow_help_in_spanish(snap_compare, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with spanish():
        app = make_app(sqlite_url, tmp_path)
        assert snap_compare(app, terminal_size=NARROW, run_before=steps("f1"))
