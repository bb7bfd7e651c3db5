"""`frontline offers CUSTOMER [--reason R] [--json] [--record]`: the offers for a customer now."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

import click

from console.commands.i18n import N_, _
from core.config import Settings
from core.i18n.formats import format_amount, format_percent

if TYPE_CHECKING:
    from core.services import Services


@click.command()
@click.argument("customer")
@click.option("--reason", default="", help=N_("The call reason the conditions see."))
@click.option("--json", "as_json", is_flag=True, help=N_("The offers and explanations as JSON."))
@click.option(
    "--record",
    is_flag=True,
    help=N_("Record the offers as shown (offer_presentation rows); default: a preview."),
)
@click.pass_obj
def offers(settings: Settings, customer: str, reason: str, as_json: bool, record: bool) -> None:
    """The best offers for CUSTOMER (a customer number such as C00012345) now, with why.

    By default nothing is recorded: this is a preview, and it does not count towards the
    impression caps or the learnt acceptance rates. --record stores them as shown.
    """
    from core.services import CustomerNotFound, open_services

    async def run() -> dict[str, Any]:
        async with open_services(settings) as services:
            try:
                found = await services.customers.by_external_id(customer.strip().upper())
            except CustomerNotFound as error:
                raise click.ClickException(str(error)) from None
            assert found.id is not None
            await _audit_view(services, settings, found.id, reason)
            service = services.offers
            for problem in service.store.errors:
                click.echo(_("warning: {problem}").format(problem=problem), err=True)
            proposals = await service.best_offers(found.id, reason, record=record)
            return {
                "customer": found.external_id,
                "rules_version": service.store.rules.version,
                "reason": reason,
                "recorded": record,
                "offers": [
                    {
                        "presentation_id": p.presentation_id,
                        "offer_id": p.offer_id,
                        "title": p.title,
                        "kind": p.kind,
                        "script": p.script,
                        "value": p.value,
                        "rate": round(p.rate, 4),
                        "score": round(p.score, 2),
                        "rules_version": p.rules_version,
                        "explanation": [
                            {
                                "clause": c.name,
                                "expression": c.expression,
                                "passed": c.passed,
                                "seen": c.seen,
                            }
                            for c in p.explanation
                        ],
                    }
                    for p in proposals
                ],
            }

    result = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if not result["offers"]:
        click.echo(_("no offer for {customer} now").format(customer=result["customer"]))
        sys.exit(0)
    for number, offer in enumerate(result["offers"], start=1):
        click.echo(
            f"{number}. {offer['title']}  "
            + _("(value {value}, rate {rate})").format(
                value=format_amount(offer["value"]),
                rate=format_percent(offer["rate"]),
            )
        )
        click.echo(f"   {offer['script']}")
        for clause in offer["explanation"]:
            mark = "ok  " if clause["passed"] else "FAIL"
            click.echo(f"   {mark} {clause['clause']}: {clause['expression']}  [{clause['seen']}]")


async def _audit_view(
    services: Services, settings: Settings, customer_id: int, reason: str
) -> None:
    """Offers are worked out from the customer's whole record: that is opening it."""
    from core.models import Role
    from core.privacy.access import AccessDenied, require
    from core.services.audit import AuditAction

    who = settings.who
    try:
        await require(services.agents, who, Role.AGENT, _("see a customer's offers"))
    except AccessDenied as refused:
        raise click.ClickException(str(refused)) from None
    detail = f"offers; reason={reason!r}" if reason else "offers"
    await services.audit.record(who.name, AuditAction.VIEW, customer_id, detail, who.place)
