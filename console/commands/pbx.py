"""`frontline pbx …`: the phone-system adapters.

`frontline pbx kamailio-config` prints a Kamailio script that reports to Frontline;
`frontline pbx listen asterisk|freeswitch` runs an adapter as a long-lived process: it logs
in to the PBX's event socket, reports every call event it maps (to the database, or with
`--api` to a running `frontline api`), logs each on stderr, reconnects when the PBX goes
away, and stops cleanly on Ctrl-C or SIGTERM. `frontline pbx listen kamailio` runs only the
commands (Kamailio reports its calls itself): each blind transfer from a console is sent to
the command listener of the generated kamailio.cfg, which REFERs the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from console.commands.i18n import N_, _
from console.commands.pbx_kamailio import agent_contact, kamailio_config
from core.config import Settings
from core.pbx.adapter import Adapter, LoginRefused, Sink
from core.services import open_services

DEFAULT_PORTS = {"asterisk": 5038, "freeswitch": 8021, "kamailio": 5090}


@click.group()
def pbx() -> None:
    """Phone-system adapters (Kamailio, Asterisk AMI, FreeSWITCH ESL)."""


@pbx.command()
@click.argument("system", type=click.Choice(sorted(DEFAULT_PORTS)))
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("The PBX's address."))
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help=N_(
        "Its event socket (default: 5038 for AMI, 8021 for ESL; for Kamailio, its command "
        "listener, 5090)."
    ),
)
@click.option("--user", default="", help=N_("AMI user name (manager.conf); unused by ESL."))
@click.option("--secret", default=None, help=N_("AMI secret or ESL password (ESL: ClueCon)."))
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=N_("Read the secret from this file instead (keeps it out of `ps`)."),
)
@click.option(
    "--context",
    default=None,
    help=N_("Dialplan context of transfer targets (default: from-internal / default)."),
)
@click.option("--api", "api_url", default="", help=N_("Report to this `frontline api` instead."))
@click.option(
    "--token",
    default="",
    help=N_(
        "Bearer token for --api; for Kamailio, the one in its kamailio.cfg (default: the "
        "first API token)."
    ),
)
@click.pass_obj
def listen(
    settings: Settings,
    system: str,
    host: str,
    port: int | None,
    user: str,
    secret: str | None,
    secret_file: Path | None,
    context: str | None,
    api_url: str,
    token: str,
) -> None:
    """Connect to the PBX and report its queue events as Frontline call events.

    For Kamailio (which reports its calls itself), send it the consoles' blind transfers.
    """
    if system == "kamailio":
        if api_url:
            raise click.UsageError(
                _("Kamailio's commands need the database: run it without --api"),
            )
        token = token or next(iter(settings.api_tokens), "")
        if not token:
            raise click.ClickException(_("no token: give --token or set FRONTLINE_API_TOKENS"))
    if secret_file is not None:
        secret = secret_file.read_text(encoding="utf-8").strip()
    if api_url and not token:
        token = settings.api.token or next(iter(settings.api_tokens), "")
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per event is ours to write
    options: dict[str, str] = {"user": user}
    if secret is not None:
        options["secret"] = secret
    if context is not None:
        options["context"] = context
    try:
        port = port or DEFAULT_PORTS[system]
        if system == "kamailio":
            asyncio.run(_kamailio(settings, f"http://{host}:{port}", token))
            return
        asyncio.run(_listen(settings, system, host, port, options, api_url, token))
    except LoginRefused as error:
        raise click.ClickException(str(error)) from error


def _adapter(system: str, host: str, port: int, sink: Sink, options: dict[str, str]) -> Adapter:
    if system == "asterisk":
        from core.pbx.asterisk import AsteriskAdapter

        return AsteriskAdapter(host, port, sink, **options)
    from core.pbx.freeswitch import FreeswitchAdapter

    return FreeswitchAdapter(host, port, sink, **options)


async def _listen(
    settings: Settings,
    system: str,
    host: str,
    port: int,
    options: dict[str, str],
    api_url: str,
    token: str,
) -> None:
    if api_url:
        from core.pbx.sinks import ApiSink

        sink = ApiSink(api_url, token)
        try:
            await _run(_adapter(system, host, port, sink, options))
        finally:
            await sink.close()
        return
    from core.pbx.sinks import direct

    async with open_services(settings, pooled=True) as services:  # a stream of events
        adapter = _adapter(system, host, port, direct(services.events), options)
        await _run(adapter, adapter.commands(services.commands).run())


async def _kamailio(settings: Settings, url: str, token: str) -> None:
    from core.pbx.kamailio_commands import KamailioCommands
    from core.pbx.sinks import direct

    async with open_services(settings, pooled=True) as services:
        sender = KamailioCommands(url, token, direct(services.events))
        log = logging.getLogger("core.pbx")
        log.info(_("kamailio: sending blind transfers to {url}").format(url=url))
        try:
            await _until_stopped(sender.commands(services.commands).run())
        finally:
            await sender.close()
        log.info(_("{source}: stopped").format(source=sender.source))


async def _until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until Ctrl-C or SIGTERM."""
    task = asyncio.create_task(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _run(adapter: Adapter, commands: Coroutine[Any, Any, None] | None = None) -> None:
    if commands is None:
        logging.getLogger("core.pbx").warning(
            _(
                "{source}: with --api, hold and transfer from the console are not sent (they "
                "need the database: run the adapter without --api for them)"
            ).format(source=adapter.source)
        )

    async def both() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(adapter.run())
            if commands is not None:
                group.create_task(commands)

    task = asyncio.create_task(both())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except ExceptionGroup as group:  # a refused login: say it as it is
                raise group.exceptions[0] from None
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    logging.getLogger("core.pbx").info(_("{source}: stopped").format(source=adapter.source))


pbx.add_command(kamailio_config)
pbx.add_command(agent_contact)
