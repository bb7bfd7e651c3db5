"""`frontline agents list|add|set-role|remove`: the people who use Frontline and their roles.

Only a supervisor, or an administrator of the machine (root, FRONTLINE_ADMINS), may run them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from console.commands.i18n import N_, _
from core.config import Settings

if TYPE_CHECKING:
    from core.services import Services

T = TypeVar("T")
ROLES = ("agent", "supervisor", "branch")
_ROLE_LABELS = {"agent": N_("agent"), "supervisor": N_("supervisor"), "branch": N_("branch")}
_STATE_LABELS = {
    "available": N_("available"), "on_call": N_("on a call"), "wrap_up": N_("wrap-up"),
    "break": N_("on a break"), "offline": N_("offline"),
}  # fmt: skip


def _role_label(role: str) -> str:
    """A role as a person reads it (the id stays what one types: `--role supervisor`)."""
    return _(_ROLE_LABELS[role]) if role in _ROLE_LABELS else role


def _state_label(state: str) -> str:
    return _(_STATE_LABELS[state]) if state in _STATE_LABELS else state


def run_as_supervisor(
    settings: Settings, what: str, work: Callable[[Services, str], Awaitable[T]]
) -> T:
    """Run `work(services, actor)` if the acting person may manage agents; a clear error if not."""
    from core.models import Role
    from core.privacy.access import AccessDenied, require
    from core.services import open_services
    from core.services.agents import AgentExists, AgentNotFound

    async def run() -> T:
        async with open_services(settings) as services:
            grant = await require(services.agents, settings.who, Role.SUPERVISOR, what)
            return await work(services, grant.name)

    try:
        return asyncio.run(run())
    except (AccessDenied, AgentExists, AgentNotFound, ValueError) as refused:
        raise click.ClickException(str(refused)) from None


async def _audit_role(services: Services, actor: str, detail: str, settings: Settings) -> None:
    from core.services.audit import AuditAction

    await services.audit.record(actor, AuditAction.ROLE, None, detail, settings.who.place)


@click.group()
def agents() -> None:
    """The people who use Frontline and their roles (agent, supervisor, branch)."""


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the agents as JSON."))
@click.pass_obj
def list_(settings: Settings, as_json: bool) -> None:
    """Every registered person, their role and state."""

    async def work(services: Services, actor: str) -> list[dict[str, str]]:
        return [
            {
                "user_name": a.user_name,
                "display_name": a.display_name,
                "role": a.role,
                "state": a.state,
            }
            for a in await services.agents.list()
        ]

    found = run_as_supervisor(settings, _("list agents"), work)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    from console.safe_text import clean

    if found:
        user, role, state = _("User"), _("Role"), _("State")
        click.echo(f"{user:<24} {role:<11} {state}")
    for agent in found:
        click.echo(
            f"{clean(agent['user_name']):<24} {_role_label(agent['role']):<11}"
            f" {_state_label(agent['state'])}"
        )


@agents.command()
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.pass_obj
def add(settings: Settings, name: str, role: str) -> None:
    """Register NAME (their OS login or SSH key name) with a role."""
    from core.services.agents import parse_role

    async def work(services: Services, actor: str) -> None:
        await services.agents.add(name, parse_role(role))
        await _audit_role(services, actor, f"added {name!r} as {role}", settings)

    run_as_supervisor(settings, _("add agents"), work)
    click.echo(_("added {name} as {role}").format(name=name, role=_role_label(role)))


@agents.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_obj
def set_role(settings: Settings, name: str, role: str) -> None:
    """Give NAME another role."""
    from core.services.agents import parse_role

    async def work(services: Services, actor: str) -> None:
        await services.agents.set_role(name, parse_role(role))
        await _audit_role(services, actor, f"set {name!r} to {role}", settings)

    run_as_supervisor(settings, _("change roles"), work)
    click.echo(_("{name} is now {role}").format(name=name, role=_role_label(role)))


@agents.command()
@click.argument("name")
@click.pass_obj
def remove(settings: Settings, name: str) -> None:
    """Forget NAME (kept as branch staff if calls still name them)."""

    async def work(services: Services, actor: str) -> bool:
        deleted = await services.agents.remove(name)
        outcome = "removed" if deleted else "demoted to branch (calls refer to them)"
        await _audit_role(services, actor, f"{outcome}: {name!r}", settings)
        return deleted

    deleted = run_as_supervisor(settings, _("remove agents"), work)
    click.echo(
        _("removed {name}").format(name=name)
        if deleted
        else _("{name} handled calls: kept, as branch staff").format(name=name)
    )
