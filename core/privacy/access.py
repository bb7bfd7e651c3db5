"""Roles enforced: what each command needs, checked against the acting identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.identity import Identity
from core.models import Role

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
    role = await agents.role_of(identity.name)
    if role.rank < least.rank:
        raise AccessDenied(
            f"{identity.name} ({role.value}) may not {what}: it needs the {least.value} role"
            " (a supervisor grants it with `frontline agents set-role`)"
        )
    return Grant(identity, role)
