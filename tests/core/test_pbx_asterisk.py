"""Asterisk AMI contract: transcripts in app_queue's documented event format, replayed by a
fake AMI server through the adapter into the real services, on SQLite and PostgreSQL.
Duplicates, reordering and missing events included; then reconnection and commands."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.api import create_app
from core.calls.model import Transfer
from core.config import Settings
from core.pbx.adapter import LoginRefused, Outcome, PbxError, Sink
from core.pbx.asterisk import AsteriskAdapter
from core.pbx.sinks import ApiSink, direct
from core.services import Services, make_services
from tests.core.pbx_fakes import (
    FakeServer,
    add_agents,
    agent_states,
    ami,
    call_count,
    fields,
    read_block,
    stored,
)

BASE = time.time() - 600  # ten minutes ago: real times, never refused as impossible
SECRET = "s3cret"


def ts(offset: float) -> str:
    return f"{BASE + offset:.6f}"


def caller(uid: str, number: str) -> dict[str, str]:
    return {
        "Privilege": "agent,all",
        "Channel": f"PJSIP/trunk-{uid}",
        "ChannelState": "6",
        "ChannelStateDesc": "Up",
        "CallerIDNum": number,
        "CallerIDName": "<unknown>",
        "Uniqueid": uid,
        "Linkedid": uid,
        "Queue": "support",
    }


def agent(uid: str, member: str, leg: str) -> dict[str, str]:
    return {
        "DestChannel": f"PJSIP/{member}-{leg}",
        "DestUniqueid": leg,
        "DestLinkedid": uid,
        "MemberName": member,
        "Interface": f"PJSIP/{member}",
    }


A, B, C = "1733.101", "1733.202", "1733.303"
# fmt: off
JOIN_A = ami(Event="QueueCallerJoin", **caller(A, "+34600111222"), Position="1", Count="1",
             Timestamp=ts(0))
CONNECT_C = ami(Event="AgentConnect", **caller(C, "600333444"), **agent(C, "cara", "1733.31"),
                RingTime="3", HoldTime="9", Timestamp=ts(40))

TRANSCRIPT = [
    JOIN_A,
    JOIN_A,  # AMI resends nothing, but a reconnecting relay might: the same frame twice
    ami(Event="AgentCalled", **caller(A, "+34600111222"), **agent(A, "ana", "1733.11"),
        Timestamp=ts(1)),
    ami(Event="AgentRingNoAnswer", **caller(A, "+34600111222"), **agent(A, "ana", "1733.11"),
        RingTime="15", Timestamp=ts(16)),
    ami(Event="AgentCalled", **caller(A, "+34600111222"), **agent(A, "ben", "1733.12"),
        Timestamp=ts(17)),
    ami(Event="AgentConnect", **caller(A, "+34600111222"), **agent(A, "ben", "1733.12"),
        RingTime="3", HoldTime="20", Timestamp=ts(20)),
    ami(Event="MusicOnHoldStart", Channel=f"PJSIP/trunk-{A}", Uniqueid=A, Linkedid=A,
        Class="default", Timestamp=ts(29)),  # music is no hold: ignored
    ami(Event="Hold", Channel="PJSIP/ben-1733.12", Uniqueid="1733.12", Linkedid=A,
        MusicClass="default", Timestamp=ts(30)),
    ami(Event="Unhold", Channel="PJSIP/ben-1733.12", Uniqueid="1733.12", Linkedid=A,
        Timestamp=ts(45)),
    ami(Event="AgentComplete", **caller(A, "+34600111222"), **agent(A, "ben", "1733.12"),
        HoldTime="20", TalkTime="80", Reason="caller", Timestamp=ts(100)),
    ami(Event="QueueCallerJoin", **caller(B, "anonymous"), Position="1", Count="1",
        Timestamp=ts(5)),
    ami(Event="QueueCallerAbandon", **caller(B, "anonymous"), Position="1",
        OriginalPosition="1", HoldTime="12", Timestamp=ts(17)),
    # Call C: its QueueCallerJoin never came, and its AgentCalled comes after AgentConnect.
    CONNECT_C,
    ami(Event="AgentCalled", **caller(C, "600333444"), **agent(C, "cara", "1733.31"),
        Timestamp=ts(37)),
]
# fmt: on


def fake_asterisk(*transcripts: list[str], refuse: dict[str, str] | None = None) -> FakeServer:
    """Each connection replays the next transcript; all but the last are then dropped.
    Actions named in `refuse` are answered `Response: Error` with that message."""

    async def script(
        server: FakeServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        n = server.connections
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        login = fields(await read_block(reader))
        ok = login.get("Action") == "Login" and login.get("Secret") == SECRET
        assert login.get("Events") == "on"
        message = "Authentication accepted" if ok else "Authentication failed"
        status = "Success" if ok else "Error"
        writer.write(ami(Response=status, ActionID=login["ActionID"], Message=message).encode())
        if not ok:
            return
        for frame in transcripts[min(n, len(transcripts)) - 1]:
            writer.write(frame.encode())
        await writer.drain()
        if n < len(transcripts):
            return  # drop the connection: the adapter must come back for the rest
        server.final.set()
        while True:
            action = await read_block(reader)
            server.received.append(action)
            asked = fields(action)
            refusal = (refuse or {}).get(asked.get("Action", ""))
            status, message = ("Error", refusal) if refusal else ("Success", "ok")
            reply = ami(Response=status, ActionID=asked["ActionID"], Message=message)
            writer.write(reply.encode())
            await writer.drain()

    return FakeServer(script)


@pytest.fixture
async def services(db_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    built = make_services(Settings(database_url=db_url), engine=engine)
    await add_agents(built.sessions, "ana", "ben", "cara")
    yield built
    await built.close()


@contextlib.asynccontextmanager
async def listening(adapter: AsteriskAdapter, server: FakeServer) -> AsyncIterator[None]:
    task = asyncio.create_task(adapter.run())
    try:
        await asyncio.wait_for(server.final.wait(), 20)
        await asyncio.wait_for(adapter.connected.wait(), 20)
        await adapter.action("Ping")  # answered after every event sent before it
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def adapter_for(
    server: FakeServer, services: Services, seen: list[Outcome], sink: Sink | None = None
) -> AsteriskAdapter:
    return AsteriskAdapter(
        "127.0.0.1",
        server.port,
        sink or direct(services.events),
        user="frontline",
        secret=SECRET,
        backoff=(0.01, 0.05),
        observer=seen.append,
    )


@pytest.mark.parametrize("through", ["database", "http api"])
async def test_a_transcript_lands_as_calls_states_and_events(
    services: Services, db_url: str, through: str
) -> None:
    seen: list[Outcome] = []
    sink: ApiSink | None = None
    if through == "http api":  # 404s and 409s come back as the same refusals
        app = create_app(Settings(database_url=db_url, api_tokens=("t",)), engine=services.engine)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
        sink = ApiSink("http://api", "t", client=client)
    async with fake_asterisk(TRANSCRIPT) as server:
        adapter = adapter_for(server, services, seen, sink)
        async with listening(adapter, server):
            pass
    if sink is not None:
        await sink.close()
    a = await stored(services.sessions, A)
    assert (a.state, a.agent) == ("wrap_up", "ben")
    assert a.kinds == [
        "queued",
        "offered",
        "queued",
        "offered",
        "answered",
        "held",
        "unheld",
        "ended",
    ]
    assert a.sources == ({"asterisk"} if sink is None else {""})  # the API takes no source
    assert (a.call.caller_number, a.call.queue) == ("+34600111222", "support")
    answered = a.call.answered_at
    assert answered is not None
    assert answered.replace(tzinfo=answered.tzinfo or UTC) == datetime.fromtimestamp(BASE + 20, UTC)
    b = await stored(services.sessions, B)
    assert (b.state, b.kinds, b.call.caller_number) == (
        "abandoned",
        ["queued", "abandoned"],
        "anonymous",
    )
    # No QueueCallerJoin for C: the call starts at its AgentConnect; the late AgentCalled,
    # dated before that start, is refused (logged, the adapter carries on) and changes nothing.
    c = await stored(services.sessions, C)
    assert (c.state, c.agent, c.kinds) == ("answered", "cara", ["queued", "answered"])
    assert await call_count(services.sessions) == 3
    assert await agent_states(services.sessions, ["ana", "ben", "cara"]) == {
        "ana": "available",
        "ben": "wrap_up",
        "cara": "on_call",
    }
    refused = [o.describe() for o in seen if o.refused]
    assert len(refused) == 1 and "before call" in refused[0] and "queued" in refused[0], refused
    assert sum(o.result is not None and o.result.replayed for o in seen) == 1  # JOIN_A twice


async def test_it_reconnects_after_the_pbx_drops_the_connection(services: Services) -> None:
    first, rest = TRANSCRIPT[:6], TRANSCRIPT[6:]
    async with fake_asterisk(first, rest) as server:
        adapter = adapter_for(server, services, [])
        async with listening(adapter, server):
            assert adapter.sessions == 2
    a = await stored(services.sessions, A)
    assert a.kinds[-3:] == ["held", "unheld", "ended"]
    assert a.state == "wrap_up"


async def test_commands_send_redirect_atxfer_park_and_bridge_for_the_calls_legs(
    services: Services,
) -> None:
    async with fake_asterisk(TRANSCRIPT[:6]) as server:
        adapter = adapter_for(server, services, [])
        async with listening(adapter, server):
            await adapter.transfer(A, "2001")
            await adapter.transfer(A, "2002", consult=True)
            await adapter.hold(A)
            await adapter.unhold(A)
            with pytest.raises(PbxError, match="no live Asterisk channel"):
                await adapter.transfer("1733.999", "2001")
    redirect, atxfer, park, bridge = (fields(a) for a in server.received[1:])
    assert {k: redirect[k] for k in ("Action", "Channel", "Exten", "Context", "Priority")} == {
        "Action": "Redirect",
        "Channel": f"PJSIP/trunk-{A}",
        "Exten": "2001",
        "Context": "from-internal",
        "Priority": "1",
    }
    assert {k: atxfer[k] for k in ("Action", "Channel", "Exten", "Context")} == {
        "Action": "Atxfer",
        "Channel": "PJSIP/ben-1733.12",
        "Exten": "2002",
        "Context": "from-internal",
    }

    assert (park["Action"], park["Channel"], park["TimeoutChannel"]) == (
        "Park",
        f"PJSIP/trunk-{A}",
        "PJSIP/ben-1733.12",
    )
    assert (bridge["Action"], bridge["Channel1"], bridge["Channel2"]) == (
        "Bridge",
        "PJSIP/ben-1733.12",
        f"PJSIP/trunk-{A}",
    )


async def test_a_wrong_secret_stops_the_adapter(services: Services) -> None:
    async with fake_asterisk(TRANSCRIPT) as server:
        adapter = adapter_for(server, services, [])
        adapter.secret = "wrong"
        with pytest.raises(LoginRefused, match="Authentication failed"):
            await asyncio.wait_for(adapter.run(), 20)
    assert await call_count(services.sessions) == 0


def test_frames_map_onto_the_canonical_kinds() -> None:
    async def refuse(_: object) -> object:
        raise AssertionError("parse never delivers")

    adapter = AsteriskAdapter("127.0.0.1", 1, refuse)  # type: ignore[arg-type]
    failed = {"Event": "BlindTransfer", "Result": "Not Permitted", "TransfereeLinkedid": A}
    done = {**failed, "Result": "Success", "Extension": "2001"}
    assert adapter.parse(failed) == []
    [moved] = adapter.parse(done)  # made on the agent's phone: the call goes on at 2001
    assert (moved.kind.value, moved.external_id, moved.idempotency_key) == ("transferred", A, None)
    assert moved.transfer == Transfer("blind", to_queue="2001")
    assert adapter.parse({"Event": "PeerStatus", "Peer": "PJSIP/ana"}) == []
    # A hold pressed on the agent's phone: its CallerIDNum is the agent's, never the caller's.
    hold = {"Event": "Hold", "Channel": "PJSIP/ben-1", "CallerIDNum": "2001", "Linkedid": A}
    [held] = adapter.parse(hold)
    assert (held.kind.value, held.external_id, held.caller_number) == ("held", A, "")
