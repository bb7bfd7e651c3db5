"""`frontline analytics refresh|fit|segments`: loyalty status and customer value."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from console.commands.i18n import N_, _
from core.config import Settings
from core.errors import plain_reason


@click.group()
def analytics() -> None:
    """Loyalty status and customer value: RFM, tenure, scope, depth, NPS, lifetime value."""


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr when it is a terminal; silence in a pipe or a file."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if not (console.is_terminal and sys.stderr.isatty()):
        yield lambda _done, _total: None
        return
    bar = Progress(
        TextColumn(label, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task = bar.add_task(label, total=None)  # text: the caller's literal, markup=False above
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=max(total, 1))


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@analytics.command()
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help=N_("The day the figures describe (default: today, UTC)."),
)
@click.pass_obj
def refresh(settings: Settings, as_of: datetime | None) -> None:
    """Refit the models and recompute every customer's figures, with a progress bar."""
    from core.services import open_services

    async def run() -> str:
        async with open_services(settings) as services:
            with _progress_bar("refresh") as progress:
                result = await services.analytics.refresh(services.engine, _day(as_of), progress)
        lines = [
            f"refreshed {result.customers:,} customers ({result.purchases:,} purchases) "
            f"as of {result.as_of.isoformat()} in {result.seconds:.1f} s"
        ]
        bg, gg = result.population.bgnbd, result.population.gamma_gamma
        if bg is not None:
            lines.append(
                f"BG/NBD on {bg.customers:,} customers: r={bg.r:.4g} alpha={bg.alpha:.4g} "
                f"a={bg.a:.4g} b={bg.b:.4g} (log-likelihood {bg.log_likelihood:.1f})"
            )
        else:
            lines.append("BG/NBD: not fitted (no repeat purchases yet)")
        if gg is not None:
            lines.append(
                f"Gamma-Gamma on {gg.customers:,} repeat buyers: p={gg.p:.4g} q={gg.q:.4g} "
                f"v={gg.v:.4g} (log-likelihood {gg.log_likelihood:.1f})"
            )
        else:
            lines.append("Gamma-Gamma: not fitted (fewer than two repeat buyers)")
        return "\n".join(lines)

    try:
        click.echo(asyncio.run(run()))
    except Exception as error:  # noqa: BLE001 - say what failed and where, then stop
        raise click.ClickException(
            _(
                "could not refresh the analytics on {database}: {error} "
                "(is the database migrated? `frontline db upgrade`)"
            ).format(database=settings.display_database_url, error=error)
        ) from error


@analytics.command()
@click.option(
    "--transactions",
    "transactions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help=N_("A CSV file with the columns of `frontline import transactions`."),
)
@click.option(
    "--calibration-end",
    "calibration_end",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help=N_("Last day of the calibration period."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the fit as JSON."))
def fit(transactions: Path, calibration_end: datetime, as_json: bool) -> None:
    """Fit BG/NBD and Gamma-Gamma on a transactions file (weeks; same-day purchases once)."""
    from core.analytics.clv import FitError
    from core.analytics.fitting import TransactionsFileError, fit_file

    try:
        report = fit_file(transactions, calibration_end.date())
    except (TransactionsFileError, FitError) as error:
        raise click.ClickException(f"{transactions}: {error}") from error
    if as_json:
        click.echo(json.dumps(report.as_json()))
        return
    b, g = report.bgnbd, report.gamma_gamma
    from core.i18n.formats import format_number

    # The fitted parameters stay as a program prints them (r=0.2431): they are copied, not read.
    click.echo(
        _("BG/NBD on {count} customers: {parameters}  log-likelihood {likelihood}").format(
            count=format_number(b.customers),
            parameters=f"r={b.r:.4f} alpha={b.alpha:.4f} a={b.a:.4f} b={b.b:.4f}",
            likelihood=f"{b.log_likelihood:.2f}",
        )
    )
    click.echo(
        _("Gamma-Gamma on {count} repeat buyers: {parameters}  log-likelihood {likelihood}").format(
            count=format_number(g.customers),
            parameters=f"p={g.p:.4f} q={g.q:.4f} v={g.v:.4f}",
            likelihood=f"{g.log_likelihood:.2f}",
        )
    )


@analytics.command()
@click.option("--json", "as_json", is_flag=True, help=N_("Print the figures as JSON."))
@click.pass_obj
def segments(settings: Settings, as_json: bool) -> None:
    """Customers, expected value, spend and NPS per RFM segment and per loyalty tier."""
    from core.services import open_services

    async def run() -> dict[str, object]:
        async with open_services(settings) as services:
            report = await services.analytics.segments()
        return report.as_json()

    try:
        data = asyncio.run(run())
    except Exception as error:  # noqa: BLE001
        raise click.ClickException(
            _("could not read the analytics on {database}: {error}").format(
                database=settings.display_database_url,
                error=plain_reason(error, settings.resolved_database_url),
            )
        ) from error
    if as_json:
        click.echo(json.dumps(data))
        return
    _print_table(data)


def _print_table(data: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    as_of = data.get("as_of") or "never refreshed: run `frontline analytics refresh`"
    console = Console()
    console.print(f"Customers: {data['customers']:,}   figures as of {as_of}", markup=False)
    for key, title in (("segments", "RFM segment"), ("tiers", "Loyalty tier")):
        table = Table(title=title, title_justify="left")
        table.add_column(title, no_wrap=True)  # text: a literal heading
        for column in ("Customers", "Share", "Expected value", "Spend 12m", "Churn risk", "NPS"):
            table.add_column(column, justify="right")  # text: a literal heading
        groups = data[key]
        assert isinstance(groups, list)
        name_key = "segment" if key == "segments" else "tier"
        for group in groups:
            nps = group["nps"]
            table.add_row(
                Text(str(group[name_key])),
                f"{group['customers']:,}",
                f"{group['share']:.1%}",
                f"{group['expected_value']:,.0f}",
                f"{group['spend_12m']:,.0f}",
                f"{group['churn_risk']:.0%}",
                "—" if nps is None else f"{nps:+.0f}",
            )
        console.print(table)
