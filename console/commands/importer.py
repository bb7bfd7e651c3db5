"""`frontline import KIND FILE.csv`: customers, interactions or transactions from a spreadsheet.

Exit status: 0 nothing rejected, 1 some rows rejected (the good ones are imported), 2 the file
could not be read at all (nothing imported), 3 the database could not be reached.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from console.commands.i18n import N_, _
from console.commands.progress import stage_progress
from core.config import Settings
from core.db import upgrade_database
from core.errors import plain_reason
from core.i18n.formats import format_number
from core.importing.runner import (
    KINDS,
    ImportInterrupted,
    ImportResult,
    UnreadableFile,
    default_rejects_path,
    import_file,
)

SHOWN_REJECTS = 10


async def _run(
    settings: Settings,
    kind: str,
    path: Path,
    rejects: Path | None,
    dry_run: bool,
    zone: ZoneInfo | None,
) -> ImportResult:
    from core.services import open_services

    async with open_services(settings, pooled=True) as services:
        with stage_progress() as progress:
            result = await import_file(
                services.engine,
                kind,
                path,
                rejects_path=rejects,
                dry_run=dry_run,
                tz=zone,
                progress=lambda done, total: progress("importing", done, total),
                index_progress=lambda done, total: progress("search index", done, total),
                analytics=services.analytics if kind == "transactions" else None,
                lock_wait=lambda said: click.echo(said, err=True),
            )
        if kind == "customers" and result.imported and not dry_run:
            # Likely duplicates with an imported customer: a count here, the pairs listed by
            # `frontline customers duplicates --since` (an agent's command, audited).
            if result.imported > DUPLICATE_COUNT_LIMIT:
                return result  # the summary says how to list them
            try:
                result.likely_duplicates = await services.record.duplicates_since(result.started)
            except Exception as error:  # noqa: BLE001 - the import is done; say so, go on
                click.echo(
                    _("likely duplicates not checked: {error}").format(error=error), err=True
                )
        return result


DUPLICATE_COUNT_LIMIT = 100_000
"""Above this many imported customers the summary does not count likely duplicates: at a
million (an initial load) the count alone took two minutes, longer than the import."""


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the summary as JSON."))
@click.option("--dry-run", is_flag=True, help=N_("Check every row; write nothing."))
@click.option(
    "--rejects",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help=N_("Where rejected rows go (default: FILE.rejects.csv next to the file)."),
)
@click.pass_obj
def import_(
    settings: Settings,
    kind: str,
    file: Path,
    as_json: bool,
    dry_run: bool,
    rejects: Path | None,
) -> None:
    """Import KIND (customers, interactions or transactions) from FILE.csv.

    Rows are upserted by external id, so importing the same file again is harmless. Bad rows
    are reported with their line number and written, with the reason, to the rejects file.
    Exit status: 0 all imported, 1 some rows rejected, 2 file unreadable, 3 database error.
    """
    zone = ZoneInfo(settings.timezone) if settings.timezone else None  # checked at start
    if rejects is None and not dry_run:
        rejects = default_rejects_path(file, settings.data_dir)
    if rejects is not None and not _can_write(rejects):
        click.echo(
            _("cannot import: cannot write the rejects file {path}").format(path=rejects), err=True
        )
        sys.exit(2)
    try:
        upgrade_database(settings.resolved_database_url)
        result = asyncio.run(_run(settings, kind, file, rejects, dry_run, zone))
    except UnreadableFile as error:
        click.echo(_("cannot import: {error}").format(error=error), err=True)
        if as_json:
            click.echo(json.dumps({"imported": 0, "rejected": 0, "rejects_file": None}))
        sys.exit(2)
    except ImportInterrupted as interrupted:
        click.echo(
            _("import failed: {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(interrupted.error, settings.resolved_database_url),
            ),
            err=True,
        )
        click.echo(_committed(interrupted.result, file, dry_run), err=True)
        if as_json:
            _print_json(interrupted.result)
        sys.exit(3)
    except Exception as error:  # noqa: BLE001 - the database, not the file, failed
        click.echo(
            _("import failed: {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            ),
            err=True,
        )
        click.echo(_("nothing was imported"), err=True)
        sys.exit(3)
    for reject in result.rejects[:SHOWN_REJECTS]:
        click.echo(f"{file}:{reject.line}: {reject.reason}", err=True)
    if result.rejected > SHOWN_REJECTS:
        more = format_number(result.rejected - SHOWN_REJECTS)
        click.echo(_("… and {count} more rejected rows").format(count=more), err=True)
    where = str(result.rejects_file) if result.rejects_file else None
    if as_json:
        _print_json(result)
    else:
        line = _("imported {imported}, rejected {rejected}").format(
            imported=format_number(result.imported), rejected=format_number(result.rejected)
        )
        if where:
            line += _(", rejects in {path}").format(path=where)
        if dry_run:
            line += _(" (dry run: nothing was written)")
        click.echo(line)
    since = result.started.isoformat(timespec="seconds")
    if result.likely_duplicates:  # on stderr with --json, whose form is exactly the summary
        click.echo(
            _(
                "likely duplicates: {n} pairs with an imported customer (the same phone or"
                " email, or a close name and the same birth date); list them: frontline"
                " customers duplicates --since {since}"
            ).format(n=format_number(result.likely_duplicates), since=since),
            err=as_json,
        )
    elif kind == "customers" and not dry_run and result.imported > DUPLICATE_COUNT_LIMIT:
        click.echo(
            _(
                "likely duplicates not counted for an import this large ({n} customers: it"
                " would take minutes); list them: frontline customers duplicates --since {since}"
            ).format(n=format_number(result.imported), since=since),
            err=as_json,
        )
    sys.exit(1 if result.rejected else 0)


def _print_json(result: ImportResult) -> None:
    where = str(result.rejects_file) if result.rejects_file else None
    summary = {"imported": result.imported, "rejected": result.rejected, "rejects_file": where}
    click.echo(json.dumps(summary))


def _committed(result: ImportResult, file: Path, dry_run: bool) -> str:
    """What a failed import leaves in the database, so nobody has to guess."""
    if dry_run or not result.imported:
        return _("nothing was imported")
    return _(
        "{count} rows up to {file}:{line} were committed and stay imported; the rest of the "
        "file was not imported (importing the whole file again is harmless: rows are upserted)"
    ).format(count=format_number(result.imported), file=file, line=result.committed_through)


def _can_write(path: Path) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    target = path if path.exists() else path.parent
    return os.access(target, os.W_OK)
