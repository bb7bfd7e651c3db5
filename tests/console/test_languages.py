"""Every screen in Spanish and in English, at 80×24 and 120×40: no English word left in the
Spanish screens (customer data and codes aside), and no label cut where its widget ends.

Each test reads the language through `core.i18n.using` for its own duration; the suite stays
in English (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from console.app import ConsoleApp
from console.screens.call_review import CallReviewScreen
from console.screens.help import HelpScreen
from console.screens.rules import RulesScreen
from console.screens.supervisor import SupervisorScreen, make_supervisor_screen
from core.i18n import using
from core.services import Services
from tests.console.conftest import frozen_now, running
from tests.console.test_agent_screen import open_first, settle
from tests.console.test_console_reliability import screen_text

SIZES = [(80, 24), (120, 40)]

ENGLISH = re.compile(
    r"\b("
    "Customer|Customers|Search|History|Notes|Reason|Outcome|Save|Saved|Call|Calls|Queue|Agent|"
    "Offer|Offers|Help|Quit|Loyalty|Team|Review|Rules|Score|Scores|Keys|Key|Close|Cancel|Next|"
    "Previous|Waiting|State|Today|Unknown|Caller|Hold|Transfer|Break|Ready|Since|Born|Consent|"
    "Contact|Value|Segment|Edit|Changes|Duplicates|Reveal|Definitions|Answered|Handle|Status|"
    "Wait|When|Subject|Follow|Wrap|Take|Palette|Back|Record|Filters|Action|Everywhere|Find|"
    "Quality|Events|Phones|Emails|City|Country|Number|Name|Occupancy|Longest|Abandon|"
    "customer|since|born|consent|marketing|hold|pts|wallet|yrs|buys|accepted|declined|"
    "available|offline|ringing|queued|closes|cancels|picks|saves|palette"
    r")\b"
)
"""English words a Spanish screen must not show; none of them is in the test data or a code
(subjects "Question #N about the bill", notes "Note N", the lower-case reason, outcome and
decline codes, the offer's title and script)."""


@contextmanager
def language(code: str) -> Iterator[None]:
    with using(code):
        yield


def plain(widget: Static) -> str:
    rendered = widget.render()
    if isinstance(rendered, Text):
        return rendered.plain
    return str(getattr(rendered, "plain", rendered))


def cut_labels(app: App[None]) -> list[str]:
    """One-line labels and column headings longer than the room their widget gives them."""
    cut = []
    for widget in app.screen.query("Static, Label, FooterKey").results():
        if not widget.display or not widget.region.width or widget.region.height != 1:
            continue
        first = plain(widget).split("\n")[0].rstrip() if isinstance(widget, Static) else ""
        if isinstance(widget, FooterKey):
            first = f"{widget.key_display} {widget.description}".strip()
        room = widget.content_region.width
        if cell_len(first) > room and not first.endswith("…"):
            cut.append(f"{type(widget).__name__}#{widget.id}: {first!r} in {room} cells")
    for table in app.screen.query(DataTable).results():
        if not table.display:
            continue
        for column in table.columns.values():
            if not column.auto_width and cell_len(column.label.plain) > column.width:
                cut.append(f"{table.id}: heading {column.label.plain!r} in {column.width} cells")
    return cut


def check(app: App[None], code: str) -> None:
    text = screen_text(app)
    text = re.sub(r"\[[a-z0-9-]+\]", "", text)  # binding ids in help: ids, not words
    if code == "es":
        found = sorted(set(ENGLISH.findall(text)))
        assert not found, f"English on the Spanish screen: {found}\n{text}"
    else:
        assert ENGLISH.search(text), text  # the check itself sees English when it is there
    assert not cut_labels(app), "\n".join(cut_labels(app)) + "\n" + text


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_agent_screen_with_a_customer_open(
    services: Services, code: str, size: tuple[int, int]
) -> None:
    with language(code):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, size) as pilot:
            await settle(pilot)
            check(app, code)  # the empty screen
            await open_first(pilot, "C00000001")
            check(app, code)
            await pilot.press("f4")  # the history, on its own at 80×24
            await settle(pilot)
            check(app, code)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_call_panel_on_a_call_and_in_wrap_up(
    services: Services, code: str, size: tuple[int, int]
) -> None:
    with language(code):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, size) as pilot:
            await settle(pilot)
            await open_first(pilot, "C00000001")
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("f5")
            await settle(pilot)
            check(app, code)
            await pilot.press("f7")  # wrap-up
            await settle(pilot)
            await pilot.press("f5")
            await settle(pilot)
            check(app, code)
            await pilot.press("f9")  # the reason picker
            await settle(pilot)
            check(app, code)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("code", ["es", "en"])
async def test_help(services: Services, code: str, size: tuple[int, int]) -> None:
    with language(code):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, size) as pilot:
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            check(app, code)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_customer_record_edit_and_new_customer(
    services: Services, code: str, size: tuple[int, int]
) -> None:
    with language(code):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, size) as pilot:
            await settle(pilot)
            await open_first(pilot, "C00000001")
            await pilot.press("ctrl+s")
            await settle(pilot)
            check(app, code)  # the menu
            await pilot.press("e")
            await settle(pilot)
            check(app, code)  # the edit form
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            check(app, code)  # a new customer


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_branch_look_up_console(
    services: Services, code: str, size: tuple[int, int]
) -> None:
    with language(code):
        app = ConsoleApp(services, agent_name="walkin", now=frozen_now)  # branch staff
        async with running(app, size) as pilot:
            await settle(pilot)
            await open_first(pilot, "C00000001")
            app.clear_notifications()
            await pilot.pause()
            check(app, code)
            await pilot.press("ctrl+f")
            await settle(pilot)
            check(app, code)


class SupervisorHost(App[None]):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    def on_mount(self) -> None:
        self.push_screen(make_supervisor_screen(self.services, "sara"))


async def _until(pilot: Pilot[None], condition: object) -> None:
    for _ in range(100):
        if callable(condition) and condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("never happened")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("code", ["es", "en"])
async def test_the_supervisor_queue_team_review_and_rules(
    services: Services, code: str, size: tuple[int, int]
) -> None:
    from core.calls.metrics import DEFINITIONS
    from core.i18n import words

    with language(code):
        definitions = tuple(words(text) for text in DEFINITIONS.values())
        app = SupervisorHost(services)
        async with app.run_test(size=size) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
            await _until(pilot, lambda: app.screen.loads > 0)  # type: ignore[attr-defined]
            check(app, code)  # the queue
            await pilot.press("f6")
            await pilot.pause()
            check(app, code)  # the team
            await pilot.press("f7")
            await _until(pilot, lambda: isinstance(app.screen, CallReviewScreen))
            await pilot.pause(0.2)
            check(app, code)
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
            await pilot.press("f9")
            await _until(pilot, lambda: isinstance(app.screen, RulesScreen))
            await pilot.pause(0.2)
            check(app, code)
            assert definitions  # core's definitions are core's catalog's to translate


def test_keys_do_not_depend_on_the_language() -> None:
    from console.keymap import KEYMAP
    from console.textual_words import translated

    for scope in KEYMAP.values():
        for binding in scope.bindings:
            with using("es"):
                spanish = translated(binding)
            assert (spanish.key, spanish.action, spanish.id) == (
                binding.key,
                binding.action,
                binding.id,
            )
            assert spanish.description != binding.description or binding.description in {
                "Supervisor",
                "Chat",
                "Web",
            }


async def test_the_command_palette_speaks_spanish(services: Services) -> None:
    from textual.command import CommandInput

    from console.screens.agent_commands import AgentCommands

    with language("es"):
        app = ConsoleApp(services, agent_name="maria", now=frozen_now)
        async with running(app, (120, 40)) as pilot:
            await settle(pilot)
            names = {name for name, *_ in AgentCommands(app.agent_screen)._commands()}
            assert "Atender" in names and "Take call" not in names
            titles = {command.title for command in app.get_system_commands(app.screen)}
            assert {"Tema", "Salir", "Teclas", "Captura", "Ayuda"} <= titles, titles
            await pilot.press("ctrl+p")
            await settle(pilot)
            field = app.screen.query_one(CommandInput)
            assert field.placeholder == "Buscar comandos…"
            await pilot.press(*"zzqqxx")
            await pilot.pause(1.0)  # Textual waits a moment before it says there is nothing
            await settle(pilot)
            text = screen_text(app)
            assert "Sin coincidencias" in text and "No matches" not in text, text
            await pilot.press("escape")
            await settle(pilot)
            check(app, "es")  # the footer's keys after the palette
