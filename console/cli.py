"""The `frontline` command: opens the console, or runs one of the subcommands.

Each subcommand lives in `console/commands/<name>.py` and is registered in `SUBCOMMANDS`;
their forms and JSON outputs are a contract with scripts and phone systems (DESIGN.md).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import replace

import click

from console.commands.i18n import N_, _, localize, speak_click
from core.config import SettingsError, load_settings

# name -> "module:attribute" of a click command, imported only when used so that a quick
# `frontline lookup` over SSH does not pay for loading Textual.
SUBCOMMANDS: dict[str, str] = {
    "agents": "console.commands.agents:agents",
    "analytics": "console.commands.analytics:analytics",
    "audit": "console.commands.audit:audit",
    "api": "console.commands.api:api",
    "call": "console.commands.call:call",
    "simulate": "console.commands.simulate:simulate",
    "db": "console.commands.db:db",
    "demo": "console.commands.demo:demo",
    "import": "console.commands.importer:import_",
    "lookup": "console.commands.lookup:lookup",
    "offers": "console.commands.offers:offers",
    "pbx": "console.commands.pbx:pbx",
    "privacy": "console.commands.privacy:privacy",
    "rules": "console.commands.rules:rules",
    "search": "console.commands.search:search",
    "customers": "console.commands.customers:customers",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return localize(command)


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option(
    "--agent",
    metavar="NAME",
    help=N_("Act as NAME; honoured only with FRONTLINE_TRUST_AGENT_ENV=1 (default: the OS login)."),
)
@click.option(
    "--as-key",
    metavar="NAME",
    hidden=True,
    help=N_("The person an SSH key belongs to, fixed by its forced command (docs/ssh.md)."),
)
@click.option("--caller", metavar="NUMBER", help=N_("Start with a call from this number."))
@click.pass_context
def frontline(
    ctx: click.Context, agent: str | None, as_key: str | None, caller: str | None
) -> None:
    """Frontline: the contact-centre agent console. Without a subcommand, opens the console."""
    speak_click()
    try:
        settings = load_settings()
    except SettingsError as error:
        click.echo(
            _("frontline: cannot start, the settings have errors:\n{error}").format(error=error),
            err=True,
        )
        sys.exit(2)
    for warning in settings.warnings:
        click.echo(_("frontline: warning: {warning}").format(warning=warning), err=True)
    from console.launch import forced_subcommand, settle_identity

    ctx.obj = settle_identity(replace(settings, agent=agent) if agent else settings, as_key)
    if ctx.invoked_subcommand is None:
        requested = forced_subcommand(as_key)
        if requested:  # `ssh host lookup NAME` with a key forced to `frontline --as-key …`
            command = frontline.get_command(ctx, requested[0])
            if command is None:
                raise click.UsageError(_("no such command: {name}").format(name=requested[0]))
            command.main(requested[1:], prog_name=f"frontline {requested[0]}", obj=ctx.obj)
            return
        from console.launch import open_console

        sys.exit(open_console(ctx.obj, caller=caller))


def main() -> None:
    from core.i18n import UnknownLanguage, resolve, set_language

    try:
        set_language(resolve(os.environ))
    except UnknownLanguage as error:
        click.echo(_("frontline: cannot start: {error}").format(error=error), err=True)
        sys.exit(2)
    speak_click()
    localize(frontline)
    frontline(prog_name="frontline")


if __name__ == "__main__":
    main()
