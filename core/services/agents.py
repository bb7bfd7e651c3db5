"""Agents: the people who use Frontline and their roles (`frontline agents`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.db import publish_change
from core.i18n import words as _
from core.models import Agent, Role
from core.privacy.access import role_in


class AgentNotFound(LookupError):
    """No agent has this user name."""


class AgentExists(ValueError):
    """An agent with this user name is already registered."""


def parse_role(text: str) -> Role:
    """The Role named by `text`; ValueError naming the roles otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise ValueError(
            _("unknown role {text!r} (one of: {names})").format(text=text, names=names)
        ) from None


class AgentService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def ensure(self, user_name: str) -> Agent:
        """The agent with this user name, created with the least role (branch) if new.

        Console users need no set-up, but only a supervisor's `frontline agents set-role`
        gives anyone more than a masked look-up.

        Args:
            user_name: the identity's name (core/identity.py).

        Returns:
            The stored agent.
        """
        async with self._sessions() as session:
            found = await _by_name(session, user_name)
            if found is not None:
                return found
            agent = Agent(user_name=user_name, display_name=user_name, role=Role.BRANCH)
            session.add(agent)
            try:
                await session.commit()
            except IntegrityError:  # another console created it a moment ago
                await session.rollback()
                found = await _by_name(session, user_name)
                assert found is not None
                return found
            return agent

    async def role_of(self, user_name: str) -> Role:
        """The stored role of a user; branch (the least) for anyone not registered."""
        async with self._sessions() as session:
            return await role_in(session, user_name)

    async def list(self) -> list[Agent]:
        """Every registered agent, by user name."""
        async with self._sessions() as session:
            result = await session.execute(select(Agent).order_by(col(Agent.user_name)))
            return list(result.scalars())

    async def add(self, user_name: str, role: Role = Role.AGENT, display_name: str = "") -> Agent:
        """Register a person with a role.

        Raises:
            AgentExists: the user name is taken.
        """
        name = user_name.strip()
        if not name:
            raise ValueError(_("a user name cannot be empty"))
        agent = Agent(user_name=name, display_name=display_name or name, role=role)
        async with self._sessions() as session:
            session.add(agent)
            try:
                await session.flush()
                await publish_change(session, "agent", name)
                await session.commit()
            except IntegrityError:
                raise AgentExists(_("{name!r} is already registered").format(name=name)) from None
        return agent

    async def set_role(self, user_name: str, role: Role) -> Agent:
        """Change a person's role; AgentNotFound for an unknown user name."""
        async with self._sessions() as session, session.begin():
            agent = await _by_name(session, user_name)
            if agent is None:
                raise AgentNotFound(_("no agent named {user_name!r}").format(user_name=user_name))
            agent.role = role
            await publish_change(session, "agent", user_name)
        return agent

    async def remove(self, user_name: str) -> bool:
        """Forget a person (AgentNotFound if unknown).

        Returns:
            True when deleted; False when their calls still point at them, so they were
            demoted to branch instead (what an unknown user gets anyway).
        """
        async with self._sessions() as session, session.begin():
            agent = await _by_name(session, user_name)
            if agent is None:
                raise AgentNotFound(_("no agent named {user_name!r}").format(user_name=user_name))
            deleted = True
            try:
                async with session.begin_nested():
                    await session.execute(delete(Agent).where(col(Agent.id) == agent.id))
            except IntegrityError:
                agent.role = Role.BRANCH
                deleted = False
            await publish_change(session, "agent", user_name)
        return deleted


async def _by_name(session: AsyncSession, user_name: str) -> Agent | None:
    result = await session.execute(select(Agent).where(col(Agent.user_name) == user_name))
    return result.scalar_one_or_none()
