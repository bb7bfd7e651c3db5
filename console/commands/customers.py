"""`frontline customers duplicates|merge|unmerge|merges`: one person, one record.

`duplicates CUSTOMER [--json]` lists the likely duplicates (same phone or email, close name
and the same birth date) with what tells them apart (`duplicates [--since DATE]`: every
pair); `merge KEEP OTHER` moves everything of OTHER to KEEP (audited) and prints the merge's
number; `unmerge MERGE` undoes it; `merges CUSTOMER [--json]` lists the merges into a
customer. Agents and supervisors only (the role is checked in core.services.record).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from console.commands.i18n import N_, _
from core.config import Settings

if TYPE_CHECKING:
    from core.services import Services
    from core.services.duplicates import Duplicate

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    from core.privacy.access import AccessDenied
    from core.services import CustomerNotFound, open_services
    from core.services.record import MergeRefused

    async def run() -> T:
        async with open_services(settings) as services:
            return await work(services)

    try:
        return asyncio.run(run())
    except (AccessDenied, CustomerNotFound, MergeRefused, ValueError) as refused:
        raise click.ClickException(str(refused)) from None


@click.group()
def customers() -> None:
    """Likely duplicates of a customer, merged into one record (and undone)."""


@customers.command()
@click.argument("customer", required=False)
@click.option(
    "--since",
    metavar="DATE",
    help=N_("Without CUSTOMER: only pairs with a customer created or changed since (an import)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print them as JSON."))
@click.pass_obj
def duplicates(settings: Settings, customer: str | None, since: str | None, as_json: bool) -> None:
    """The likely duplicates of CUSTOMER (number or id), with what tells them apart.

    Without CUSTOMER: every likely duplicate pair in the database (or those with a customer
    imported or changed --since DATE).
    """
    from console.commands.privacy import customer_id_of

    if customer is None:
        _all_duplicates(settings, since, as_json)
        return
    if since:
        raise click.UsageError(_("--since lists every pair: give it without CUSTOMER"))

    async def work(services: Services) -> list[dict[str, Any]]:
        cid = await customer_id_of(services, customer)
        found = await services.record.duplicates(settings.who, cid)
        return [_duplicate(d) for d in found]

    found = _run(settings, work)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    from console.safe_text import clean

    if not found:
        click.echo(_("no likely duplicate of {customer}").format(customer=customer))
    for d in found:
        shared, differs = "; ".join(d["shared"]), "; ".join(d["differs"]) or _("nothing")
        line = _("{number}  {name}  shares {shared}; differs: {differs}").format(
            number=d["customer_number"], name=d["name"], shared=shared, differs=differs
        )
        click.echo(clean(line))


def _duplicate(d: Duplicate) -> dict[str, Any]:
    return {
        "customer_id": d.customer_id,
        "customer_number": d.external_id,
        "name": d.name,
        "shared": list(d.shared),
        "differs": list(d.differs),
    }


def _all_duplicates(settings: Settings, since: str | None, as_json: bool) -> None:
    from console.commands.audit import parse_since
    from console.safe_text import clean

    moment = parse_since(since) if since else None

    async def work(services: Services) -> list[dict[str, Any]]:
        pairs = await services.record.all_duplicates(settings.who, moment)
        return [
            {
                "customer_id": p.customer_id,
                "customer_number": p.external_id,
                "name": p.name,
                "duplicate": _duplicate(p.duplicate),
            }
            for p in pairs
        ]

    found = _run(settings, work)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    if not found:
        click.echo(
            _("no likely duplicates since {since}").format(since=since)
            if since
            else _("no likely duplicates")
        )
    for p in found:
        d = p["duplicate"]
        shared, differs = "; ".join(d["shared"]), "; ".join(d["differs"]) or _("nothing")
        pair = f"{p['customer_number']}  {p['name']}  ~  {d['customer_number']}  {d['name']}"
        line = _("{pair}  shares {shared}; differs: {differs}").format(
            pair=pair, shared=shared, differs=differs
        )
        click.echo(clean(line))
    if found:
        click.echo(
            _.ngettext(
                "{count} likely duplicate pair; merge it: frontline customers merge KEEP OTHER",
                "{count} likely duplicate pairs; merge one: frontline customers merge KEEP OTHER",
                len(found),
            ).format(count=len(found))
        )


@customers.command()
@click.argument("keep")
@click.argument("other")
@click.pass_obj
def merge(settings: Settings, keep: str, other: str) -> None:
    """Merge OTHER into KEEP: every contact point, interaction and call becomes KEEP's."""
    from console.commands.privacy import customer_id_of

    async def work(services: Services) -> tuple[int, str]:
        keep_id = await customer_id_of(services, keep)
        other_id = await customer_id_of(services, other)
        record = await services.record.merge(settings.who, keep_id, other_id)
        assert record.id is not None
        return record.id, record.merged_number

    merge_id, number = _run(settings, work)
    click.echo(
        _(
            "merged {number} into {keep} (merge {merge}; undo: frontline customers unmerge {merge})"
        ).format(number=number, keep=keep, merge=merge_id)
    )


@customers.command()
@click.argument("merge_id", type=int)
@click.pass_obj
def unmerge(settings: Settings, merge_id: int) -> None:
    """Undo merge MERGE_ID: the merged customer back with their rows."""

    async def work(services: Services) -> str:
        return (await services.record.undo_merge(settings.who, merge_id)).merged_number

    number = _run(settings, work)
    click.echo(_("undid merge {merge}: {number} is back").format(merge=merge_id, number=number))


@customers.command()
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True, help=N_("Print them as JSON."))
@click.pass_obj
def merges(settings: Settings, customer: str, as_json: bool) -> None:
    """The merges into CUSTOMER, newest first."""
    from console.commands.privacy import customer_id_of

    async def work(services: Services) -> list[dict[str, Any]]:
        cid = await customer_id_of(services, customer)
        return [
            {
                "merge": m.id,
                "merged_number": m.merged_number,
                "at": m.at.isoformat(),
                "actor": m.actor,
                "undone_at": m.undone_at.isoformat() if m.undone_at else None,
            }
            for m in await services.record.merges(settings.who, cid)
        ]

    found = _run(settings, work)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for m in found:
        undone = "  " + _("undone {at}").format(at=m["undone_at"]) if m["undone_at"] else ""
        click.echo(f"{m['merge']:>6}  {m['merged_number']}  {m['at']}  {m['actor']}{undone}")
