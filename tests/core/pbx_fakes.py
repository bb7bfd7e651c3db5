"""Fake phone systems for the adapter contract tests: a TCP server on 127.0.0.1 that speaks
just enough AMI or ESL to log a client in, replay a transcript, answer commands, and drop
the connection when told to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import Agent, AgentState, Call, CallEvent, CallReference

Script = Callable[["FakeServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class FakeServer:
    """Runs `script(server, reader, writer)` for each connection (`connections` counts them)."""

    script: Script
    connections: int = 0
    received: list[str] = field(default_factory=list)
    """Every command or action the client sent after logging in, as text."""
    final: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the last connection's transcript is written."""
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def read_block(reader: asyncio.StreamReader) -> str:
    """Lines up to a blank line (an AMI action, an ESL command)."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionResetError
        line = raw.decode().rstrip("\r\n")
        if not line and lines:
            return "\n".join(lines)
        if line:
            lines.append(line)


def fields(block: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.split("\n"))}


def ami(**fields: str) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"


def esl_event(**headers: str) -> bytes:
    body = "".join(f"{k.replace('_', '-')}: {quote(v, safe='')}\n" for k, v in headers.items())
    data = (body + "\n").encode()
    return f"Content-Length: {len(data)}\nContent-Type: text/event-plain\n\n".encode() + data


async def add_agents(sessions: async_sessionmaker[AsyncSession], *names: str) -> None:
    async with sessions() as session, session.begin():
        session.add_all(Agent(user_name=n, state=AgentState.AVAILABLE) for n in names)


@dataclass(frozen=True)
class Stored:
    state: str
    agent: str
    kinds: list[str]
    sources: set[str]
    call: Call


async def stored(sessions: async_sessionmaker[AsyncSession], external_id: str) -> Stored:
    """The call the phone system knows as `external_id`, its agent and its event log."""
    async with sessions() as session:
        call = (
            await session.execute(
                select(Call)
                .join(CallReference, col(CallReference.call_id) == col(Call.id))
                .where(col(CallReference.external_id) == external_id)
            )
        ).scalar_one()
        events = (
            (
                await session.execute(
                    select(CallEvent)
                    .where(col(CallEvent.call_id) == call.id)
                    .order_by(col(CallEvent.at), col(CallEvent.id))
                )
            )
            .scalars()
            .all()
        )
        agent = await session.get(Agent, call.agent_id) if call.agent_id else None
    return Stored(
        state=call.state,
        agent=agent.user_name if agent else "",
        kinds=[e.kind for e in events],
        sources={json.loads(e.payload).get("source", "") for e in events},
        call=call,
    )


async def agent_states(
    sessions: async_sessionmaker[AsyncSession], names: Sequence[str]
) -> dict[str, str]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Agent.user_name, Agent.state).where(col(Agent.user_name).in_(names))
            )
        ).all()
    return {name: state for name, state in rows}


async def call_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return len((await session.execute(select(col(Call.id)))).all())
