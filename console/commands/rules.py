"""`frontline rules check FILE` and `frontline rules simulate [FILE]`: write rules safely."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click

from console.commands.i18n import N_, _
from core.config import Settings
from core.i18n.formats import format_number


@click.group()
def rules() -> None:
    """Offer rules: check a rules file, see who would get which offer."""


@rules.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help=N_("One JSON object: validity, offers, errors.")
)
def check(file: Path, as_json: bool) -> None:
    """Validate a rules file: each problem as FILE:LINE:COLUMN: MESSAGE; exit 1 if any."""
    from core.rules.loader import load_rules
    from core.rules.ruleset import RulesInvalid

    try:
        loaded = load_rules(file)
    except RulesInvalid as invalid:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "file": str(file),
                        "valid": False,
                        "errors": [
                            {"line": e.line, "column": e.column, "message": e.message}
                            for e in invalid.errors
                        ],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            for error in invalid.errors:
                click.echo(str(error))
            count = len(invalid.errors)
            click.echo(
                _.ngettext("{count} error in {file}", "{count} errors in {file}", count).format(
                    count=count, file=file
                ),
                err=True,
            )
        sys.exit(1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": str(file),
                    "valid": True,
                    "rules_version": loaded.version,
                    "offers": [o.id for o in loaded.offers],
                    "errors": [],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(
            _("{file}: valid, {count} offers, version {version}").format(
                file=file, count=len(loaded.offers), version=loaded.version
            )
        )


@rules.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help=N_("Simulate calls on this day (default: today)."),
)
@click.option("--reason", default="", help=N_("The call reason the conditions see."))
@click.option(
    "--hour",
    type=click.IntRange(0, 23),
    default=None,
    help=N_("Local hour of the simulated calls (default: now, or 12 with --as-of)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("The full report as JSON."))
@click.option("--seed", type=int, default=0, help=N_("Random seed for Thompson sampling."))
@click.pass_obj
def simulate(
    settings: Settings,
    file: Path | None,
    as_of: datetime | None,
    reason: str,
    hour: int | None,
    as_json: bool,
    seed: int,
) -> None:
    """Who would get which offer: every customer, every offer, with a progress bar.

    FILE defaults to the configured rules file (FRONTLINE_RULES_FILE, or the example).
    """
    from core.analytics.config import analytics_config
    from core.rules.loader import load_rules
    from core.rules.ruleset import RulesInvalid
    from core.rules.simulate import simulate as run_simulation
    from core.services import open_services

    try:
        loaded = load_rules(file or settings.rules_file or None)
    except RulesInvalid as invalid:
        for error in invalid.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(_("the rules file has errors; nothing simulated")) from None
    now = datetime.now().astimezone()
    if as_of is not None:
        moment = datetime.combine(as_of.date(), time(12 if hour is None else hour), now.tzinfo)
    else:
        moment = now if hour is None else now.replace(hour=hour, minute=0)

    async def run(progress: Any) -> dict[str, Any]:
        async with open_services(settings) as services:
            return await run_simulation(
                services.engine, loaded, moment, reason, analytics_config(settings), progress, seed
            )

    from console.commands.progress import stage_progress

    with stage_progress() as stage:
        report = asyncio.run(run(lambda done, total: stage("customers", done, total)))
    if report.get("analytics_as_of") is None:
        click.echo(
            _(
                "note: RFM segments and value figures were never computed on this database "
                "(run `frontline analytics refresh`): customers with purchases are 'Not Scored'"
            ),
            err=True,
        )
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(
        _(
            "{customers} customers, {with_offers} would get an offer; rules {version}, {at},"
            " reason {reason}, {arbitration}"
        ).format(
            customers=format_number(report["customers"]),
            with_offers=format_number(report["customers_with_offers"]),
            version=report["rules_version"],
            at=report["at"],
            reason=report["reason"] or _("(none)"),
            arbitration=report["arbitration"],
        ),
        markup=False,
        highlight=False,
    )
    table = Table(_("offer"), _("eligible"), _("shown"), _("top segments"), _("top tiers"))
    for offer in report["offers"]:
        segments = ", ".join(f"{k} {v:,}" for k, v in list(offer["by_segment"].items())[:3])
        tiers = ", ".join(f"{k} {v:,}" for k, v in list(offer["by_tier"].items())[:3])
        table.add_row(
            Text(offer["id"]),
            f"{offer['eligible']:,}",
            f"{offer['shown']:,}",
            Text(segments),
            Text(tiers),
        )
    console.print(table)
    cuts = Table(_("offer"), _("condition"), _("fails for"), _("only blocker for"))
    for cut in report["cuts"][:10]:
        cuts.add_row(
            Text(cut["offer"]),
            Text(cut["name"]),
            f"{cut['failed']:,}",
            f"{cut['sole_blocker']:,}",
        )
    console.print(_("conditions that cut the most"), markup=False)
    console.print(cuts)
