"""Start the console: settings -> database (migrated when new) -> services -> app."""

from __future__ import annotations

import asyncio

import click

from console.context import CliContext
from core.db import current_revision, head_revision, make_engine, upgrade_database


async def _prepare_database(url: str) -> str | None:
    """Migrate a new database; return a message when an existing one is out of date."""
    engine = make_engine(url)
    try:
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    if revision is None:
        await asyncio.to_thread(upgrade_database, url)
        return None
    if revision != head_revision():
        return f"the database is at revision {revision}; run `frontline db upgrade` first"
    return None


def open_console(obj: CliContext, caller: str | None = None) -> int:
    """Run the console until the agent quits; the exit status for the shell."""
    from console.app import ConsoleApp
    from core.services import make_services

    try:
        problem = asyncio.run(_prepare_database(obj.database_url))
    except Exception as error:  # noqa: BLE001 - a clear message beats a traceback here
        raise click.ClickException(
            f"cannot open the database {obj.display_database_url}: {error}"
        ) from error
    if problem:
        raise click.ClickException(problem)
    services = make_services(obj.settings)
    app = ConsoleApp(services, agent_name=obj.settings.agent_name, caller=caller)
    app.run()
    return app.return_code or 0
