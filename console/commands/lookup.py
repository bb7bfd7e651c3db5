"""`frontline lookup QUERY [--json]`: a masked customer card for branch staff over SSH.

The best match as a compact card (name, id, tier, masked phone and email, the last five
interactions), or the short list when the query is ambiguous. Plain text when the output is
not a terminal; exit status 1 when nothing is found. Every look-up is written to the audit
trail. Loads neither Textual nor the console's services, so it starts fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from console.widgets import local_time
from core.config import Settings

SHORT_LIST = 5


def is_ambiguous(hits: list[Any]) -> bool:
    """More than one hit and the best does not stand out (namesakes, shared numbers).

    A search score's hundreds say what kind of match it was (id, whole phone, exact email;
    for names, words matched less typo penalty); closeness only fills the units. The best hit
    stands out when no other hit has as good a kind of match.
    """
    return len(hits) > 1 and hits[1].score // 100 >= hits[0].score // 100


@click.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the card or list as JSON.")
@click.pass_obj
def lookup(settings: Settings, query: str, as_json: bool) -> None:
    """Look a customer up: a masked card, or the short list when ambiguous."""
    try:
        payload = asyncio.run(_lookup(settings, query))
    except Exception as error:  # noqa: BLE001 - a clear message, not a traceback, over SSH
        raise click.ClickException(
            f"cannot look up in {settings.display_database_url}: {error}"
        ) from error
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, default=str))
    elif payload["results"]:
        _print(payload)
    else:
        click.echo(f"no customer matches {query!r}", err=True)
    if not payload["results"]:
        sys.exit(1)


async def _lookup(settings: Settings, query: str) -> dict[str, Any]:
    from dataclasses import asdict

    from core.services import open_services

    async with open_services(settings) as services:
        found = await services.search.search(query, SHORT_LIST + 1)
        hits, more = found[:SHORT_LIST], len(found) > SHORT_LIST
        card = None
        if hits and not is_ambiguous(found):
            card = await services.lookups.card(hits[0].customer_id)
        if card is not None:
            shown, customer_id = "card", card.customer_id
        else:
            shown, customer_id = (f"list of {len(hits)}" if hits else "nothing"), None
        await services.lookups.record(settings.agent_name, query, customer_id, shown)
    return {
        "q": query,
        "card": asdict(card) if card is not None else None,
        "results": [asdict(hit) for hit in hits],
        "more": more,
    }


def _lines(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) lines of the card or the list; the text is raw, cleaned when printed."""
    card = payload["card"]
    lines: list[tuple[str, str]] = []
    if card is None:
        count = len(payload["results"])
        many = f"more than {count}" if payload.get("more") else str(count)
        lines.append(("bold", f"{many} customers match; be more specific:"))
        for hit in payload["results"]:
            facts = [hit["external_id"], hit["name"], hit["city"]]
            facts += [
                str(hit["birth_year"] or ""),
                f"…{hit['phone_tail']}" if hit["phone_tail"] else "",
            ]
            facts.append(hit["tier"])
            lines.append(("", "  ".join(fact for fact in facts if fact)))
        return lines
    tier = card["tier"] or "no loyalty account"
    if card["points"] is not None:
        tier += f" · {card['points']} pts"
    lines.append(("bold", f"{card['name']}  {card['external_id']}"))
    for label, value in (
        ("City", card["city"]),
        ("Tier", tier),
        ("Phone", card["phone"]),
        ("Email", card["email"]),
    ):
        if value:
            lines.append(("", f"{label:<6} {value}"))
    if card["recent"]:
        lines.append(("bold", "Latest contacts"))
        for item in card["recent"]:
            facts = [
                local_time.when(item["at"]),
                f"{item['channel']}/{item['direction']}",
                item["subject"],
                item["outcome"],
            ]
            lines.append(("", "  ".join(fact for fact in facts if fact)))
    else:
        lines.append(("dim", "No contacts on record"))
    return lines


def _print(payload: dict[str, Any]) -> None:
    if not sys.stdout.isatty():
        from console.safe_text import clean

        for _, line in _lines(payload):
            click.echo(clean(line))
        return
    from rich.console import Console

    from console.safe_text import safe_text

    console = Console(highlight=False)
    for style, line in _lines(payload):
        console.print(safe_text(line, style))
