"""`frontline search QUERY [--limit N] [--json]`, `--batch` and `--reindex`.

`--json` prints {"q": ..., "results": [{"external_id", "name", "score", ...}], "ms": ...}
where `ms` is the time the search itself took. `--batch` reads JSON lines {"q": ...} and
writes one such line per query, in order, from one process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TextIO

import click

from console.commands.i18n import N_, _
from core.config import Settings
from core.errors import plain_reason
from core.i18n.formats import format_number

if TYPE_CHECKING:
    from core.identity import Identity
    from core.search.service import SearchService
    from core.services import Services
    from core.services.audit import AuditBatch

DATABASE_ERROR = N_("cannot search {url}: {error} (is it set up? try `frontline db upgrade`)")


def result_json(query: str, hits: list[Any], ms: float) -> dict[str, Any]:
    """The JSON form of one search (the contract scripts and benchmarks read)."""
    return {"q": query, "results": [asdict(hit) for hit in hits], "ms": round(ms, 3)}


@click.command()
@click.argument("query", required=False)
@click.option("--limit", default=10, show_default=True, help=N_("At most this many results."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the results as JSON."))
@click.option("--batch", is_flag=True, help=N_('Read JSON lines {"q": ...} on stdin.'))
@click.option("--reindex", is_flag=True, help=N_("Rebuild the search index."))
@click.pass_obj
def search(
    settings: Settings, query: str | None, limit: int, as_json: bool, batch: bool, reindex: bool
) -> None:
    """Find customers by name, phone number, email or customer number."""
    if reindex:
        asyncio.run(_reindex(settings))
        return
    if batch:
        asyncio.run(_batch(settings, sys.stdin, sys.stdout, limit))
        return
    if not query or not query.strip():
        raise click.UsageError(_("say what to search for, or use --batch or --reindex"))
    payload = asyncio.run(_one(settings, query, limit))
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    _print_plain(payload)


async def _allowed(services: Services, who: Identity) -> None:
    """Branch staff may only look up (masked); searching lists customers: agents and up."""
    from core.models import Role
    from core.privacy.access import AccessDenied, require

    try:
        await require(services.agents, who, Role.AGENT, _("search customers"))
    except AccessDenied as refused:
        raise click.ClickException(str(refused)) from None


async def _one(settings: Settings, query: str, limit: int) -> dict[str, Any]:
    from core.services import open_services
    from core.services.audit import AuditAction, listed

    who = settings.who
    try:
        async with open_services(settings) as services:
            await _allowed(services, who)
            hits = await services.search.search(query, limit)
            ids = [hit.customer_id for hit in hits]
            await services.audit.record_many(
                listed(who.name, AuditAction.SEARCH, query, ids, who.place)
            )
            return result_json(query, hits, services.search.last_ms)
    except click.ClickException:
        raise
    except Exception as error:  # noqa: BLE001 - say which database and stop
        raise click.ClickException(
            _(DATABASE_ERROR).format(
                url=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error


async def _batch(settings: Settings, lines: TextIO, out: TextIO, limit: int) -> None:
    from core.services import open_services
    from core.services.audit import AuditBatch

    try:
        async with open_services(settings, pooled=True) as services:
            await _allowed(services, settings.who)
            trail = AuditBatch(services.audit)
            try:
                await _answer_lines(services.search, lines, out, limit, trail, settings.who)
            finally:
                await trail.flush()
    except click.ClickException:
        raise
    except Exception as error:  # noqa: BLE001
        raise click.ClickException(
            _(DATABASE_ERROR).format(
                url=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error


async def _answer_lines(
    service: SearchService,
    lines: TextIO,
    out: TextIO,
    limit: int,
    trail: AuditBatch,
    who: Identity,
) -> None:
    """One JSON line out per JSON line in, in order; a malformed line gets its error.

    Each answer's listed customers go to the audit trail, a batch at a time.
    """
    from core.services.audit import AuditAction, listed

    for line in lines:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            query = request["q"] if isinstance(request, dict) else None
            if not isinstance(query, str):
                raise ValueError('each line must be an object with a text "q"')
            wanted = int(request.get("limit", limit))
        except (ValueError, TypeError, KeyError) as error:
            out.write(json.dumps({"q": None, "error": str(error), "results": []}) + "\n")
            out.flush()
            continue
        hits = await service.search(query, wanted)
        ids = [hit.customer_id for hit in hits]
        await trail.add(listed(who.name, AuditAction.SEARCH, query, ids, who.place))
        out.write(json.dumps(result_json(query, hits, service.last_ms), ensure_ascii=False))
        out.write("\n")
        out.flush()


async def _reindex(settings: Settings) -> None:
    from console.commands.progress import stage_progress
    from core.search.indexer import rebuild_index
    from core.services import open_services

    started = time.perf_counter()
    try:
        async with open_services(settings) as services:
            with stage_progress() as progress:
                count = await rebuild_index(
                    services.engine,
                    lambda done, total: progress("search index", done, total),
                    lock_wait=settings.reindex_lock_wait_seconds,
                )
    except Exception as error:  # noqa: BLE001
        raise click.ClickException(
            _("could not rebuild the search index of {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error
    seconds = format_number(round(time.perf_counter() - started, 1))
    click.echo(
        _("indexed {count} customers in {seconds} s").format(
            count=format_number(count), seconds=seconds
        )
    )


def _print_plain(payload: dict[str, Any]) -> None:
    from console.safe_text import clean

    results = payload["results"]
    if not results:
        click.echo(_("no customer matches {query}").format(query=clean(payload["q"])), err=True)
        sys.exit(1)
    for hit in results:
        born = str(hit["birth_year"] or "")
        tail = f"…{hit['phone_tail']}" if hit["phone_tail"] else ""
        fields = (
            hit["external_id"],
            hit["name"],
            hit["city"],
            born,
            tail,
            hit["tier"],
            f"{hit['matched']} {hit['score']:g}",
        )
        click.echo("  ".join(clean(field) for field in fields if field))
