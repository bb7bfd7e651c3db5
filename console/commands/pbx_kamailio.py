"""`frontline pbx kamailio-config` and `frontline pbx agent-contact`: Frontline as the ACD of a
Kamailio proxy (docs/kamailio.md)."""

from __future__ import annotations

import asyncio

import click

from console.commands.i18n import N_, _
from core.calls.errors import CallEventError
from core.calls.routing import set_contact
from core.config import Settings
from core.pbx.kamailio import KamailioConfigError, KamailioOptions, render
from core.services import open_services


def _queue_pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        number, sep, name = value.partition("=")
        if not sep:
            raise click.BadParameter(
                _("{value!r} is not NUMBER=QUEUE").format(value=value), param_hint="--queue"
            )
        pairs[number.strip()] = name.strip()
    return pairs


@click.command("kamailio-config")
@click.option("--api-url", required=True, help=N_("Frontline's API as Kamailio reaches it."))
@click.option("--token", default=None, help=N_("Bearer token (default: the first API token)."))
@click.option("--listen", default="udp:127.0.0.1:5060", show_default=True)
@click.option(
    "--ring-seconds",
    default=15,
    show_default=True,
    type=click.IntRange(1, 300),
    help=N_("How long an agent's phone rings before the next agent is tried."),
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NUMBER=QUEUE",
    help=N_("A dialled number and its queue (repeat); none: the number dialled is the queue."),
)
@click.option(
    "--queue-seconds",
    default=120,
    show_default=True,
    type=click.IntRange(0, 3600),
    help=N_("How long a caller waits in the queue for a free agent before being turned away."),
)
@click.option(
    "--retry-seconds",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help=N_("While the caller waits: how often Frontline is asked again."),
)
@click.option("--children", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--commands",
    default="",
    metavar="tcp:ADDR:PORT",
    help=N_(
        "Take blind transfers from the consoles here (HTTP; `frontline pbx listen kamailio` "
        "sends them), e.g. tcp:127.0.0.1:5090; none: no transfers from Frontline."
    ),
)
@click.pass_obj
def kamailio_config(
    settings: Settings,
    api_url: str,
    token: str | None,
    listen: str,
    ring_seconds: int,
    queues: tuple[str, ...],
    queue_seconds: int,
    retry_seconds: int,
    children: int,
    commands: str,
) -> None:
    """Print a kamailio.cfg (Kamailio 5.6) that asks Frontline which agent to ring.

    Save it and run `kamailio -DD -E -f kamailio.cfg`. It needs the http_client and json
    modules (Debian: kamailio-utils-modules, kamailio-json-modules).
    """
    chosen = token or next(iter(settings.api_tokens), "")
    if not chosen:
        raise click.ClickException(_("no token: give --token or set FRONTLINE_API_TOKENS"))
    options = KamailioOptions(
        api_url=api_url,
        token=chosen,
        listen=listen,
        ring_seconds=ring_seconds,
        queues=_queue_pairs(queues),
        children=children,
        queue_seconds=queue_seconds,
        retry_seconds=retry_seconds,
        commands=commands,
    )
    try:
        click.echo(render(options), nl=False)
    except KamailioConfigError as error:
        raise click.ClickException(str(error)) from error


@click.command("agent-contact")
@click.argument("agent")
@click.argument("contact")
@click.option(
    "--queues", default=None, help=N_("Comma-separated queues the agent takes ('' for every one).")
)
@click.pass_obj
def agent_contact(settings: Settings, agent: str, contact: str, queues: str | None) -> None:
    """Set the SIP URI where AGENT rings (CONTACT, e.g. sip:ana@10.0.0.5:5060; '' for none)."""
    if contact and not contact.startswith(("sip:", "sips:")):
        raise click.BadParameter(_("a SIP URI starts with sip: or sips:"), param_hint="CONTACT")
    chosen = None if queues is None else tuple(q for q in queues.split(",") if q.strip())

    async def run() -> str:
        async with open_services(settings) as services:
            done = await set_contact(services.events, agent, contact, chosen)
        return f"{done.user_name}: {done.sip_contact or '(no contact)'}, queues: " + (
            ", ".join(done.queues) or "every queue"
        )

    try:
        click.echo(asyncio.run(run()))
    except CallEventError as error:
        raise click.ClickException(str(error)) from error
