"""`frontline privacy export CUSTOMER [--json]` and `frontline privacy erase CUSTOMER --reason`.

A customer's rights of access, portability and erasure (GDPR articles 15, 20 and 17), for
supervisors and the machine's administrators; both are audited. docs/privacy.md says what
erasure keeps.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from console.commands.i18n import N_, _
from core.config import Settings

if TYPE_CHECKING:
    from core.services import Services


async def customer_id_of(services: Services, customer: str) -> int:
    """The database id of a customer given by number (C00012345) or by id (12345)."""
    from core.services import CustomerNotFound

    text = customer.strip()
    try:
        if text.isdigit():
            found = await services.customers.get(int(text))
        else:
            found = await services.customers.by_external_id(text.upper())
    except CustomerNotFound as error:
        raise click.ClickException(str(error)) from None
    assert found.id is not None
    return found.id


_KINDS = {
    "contact points": N_("contact points"), "interactions": N_("interactions"),
    "calls": N_("calls"), "call events": N_("call events"), "drafts": N_("drafts"),
    "field history": N_("field history"), "merges": N_("merges"),
    "nps comments": N_("nps comments"),
}  # fmt: skip
"""What `erase` changed, by kind (core's keys), as a person reads it."""


@click.group()
def privacy() -> None:
    """A customer's data, whole (export), or erased."""


@privacy.command()
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True, help=N_("One JSON document (default: readable)."))
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help=N_("Write to this file (owner-only).")
)
@click.pass_obj
def export(settings: Settings, customer: str, as_json: bool, output: str | None) -> None:
    """Everything held about CUSTOMER, from every table that refers to them."""
    from console.commands.agents import run_as_supervisor

    async def work(services: Services, actor: str) -> dict[str, Any]:
        cid = await customer_id_of(services, customer)
        return await services.privacy.export(actor, cid, settings.who.place)

    held = run_as_supervisor(settings, _("export a customer's data"), work)
    text = json.dumps(held, ensure_ascii=False, indent=None if as_json else 2)
    if output:
        _write_private(output, text + "\n")
        click.echo(_("wrote {file}").format(file=output), err=True)
    else:
        click.echo(text)


@privacy.command()
@click.argument("customer")
@click.option("--reason", required=True, help=N_("Why (the customer's request, its reference)."))
@click.option("--yes", is_flag=True, help=N_("Do not ask for confirmation."))
@click.pass_obj
def erase(settings: Settings, customer: str, reason: str, yes: bool) -> None:
    """Remove or anonymise CUSTOMER's personal data everywhere; figures stay, anonymous."""
    from console.commands.agents import run_as_supervisor
    from core.privacy.service import ReasonRequired, check_reason

    try:
        check_reason(reason)
    except ReasonRequired as missing:
        raise click.UsageError(str(missing)) from None
    if not yes:
        click.confirm(
            _("Erase the personal data of {customer}? This cannot be undone").format(
                customer=customer
            ),
            abort=True,
        )

    async def work(services: Services, actor: str) -> dict[str, int]:
        cid = await customer_id_of(services, customer)
        return await services.privacy.erase(actor, cid, reason, settings.who.place)

    counts = run_as_supervisor(settings, _("erase a customer's data"), work)
    changed = ", ".join(f"{_(_KINDS.get(kind, kind))}: {n}" for kind, n in counts.items() if n)
    click.echo(
        _("erased {customer} ({changed})").format(customer=customer, changed=changed)
        if changed
        else _("erased {customer}").format(customer=customer)
    )


def _write_private(path: str, text: str) -> None:
    import os

    # Created readable by its owner only: an export is the whole of a person's record.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
