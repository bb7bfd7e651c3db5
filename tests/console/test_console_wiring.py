"""How the console is put together: what it imports to draw, its one keymap, its messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from textual.widgets import TextArea

from console.app import ConsoleApp
from console.keymap import KEYMAP
from console.widgets.call_panel import CallPanel
from core.services import Services
from tests.console.conftest import running

CONSOLE = Path(__file__).resolve().parents[2] / "console"


def test_the_console_draws_before_the_database_layer_is_imported() -> None:
    # Of core, only the translations (core.i18n: the catalogs and the language) are needed
    # to draw; Babel's formats come with the first date shown.
    code = (
        "import sys, console.app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'sqlmodel', 'core', 'babel'} and m not in "
        "{'core', 'core.i18n', 'core.i18n.language'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_binding_is_in_the_keymap_with_a_unique_id_and_a_tooltip() -> None:
    bindings = [binding for scope in KEYMAP.values() for binding in scope.bindings]
    ids = [binding.id for binding in bindings]
    assert all(ids) and len(ids) == len(set(ids))
    assert all(binding.tooltip and binding.description for binding in bindings)
    outside = [
        path.relative_to(CONSOLE)
        for path in CONSOLE.rglob("*.py")
        if path.name != "keymap.py" and re.search(r"\bBinding\(", path.read_text("utf-8"))
    ]
    assert outside == []


async def test_a_burst_of_typing_reaches_the_screen_as_one_draft_that_holds_every_key(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        area = app.agent_screen.query_one("#notes", TextArea)
        before = len(pilot.messages)  # type: ignore[attr-defined]
        for char in "wants fibre":  # faster than the panel handles them
            area.insert(char)
        await pilot.pause()
        await pilot.pause()
        posted = pilot.messages[before:]  # type: ignore[attr-defined]
        edits = [m for m in posted if isinstance(m, CallPanel.Edited)]
        assert 0 < len(edits) < len("wants fibre")
        assert edits[-1].draft.notes == "wants fibre"
        keeper = app.agent_screen.keeper
        assert keeper.draft is not None and keeper.draft == edits[-1].draft
