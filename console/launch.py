"""Start the console: the screen at once; the database check and the services in the background.

The agent can type as soon as the screen is drawn: the heavy imports (database layer,
analytics, rules) and the database check (migrated when new, refused when out of date) run
in a thread meanwhile (ConsoleApp._load), and the search answers once they are done.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.config import Settings
    from core.services import Services


class DatabaseProblem(Exception):
    """The database cannot be used as it is (unreachable, or an older schema)."""


def load_services(settings: Settings) -> Services:
    """Check (or create) the database and build the services. Blocking: run it in a thread."""
    try:
        from core.db import prepare_database

        problem = asyncio.run(prepare_database(settings.resolved_database_url))
    except Exception as error:  # noqa: BLE001 - a clear message beats a traceback here
        raise DatabaseProblem(
            f"cannot open the database {settings.display_database_url}: {error}"
        ) from error
    if problem:
        raise DatabaseProblem(problem)
    from core.services import make_services

    return make_services(settings)


def open_console(settings: Settings, caller: str | None = None) -> int:
    """Run the console until the agent quits; the exit status for the shell."""
    from console.app import ConsoleApp

    app = ConsoleApp(
        lambda: load_services(settings),
        agent_name=settings.who.name,  # the OS login or SSH key, never a typed name
        caller=caller,
        settings=settings,
    )
    app.run()
    return app.return_code or 0
