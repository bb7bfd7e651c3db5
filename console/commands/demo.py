"""`frontline demo`: build a realistic demo database, then open the console on it."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime

import click

from console.commands.i18n import N_, _
from console.commands.progress import stage_progress
from core.config import Settings
from core.db import upgrade_database
from core.demo.build import DatabaseNotEmpty, build_demo, count_customers
from core.demo.generator import DemoPlan
from core.errors import plain_reason
from core.i18n.formats import format_number


@click.command()
@click.option(
    "--customers",
    "-n",
    type=click.IntRange(1),
    default=20_000,
    show_default=True,
    help=N_("How many customers to create."),
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help=N_("Random seed: the same seed gives the same customers."),
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help=N_("Last day of history (default: today)."),
)
@click.option(
    "--if-empty",
    is_flag=True,
    help=N_("If the database already has customers, just open the console."),
)
@click.option(
    "--replace",
    is_flag=True,
    help=N_("Replace a database that already has customers (its data is lost)."),
)
@click.option("--no-open", is_flag=True, help=N_("Build the data but do not open the console."))
@click.option(
    "--language",
    type=click.Choice(["es", "en"]),
    default="es",
    show_default=True,
    help=N_("Language of the demo's history (subjects, notes, survey comments)."),
)
@click.pass_obj
def demo(
    settings: Settings,
    customers: int,
    seed: int,
    as_of: datetime | None,
    if_empty: bool,
    replace: bool,
    no_open: bool,
    language: str,
) -> None:
    """Create a demo database with realistic customers and history, then open the console.

    A database that already holds customers is never overwritten unless --replace is given.
    """  # fmt: skip
    url = settings.resolved_database_url
    try:
        upgrade_database(url)
        existing = asyncio.run(count_customers(url))
    except Exception as error:  # noqa: BLE001 - say which database, not a traceback
        raise click.ClickException(
            _("cannot open the database {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error
    if existing and if_empty:
        click.echo(
            _("{count} customers already in {database}").format(
                count=format_number(existing), database=settings.display_database_url
            ),
            err=True,
        )
    elif existing and not replace:
        raise click.ClickException(
            _(
                "{database} already holds {count} customers; use --replace to overwrite it with"
                " a demo, or --if-empty to open it as it is"
            ).format(database=settings.display_database_url, count=format_number(existing))
        )
    else:
        day = as_of.date() if as_of is not None else date.today()
        plan = DemoPlan(customers=customers, seed=seed, as_of=day, language=language)
        click.echo(
            _("building a demo of {count} customers in {database}").format(
                count=format_number(customers), database=settings.display_database_url
            ),
            err=True,
        )
        try:
            with stage_progress() as progress:
                result = asyncio.run(build_demo(url, plan, replace=replace, progress=progress))
        except DatabaseNotEmpty as error:
            raise click.ClickException(
                _("{error}; use --replace to overwrite it").format(error=error)
            ) from error
        rows = sum(result.rows.values())
        click.echo(
            _("demo ready: {customers} customers, {rows} rows in {seconds} s").format(
                customers=format_number(result.customers),
                rows=format_number(rows),
                seconds=format_number(round(result.seconds, 1)),
            ),
            err=True,
        )
        _refresh_analytics(settings, day)
        _register_demo_user(settings)
    if no_open:
        return
    from console.launch import open_console

    sys.exit(open_console(settings))


def _refresh_analytics(settings: Settings, day: date) -> None:
    """Score the new customers (RFM, value, churn risk) so the console shows them at once.

    The demo is usable without it, so a failure is reported and the command goes on.
    """
    from core.services import open_services

    async def run() -> int:
        async with open_services(settings) as services:
            with stage_progress() as progress:
                result = await services.analytics.refresh(
                    services.engine, day, lambda done, total: progress("analytics", done, total)
                )
            return result.customers

    try:
        scored = asyncio.run(run())
    except Exception as error:  # noqa: BLE001 - the demo itself is complete and usable
        click.echo(
            _("analytics not refreshed ({error}); run `frontline analytics refresh`").format(
                error=error
            ),
            err=True,
        )
        return
    click.echo(
        _("analytics refreshed for {count} customers").format(count=format_number(scored)),
        err=True,
    )


def _register_demo_user(settings: Settings) -> None:
    """Make whoever built this demo database its supervisor, so that the console it opens has
    everything to try (unknown users are branch staff: a look-up console only).

    Only in the database the demo just built: a real installation's first supervisor is still
    made by an administrator (`sudo frontline agents add NAME --role supervisor`).
    """
    from core.models import Role
    from core.services import open_services
    from core.services.agents import AgentExists

    name = settings.who.name

    async def run() -> None:
        async with open_services(settings) as services:
            try:
                await services.agents.add(name, Role.SUPERVISOR)
            except AgentExists:
                await services.agents.set_role(name, Role.SUPERVISOR)
            await services.audit.record(
                name, "role", None, f"{name} supervisor (the demo's builder)", settings.who.place
            )

    try:
        asyncio.run(run())
    except Exception as error:  # noqa: BLE001 - the demo is usable as branch staff
        click.echo(
            _("could not register {name} as the demo's supervisor: {error}").format(
                name=name, error=error
            ),
            err=True,
        )
        return
    click.echo(
        _(
            "{name} is a supervisor in this demo database: the console opens on the live queue,"
            " F12 switches to the agent screen (roles: docs/privacy.md)"
        ).format(name=name),
        err=True,
    )
