"""`frontline offers CUSTOMER [--reason R] [--json] [--record]`: the offers for a customer now."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from console.context import CliContext


@click.command()
@click.argument("customer")
@click.option("--reason", default="", help="The call reason the conditions see.")
@click.option("--json", "as_json", is_flag=True, help="The offers and explanations as JSON.")
@click.option(
    "--record",
    is_flag=True,
    help="Record the offers as shown (offer_presentation rows); default: a preview.",
)
@click.pass_obj
def offers(obj: CliContext, customer: str, reason: str, as_json: bool, record: bool) -> None:
    """The best offers for CUSTOMER (a customer number such as C00012345) now, with why.

    By default nothing is recorded: this is a preview, and it does not count towards the
    impression caps or the learnt acceptance rates. --record stores them as shown.
    """
    from core.db import make_sessions, null_pool_engine
    from core.rules.service import OfferService
    from core.services.customers import CustomerNotFound, CustomerService

    async def run() -> dict[str, Any]:
        engine = null_pool_engine(obj.database_url)
        try:
            sessions = make_sessions(engine)
            try:
                found = await CustomerService(sessions).by_external_id(customer.strip().upper())
            except CustomerNotFound as error:
                raise click.ClickException(str(error)) from None
            assert found.id is not None
            service = OfferService(sessions, obj.settings)
            for error in service.store.errors:
                click.echo(f"warning: {error}", err=True)
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
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if not result["offers"]:
        click.echo(f"no offer for {result['customer']} now")
        sys.exit(0)
    for number, offer in enumerate(result["offers"], start=1):
        click.echo(
            f"{number}. {offer['title']}  (value {offer['value']:,.2f}, rate {offer['rate']:.1%})"
        )
        click.echo(f"   {offer['script']}")
        for clause in offer["explanation"]:
            mark = "ok  " if clause["passed"] else "FAIL"
            click.echo(f"   {mark} {clause['clause']}: {clause['expression']}  [{clause['seen']}]")
