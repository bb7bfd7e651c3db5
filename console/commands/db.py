"""`frontline db upgrade`: apply the schema migrations."""

from __future__ import annotations

import click

from console.context import CliContext
from core.db import head_revision, upgrade_database


@click.group()
def db() -> None:
    """Database schema management."""


@db.command()
@click.pass_obj
def upgrade(obj: CliContext) -> None:
    """Apply every pending migration to the configured database."""
    try:
        upgrade_database(obj.database_url)
    except Exception as error:  # noqa: BLE001 - say what failed and where, then stop
        raise click.ClickException(
            f"could not migrate {obj.display_database_url}: {error}"
        ) from error
    click.echo(f"database at revision {head_revision()}: {obj.display_database_url}")
