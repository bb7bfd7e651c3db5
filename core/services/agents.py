"""Agents: who is using this console, created on first start so SSH users need no set-up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import Agent


class AgentService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def ensure(self, user_name: str) -> Agent:
        """The agent with this user name, created as a plain agent if new.

        Args:
            user_name: the login name or `--agent` value.

        Returns:
            The stored agent.
        """
        async with self._sessions() as session:
            found = (
                await session.execute(select(Agent).where(col(Agent.user_name) == user_name))
            ).scalar_one_or_none()
            if found is not None:
                return found
            agent = Agent(user_name=user_name, display_name=user_name)
            session.add(agent)
            try:
                await session.commit()
            except IntegrityError:  # another console created it a moment ago
                await session.rollback()
                return (
                    await session.execute(select(Agent).where(col(Agent.user_name) == user_name))
                ).scalar_one()
            return agent
