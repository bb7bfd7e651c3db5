"""`frontline pbx …`: the phone-system adapters."""

from __future__ import annotations

import click

from console.commands.pbx_kamailio import agent_contact, kamailio_config


@click.group()
def pbx() -> None:
    """Phone-system adapters (Kamailio)."""


pbx.add_command(kamailio_config)
pbx.add_command(agent_contact)
