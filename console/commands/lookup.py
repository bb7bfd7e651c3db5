"""`frontline lookup QUERY [--json] [--reveal --reason TEXT]`: a masked card for branch staff.

The best match as a compact card (name, id, tier, masked phone, email and birth date, the
last five interactions) only when the look-up is confident: the best hit stands out
(`is_ambiguous`) and, for a name, every typed word matches a word of that name, at most one
of them with a typo (core.search.rank.sure). Otherwise the short list: a loose match is never
presented as the customer (`evil name rojo` does not print Luz María Villanueva Rojas's card).
`--reveal` shows the details unmasked, and only with a reason, which the audit trail keeps.
Plain text when the output is not a terminal; exit status 1 when nothing is found. Every
look-up is written to the audit trail, with the customers a short list showed. Loads neither
Textual nor the console's services, so it starts fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

import click

from console.commands.i18n import N_, _
from console.widgets import local_time
from core.config import Settings
from core.errors import plain_reason
from core.i18n.codes import codes
from core.i18n.formats import format_datetime, format_number
from core.search.rank import sure

if TYPE_CHECKING:
    from core.identity import Identity
    from core.services import Services

SHORT_LIST = 5


def is_confident(query: str, hits: list[Any]) -> bool:
    """Whether the best hit may be shown as the customer: it stands out, and an id, a phone
    or an email matched, or a name that answers every typed word (see the module's doc)."""
    if not hits or is_ambiguous(hits):
        return False
    return hits[0].matched != "name" or sure(query, hits[0].name)


def is_ambiguous(hits: list[Any]) -> bool:
    """More than one hit and the best does not stand out (namesakes, shared numbers).

    A search score's hundreds say what kind of match it was (id, whole phone, exact email;
    for names, words matched less typo penalty); closeness only fills the units. The best hit
    stands out when no other hit has as good a kind of match.
    """
    return len(hits) > 1 and hits[1].score // 100 >= hits[0].score // 100


@click.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the card or list as JSON."))
@click.option("--reveal", is_flag=True, help=N_("Show phone, email and birth date unmasked."))
@click.option("--reason", default="", help=N_("Why they must be revealed (required, audited)."))
@click.pass_obj
def lookup(settings: Settings, query: str, as_json: bool, reveal: bool, reason: str) -> None:
    """Look a customer up: a masked card, or the short list when ambiguous."""
    from core.privacy.service import ReasonRequired, check_reason

    if reveal:
        try:
            check_reason(reason)
        except ReasonRequired as missing:
            raise click.UsageError(
                _("--reveal needs a reason: {problem}").format(problem=missing)
            ) from None
    try:
        payload = asyncio.run(_lookup(settings, query, reason if reveal else None))
    except Exception as error:  # noqa: BLE001 - a clear message, not a traceback, over SSH
        raise click.ClickException(
            _("cannot look up in {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, default=str))
    elif payload["results"]:
        _print(payload)
    else:
        click.echo(_("no customer matches {query!r}").format(query=query), err=True)
    if not payload["results"]:
        sys.exit(1)


async def _lookup(settings: Settings, query: str, reveal_reason: str | None) -> dict[str, Any]:
    from dataclasses import asdict

    from core.services import open_services
    from core.services.audit import AuditAction, Entry, listed

    who = settings.who
    async with open_services(settings) as services:
        found = await services.search.search(query, SHORT_LIST + 1)
        hits, more = found[:SHORT_LIST], len(found) > SHORT_LIST
        card = None
        if is_confident(query, found):
            card = await services.lookups.card(hits[0].customer_id)
        if card is not None:
            detail = f"query={query!r}; shown=card"
            entries = [Entry(who.name, AuditAction.LOOKUP, card.customer_id, detail, who.place)]
        else:
            ids = [hit.customer_id for hit in hits]
            entries = listed(who.name, AuditAction.LOOKUP, query, ids, who.place)
        await services.audit.record_many(entries)
        shown = asdict(card) if card is not None else None
        if card is not None and shown is not None:
            shown.update(await _contact_details(services, who, card.customer_id, reveal_reason))
    return {"q": query, "card": shown, "results": [asdict(hit) for hit in hits], "more": more}


async def _contact_details(
    services: Services, who: Identity, customer_id: int, reveal_reason: str | None
) -> dict[str, Any]:
    """The card's phone, email and birth date: masked, or revealed with the reason audited."""
    from core.privacy import mask

    if reveal_reason is None:
        held = await services.privacy.details(customer_id)
        return {
            "phone": mask.mask_phone(held.phone) if held.phone else "",
            "email": mask.mask_email(held.email) if held.email else "",
            "birth_date": mask.mask_birth_date(held.birth_date),
            "revealed": False,
        }
    held = await services.privacy.reveal(who.name, customer_id, reveal_reason, who.place)
    return {
        "phone": held.phone,
        "email": held.email,
        "birth_date": mask.show_birth_date(held.birth_date),
        "revealed": True,
    }


def _lines(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) lines of the card or the list; the text is raw, cleaned when printed."""
    card = payload["card"]
    lines: list[tuple[str, str]] = []
    if card is None:
        count = len(payload["results"])
        if payload.get("more"):
            heading = _("more than {count} customers match; be more specific:")
        else:
            heading = _.ngettext(
                "{count} customer matches; be more specific:",
                "{count} customers match; be more specific:",
                count,
            )
        lines.append(("bold", heading.format(count=count)))
        for hit in payload["results"]:
            facts = [hit["external_id"], hit["name"], hit["city"]]
            facts += [
                str(hit["birth_year"] or ""),
                f"…{hit['phone_tail']}" if hit["phone_tail"] else "",
            ]
            facts.append(hit["tier"])
            lines.append(("", "  ".join(fact for fact in facts if fact)))
        return lines
    tier = card["tier"] or _("no loyalty account")
    if card["points"] is not None:
        tier += " · " + _("{points} pts").format(points=format_number(card["points"]))
    lines.append(("bold", f"{card['name']}  {card['external_id']}"))
    labelled = [
        (_(label), value)
        for label, value in (
            (N_("City"), card["city"]),
            (N_("Tier"), tier),
            (N_("Phone"), card["phone"]),
            (N_("Email"), card["email"]),
            (N_("Born"), card.get("birth_date", "")),
        )
    ]
    width = max(len(label) for label, _value in labelled)
    for label, value in labelled:
        if value:
            lines.append(("", f"{label:<{width}} {value}"))
    if card["recent"]:
        lines.append(("bold", _("Latest contacts")))
        for item in card["recent"]:
            facts = [
                format_datetime(local_time.local(item["at"])),
                f"{item['channel']}/{item['direction']}",
                item["subject"],
                codes().label("outcome", item["outcome"]),
            ]
            lines.append(("", "  ".join(fact for fact in facts if fact)))
    else:
        lines.append(("dim", _("No contacts on record")))
    return lines


def _print(payload: dict[str, Any]) -> None:
    if not sys.stdout.isatty():
        from console.safe_text import clean

        for _style, line in _lines(payload):
            click.echo(clean(line))
        return
    from rich.console import Console

    from console.safe_text import safe_text

    console = Console(highlight=False)
    for style, line in _lines(payload):
        console.print(safe_text(line, style))
