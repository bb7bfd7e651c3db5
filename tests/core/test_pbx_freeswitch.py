"""FreeSWITCH ESL contract: mod_callcenter's callcenter::info events, in the documented
plain-event format (Content-Length framed, URL-encoded values), replayed by a fake event
socket through the adapter into the real services (directly and through the HTTP API), on
SQLite and PostgreSQL. Duplicates and reordering included; then reconnection and commands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.api import create_app
from core.config import Settings
from core.db import make_engine, make_sessions
from core.pbx.adapter import LoginRefused, Outcome, PbxError, Sink
from core.pbx.freeswitch import FreeswitchAdapter
from core.pbx.sinks import ApiSink, direct
from core.services import Services, make_services
from tests.core.pbx_fakes import (
    FakeServer,
    add_agents,
    agent_states,
    call_count,
    esl_event,
    read_block,
    stored,
)

BASE = time.time() - 600
CORE = "7d2e0a34-1c7b-4b9e-9f0e-0c1f2a3b4c5d"
X, Y, Z = (f"{c * 8}-1111-2222-3333-444455556666" for c in "abc")
TOKEN = "fs-token"


def cc(action: str, seq: int, offset: float, member: str, **extra: str) -> bytes:
    """One callcenter::info event as mod_callcenter sends it (underscores become dashes)."""
    return esl_event(
        Event_Name="CUSTOM",
        Core_UUID=CORE,
        Event_Sequence=str(seq),
        Event_Date_Timestamp=str(int((BASE + offset) * 1_000_000)),
        Event_Subclass="callcenter::info",
        CC_Queue="support@default",
        CC_Action=action,
        CC_Member_UUID=f"m-{member}",
        CC_Member_Session_UUID=member,
        CC_Member_CID_Name="Cliente",
        CC_Member_CID_Number="+34 600 111 222" if member == X else "600999888",
        **extra,
    )


BRIDGED_X = cc("bridge-agent-start", 105, 20, X, CC_Agent="ben@default", CC_Agent_UUID="leg-x")
TRANSCRIPT = [
    cc("member-queue-start", 101, 0, X, CC_Member_Joined_Time=str(int(BASE))),
    cc("agent-offering", 102, 1, X, CC_Agent="ana@default"),
    cc("bridge-agent-fail", 103, 16, X, CC_Agent="ana@default", CC_Hangup_Cause="NO_ANSWER"),
    cc("agent-offering", 104, 17, X, CC_Agent="ben@default"),
    BRIDGED_X,
    BRIDGED_X,  # delivered twice: one answer
    cc("member-queue-start", 107, 5, Y),
    cc("member-queue-end", 108, 18, Y, CC_Cause="Cancel", CC_Cancel_Reason="BREAK_OUT"),
    cc("bridge-agent-end", 109, 90, X, CC_Agent="ben@default"),
    cc("member-queue-end", 110, 91, X, CC_Cause="Terminated"),
    # Call Z: the member's end arrives before the bridge's end that happened first.
    cc("member-queue-start", 111, 30, Z),
    cc("bridge-agent-start", 112, 33, Z, CC_Agent="cara@default", CC_Agent_UUID="leg-z"),
    cc("member-queue-end", 114, 61, Z, CC_Cause="Terminated"),
    cc("bridge-agent-end", 113, 60, Z, CC_Agent="cara@default"),
]


def fake_freeswitch(*transcripts: list[bytes], password: str = "ClueCon") -> FakeServer:
    async def script(
        server: FakeServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        n = server.connections
        writer.write(b"Content-Type: auth/request\n\n")
        if await read_block(reader) != f"auth {password}":
            writer.write(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
            return
        writer.write(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
        assert await read_block(reader) == "event plain CUSTOM callcenter::info"
        writer.write(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled\n\n")
        for event in transcripts[min(n, len(transcripts)) - 1]:
            writer.write(event)
        if n < len(transcripts):
            writer.write(b"Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
            await writer.drain()
            return
        await writer.drain()
        server.final.set()
        while True:
            command = await read_block(reader)
            server.received.append(command)
            body = b"-ERR No such channel!\n" if "gone" in command else b"+OK\n"
            head = f"Content-Type: api/response\nContent-Length: {len(body)}\n\n"
            writer.write(head.encode() + body)
            await writer.drain()

    return FakeServer(script)


@pytest.fixture
async def services(db_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    built = make_services(Settings(database_url=db_url), engine=engine)
    await add_agents(built.sessions, "ana", "ben", "cara")
    yield built
    await built.close()


@contextlib.asynccontextmanager
async def listening(
    server: FakeServer, sink: Sink, seen: list[Outcome] | None = None, password: str = "ClueCon"
) -> AsyncIterator[FreeswitchAdapter]:
    adapter = FreeswitchAdapter(
        "127.0.0.1",
        server.port,
        sink,
        secret=password,
        backoff=(0.01, 0.05),
        observer=seen.append if seen is not None else None,
    )
    task = asyncio.create_task(adapter.run())
    try:
        await asyncio.wait_for(server.final.wait(), 20)
        await asyncio.wait_for(adapter.connected.wait(), 20)
        await adapter.api("status")  # answered after every event sent before it
        yield adapter
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def assert_stored(services: Services) -> None:
    x = await stored(services.sessions, X)
    assert (x.state, x.agent) == ("completed", "ben")
    assert x.kinds == ["queued", "offered", "queued", "offered", "answered", "ended", "completed"]
    assert (x.call.caller_number, x.call.queue) == ("+34 600 111 222", "support@default")
    y = await stored(services.sessions, Y)
    assert (y.state, y.kinds) == ("abandoned", ["queued", "abandoned"])
    z = await stored(services.sessions, Z)
    # Z's bridge-agent-end arrives after its member-queue-end: applied by its time, in order.
    assert (z.state, z.agent, z.kinds) == (
        "completed",
        "cara",
        ["queued", "answered", "ended", "completed"],
    )
    assert await call_count(services.sessions) == 3
    names = ["ana", "ben", "cara"]
    assert await agent_states(services.sessions, names) == dict.fromkeys(names, "available")


async def test_a_transcript_lands_as_calls_states_and_events(services: Services) -> None:
    seen: list[Outcome] = []
    async with fake_freeswitch(TRANSCRIPT) as server:
        async with listening(server, direct(services.events), seen):
            pass
    await assert_stored(services)
    assert (await stored(services.sessions, X)).sources == {"freeswitch"}
    assert all(not o.refused for o in seen), [o.describe() for o in seen if o.refused]
    # Only the twice-delivered bridge is a replay; Z's late bridge-agent-end is applied by time.
    assert sum(o.result is not None and o.result.replayed for o in seen) == 1


async def test_through_the_http_api_the_same_lands(services: Services, db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, api_tokens=(TOKEN,)), engine=services.engine)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    sink = ApiSink("http://api", TOKEN, client=client)
    try:
        async with fake_freeswitch(TRANSCRIPT) as server:
            async with listening(server, sink):
                pass
    finally:
        await sink.close()
    await assert_stored(services)


async def test_it_reconnects_after_a_disconnect_notice(services: Services) -> None:
    async with fake_freeswitch(TRANSCRIPT[:5], TRANSCRIPT[5:]) as server:
        async with listening(server, direct(services.events)) as adapter:
            assert adapter.sessions == 2
    await assert_stored(services)


async def test_commands_go_out_as_api_frames(services: Services) -> None:
    async with fake_freeswitch(TRANSCRIPT[:5]) as server:
        async with listening(server, direct(services.events)) as adapter:
            await adapter.transfer(X, "2001")
            await adapter.transfer(X, "user/2002", consult=True)
            await adapter.hold(X)
            await adapter.unhold(X)
            with pytest.raises(PbxError, match="No such channel"):
                await adapter.transfer("gone", "2001")
    assert server.received[1:] == [
        f"api uuid_transfer {X} 2001 XML default",
        "api uuid_broadcast leg-x att_xfer::user/2002 aleg",
        f"api uuid_hold {X}",
        f"api uuid_hold off {X}",
        "api uuid_transfer gone 2001 XML default",
    ]


async def test_a_wrong_password_stops_the_adapter(services: Services) -> None:
    async with fake_freeswitch(TRANSCRIPT, password="secret") as server:
        adapter = FreeswitchAdapter("127.0.0.1", server.port, direct(services.events))
        with pytest.raises(LoginRefused, match="invalid"):
            await asyncio.wait_for(adapter.run(), 20)
    assert await call_count(services.sessions) == 0


async def test_frontline_pbx_listen_logs_what_it_maps_and_stops_on_sigterm(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    await add_agents(make_sessions(engine), "ana", "ben", "cara")
    env = {**os.environ, "FRONTLINE_DATABASE_URL": sqlite_url, "FRONTLINE_ENV_FILE": "/none"}
    async with fake_freeswitch(TRANSCRIPT) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console.cli", "pbx", "listen", "freeswitch",
            "--port", str(server.port), env=env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        logged: list[str] = []
        while not any(f"ended for {Z}" in line for line in logged):  # the transcript's last
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            assert line, b"".join(s.encode() for s in logged)
            logged.append(line.decode())
        process.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(process.stderr.read(), 60)).decode()
        assert await process.wait() == 0
    assert "freeswitch: stopped" in rest
    assert any(f"completed for {X}: call 1 is completed" in line for line in logged)
    assert any("already so" in line for line in logged)  # the duplicate, told apart
    sessions = make_sessions(engine)
    assert (await stored(sessions, X)).state == "completed"
    await engine.dispose()


async def test_a_token_the_api_refuses_stops_the_adapter(services: Services, db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, api_tokens=(TOKEN,)), engine=services.engine)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    sink = ApiSink("http://api", "not-the-token", client=client)
    async with fake_freeswitch(TRANSCRIPT) as server:
        adapter = FreeswitchAdapter("127.0.0.1", server.port, sink)
        with pytest.raises(LoginRefused, match="refused the token"):
            await asyncio.wait_for(adapter.run(), 20)
    await sink.close()
    assert await call_count(services.sessions) == 0
