"""Roles enforced: what each command needs, checked against the acting identity."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.i18n import N_
from core.i18n import words as _
from core.identity import Identity
from core.models import Agent, Role

if TYPE_CHECKING:
    from core.services.agents import AgentService


class AccessDenied(PermissionError):
    """The acting person's role does not allow this."""


@dataclass(frozen=True)
class Grant:
    """Who is acting and with what role."""

    identity: Identity
    role: Role

    @property
    def name(self) -> str:
        return self.identity.name


async def require(agents: AgentService, identity: Identity, least: Role, what: str) -> Grant:
    """The acting person's grant, if their role is at least `least`.

    An OS administrator (root, FRONTLINE_ADMINS) may do everything: they can read the
    database anyway, and someone has to make the first supervisor.

    Args:
        agents: where roles are stored.
        identity: who is acting.
        least: the least role allowed.
        what: the action, for the refusal message ("manage agents").

    Returns:
        The grant; raises AccessDenied.
    """
    if identity.os_admin:
        return Grant(identity, Role.SUPERVISOR)
    return granted(identity, await agents.role_of(identity.name), least, what)


def granted(identity: Identity, role: Role, least: Role, what: str) -> Grant:
    """The grant of `identity` holding `role`, if it is at least `least`; raises AccessDenied."""
    if role.rank < least.rank:
        raise AccessDenied(
            _(
                "{name} ({role}) may not {what}: it needs the {least} role"
                " (a supervisor grants it with `frontline agents set-role`)"
            ).format(name=identity.name, role=_(role.value), what=_(what), least=_(least.value))
        )
    return Grant(identity, role)


async def role_in(session: AsyncSession, user_name: str) -> Role:
    """A user's stored role, read in `session`'s transaction; branch (the least) for anyone not
    registered, or with a role written by hand in SQL that Frontline does not know."""
    stored = await session.execute(select(col(Agent.role)).where(col(Agent.user_name) == user_name))
    try:
        return Role(stored.scalar_one_or_none() or Role.BRANCH)
    except ValueError:
        return Role.BRANCH


async def require_in(session: AsyncSession, identity: Identity, what: Can) -> Grant:
    """`require_to` inside a service's own transaction: the role as it is when the write is
    made, so a supervisor demoted a moment ago is refused."""
    if identity.os_admin:
        return Grant(identity, Role.SUPERVISOR)
    return granted(identity, await role_in(session, identity.name), LEAST_ROLE[what], what.value)


class Can(StrEnum):
    """What a front end offers, by the least role that may do it (`LEAST_ROLE`)."""

    LOOK_UP = N_("look up customers")
    REVEAL = N_("reveal a customer's details")
    TAKE_CALLS = N_("take and log calls")
    OFFERS = N_("make and answer offers")
    EDIT_CUSTOMERS = N_("create or edit a customer's record")
    MERGE_CUSTOMERS = N_("merge duplicate customers")
    SUPERVISE = N_("use the supervisor's screens")
    SCORE_CALLS = N_("score calls for quality")
    SET_OTHERS_STATE = N_("change another agent's state")


_ROLE_NAMES = (N_("branch"), N_("agent"), N_("supervisor"))
"""The roles' names, for the catalog: a refusal names them in the reader's language."""


LEAST_ROLE: dict[Can, Role] = {
    Can.LOOK_UP: Role.BRANCH,
    Can.REVEAL: Role.BRANCH,
    Can.TAKE_CALLS: Role.AGENT,
    Can.OFFERS: Role.AGENT,
    Can.EDIT_CUSTOMERS: Role.AGENT,
    Can.MERGE_CUSTOMERS: Role.AGENT,
    Can.SUPERVISE: Role.SUPERVISOR,
    Can.SCORE_CALLS: Role.SUPERVISOR,
    Can.SET_OTHERS_STATE: Role.SUPERVISOR,
}
"""The one table of who may do what in the console (docs/privacy.md)."""


def may(role: Role, what: Can) -> bool:
    """Whether `role` may do `what`."""
    return role.rank >= LEAST_ROLE[what].rank


async def require_to(agents: AgentService, identity: Identity, what: Can) -> Grant:
    """`require` for one of the console's actions (the role it needs from LEAST_ROLE)."""
    return await require(agents, identity, LEAST_ROLE[what], what.value)
