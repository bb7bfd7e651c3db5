"""`frontline api`: serve the HTTP API that phone systems call."""

from __future__ import annotations

import asyncio
import logging

import click

from console.commands.i18n import N_, _
from core.config import Settings
from core.db import prepare_database
from core.errors import plain_reason


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("Address to listen on."))
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--access-log/--no-access-log", default=False, help=N_("Log every request."))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help=N_(
        "Worker processes sharing the port (about one per CPU core); they share only the "
        "database, which keeps idempotency and the order of each call's events."
    ),
)
@click.pass_obj
def api(settings: Settings, host: str, port: int, access_log: bool, workers: int) -> None:
    """Serve the phone-system HTTP API (OpenAPI docs at /docs).

    Phone systems report call events (queued, offered, answered, held, unheld, ended,
    abandoned, completed) and look callers up by number. Every request needs
    `Authorization: Bearer TOKEN` with a token from FRONTLINE_API_TOKENS.
    """
    from core.api import create_app
    from core.api.logs import install as install_logging
    from core.api.serve import serve

    if not (settings.api_tokens or settings.api_event_tokens or settings.api_admin_tokens):
        raise click.ClickException(
            _(
                "no API tokens: set FRONTLINE_API_TOKENS (comma-separated), or"
                " FRONTLINE_API_EVENT_TOKENS and FRONTLINE_API_ADMIN_TOKENS, so that phone"
                " systems can authenticate"
            )
        )
    try:
        problem = asyncio.run(prepare_database(settings.resolved_database_url))
    except Exception as error:  # noqa: BLE001 - a clear message beats a traceback here
        raise click.ClickException(
            _("cannot open the database {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error
    if problem:
        raise click.ClickException(problem)
    click.echo(
        _("Frontline API on http://{host}:{port} (docs at /docs), database {database}").format(
            host=host, port=port, database=settings.display_database_url
        )
        + (_(", {n} workers").format(n=workers) if workers > 1 else "")
    )
    # Through a bounded queue and a writer thread: a log on a pipe nobody reads must not
    # stop the API (uvicorn's own handlers write to stderr from the event loop).
    serve(
        lambda: create_app(settings),
        host=host,
        port=port,
        workers=workers,
        setup=lambda: install_logging(logging.INFO if access_log else logging.WARNING),
        access_log=access_log,
        log_level="info" if access_log else "warning",
        log_config=None,
        backlog=4096,
    )
