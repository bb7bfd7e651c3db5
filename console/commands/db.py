"""`frontline db upgrade`: apply the schema migrations."""

from __future__ import annotations

import click

from console.commands.i18n import _
from core.config import Settings
from core.db import head_revision, upgrade_database
from core.errors import plain_reason


@click.group()
def db() -> None:
    """Database schema management."""


@db.command()
@click.pass_obj
def upgrade(settings: Settings) -> None:
    """Apply every pending migration to the configured database."""
    try:
        upgrade_database(settings.resolved_database_url)
    except Exception as error:  # noqa: BLE001 - say what failed and where, then stop
        raise click.ClickException(
            _("could not migrate {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error
    click.echo(
        _("database at revision {revision}: {database}").format(
            revision=head_revision(), database=settings.display_database_url
        )
    )
