"""`frontline audit [--customer ID] [--actor NAME] [--since DATE] [--json]`: who saw what.

Supervisors (and the machine's administrators) only: the trail itself says who looked at whom.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from console.commands.i18n import N_, _
from core.config import Settings
from core.i18n.formats import format_timestamp

if TYPE_CHECKING:
    from core.services import Services


def parse_since(text: str) -> datetime:
    """A date (local midnight) or an ISO date-time as an aware moment."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            _("expected YYYY-MM-DD or an ISO date-time, got {text!r}").format(text=text)
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the user's local time
    return moment.astimezone(UTC)


@click.command()
@click.option("--customer", metavar="ID", help=N_("Only about this customer (number or id)."))
@click.option("--actor", metavar="NAME", help=N_("Only by this person."))
@click.option("--since", metavar="DATE", help=N_("Only from this date (YYYY-MM-DD) or moment on."))
@click.option("--limit", default=1000, show_default=True, help=N_("At most this many events."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the events as JSON."))
@click.pass_obj
def audit(
    settings: Settings,
    customer: str | None,
    actor: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Who looked up, searched, opened, revealed, exported, changed or erased whom."""
    from console.commands.agents import run_as_supervisor
    from console.commands.privacy import customer_id_of

    moment = parse_since(since) if since else None

    async def work(services: Services, reader: str) -> list[dict[str, Any]]:
        cid = await customer_id_of(services, customer) if customer else None
        events = await services.audit.find(customer_id=cid, actor=actor, since=moment, limit=limit)
        return [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "customer_id": e.customer_id,
                "detail": e.detail,
                "place": e.place,
            }
            for e in events
        ]

    found = run_as_supervisor(settings, "read the audit trail", work)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    from console.safe_text import clean

    for event in found:
        when = format_timestamp(datetime.fromisoformat(event["at"]).astimezone())
        who = f"{event['actor']}@{event['place']}" if event["place"] else event["actor"]
        customer_text = str(event["customer_id"] or "-")
        click.echo(
            "  ".join(
                clean(part) for part in (when, who, event["action"], customer_text, event["detail"])
            )
        )
