"""Blind transfers of Kamailio calls: what the runner sends to Kamailio's command listener
(over a fake HTTP transport), what it records when Kamailio says the REFER went out or why not,
and what the outbox refuses for a SIP proxy (hold, consult, an agent with no SIP contact)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from core.calls.errors import InvalidTransition
from core.calls.model import EventRequest
from core.config import Settings
from core.models import Agent, CallEventKind, PbxCommandKind
from core.pbx.commands import CommandView, PbxUnsupported
from core.pbx.kamailio_commands import KamailioCommands
from core.pbx.sinks import direct
from core.services import Services, make_services
from tests.core.pbx_fakes import add_agents, stored
from tests.core.test_pbx_commands import finished

K = PbxCommandKind
E = CallEventKind
CALL_ID = "a84b4c76e66710@pc33"


@pytest.fixture
async def services(db_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    built = make_services(Settings(database_url=db_url), engine=engine)
    await add_agents(built.sessions, "ana", "ben", "cara")
    async with built.sessions() as session, session.begin():
        await session.execute(
            update(Agent).where(col(Agent.user_name) != "cara").values(sip_contact="sip:x@h")
        )
    yield built
    await built.close()


async def answered(services: Services, agent: str = "ana") -> int:
    """A call Kamailio reported (as its generated configuration does: source kamailio)."""
    await services.events.apply(
        EventRequest(E.QUEUED, external_id=CALL_ID, caller_number="+34600111222", source="acd")
    )
    done = await services.events.apply(
        EventRequest(E.ANSWERED, external_id=CALL_ID, agent=agent, source="kamailio")
    )
    return done.call_id


class FakeKamailio:
    """Kamailio's command listener: records each request, answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status == 200:
            return httpx.Response(200, json={"refer_to": "sip:xfer.1@10.0.0.1:5060"})
        return httpx.Response(self.status, json={"error": "no answered call with that id"})


async def run_one(
    services: Services, kamailio: FakeKamailio, call_id: int, **target: str
) -> CommandView:
    client = httpx.AsyncClient(transport=httpx.MockTransport(kamailio))
    sender = KamailioCommands("http://10.0.0.1:5090/", "s3cret", direct(services.events), client)
    task = asyncio.create_task(sender.commands(services.commands).run())
    try:
        command = await services.commands.request(
            call_id, K.BLIND_TRANSFER, requested_by="ana", **target
        )
        assert command is not None and command.source == "kamailio"
        return await finished(services, command)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sender.close()


async def test_a_blind_transfer_is_a_refer_request_and_the_call_goes_to_the_agent(
    services: Services,
) -> None:
    call_id = await answered(services)
    kamailio = FakeKamailio()
    done = await run_one(services, kamailio, call_id, to_agent="ben")
    assert (done.state, done.error) == ("done", "")
    [sent] = kamailio.requests
    assert (sent.method, str(sent.url)) == ("POST", "http://10.0.0.1:5090/frontline/refer")
    assert sent.headers["Authorization"] == "Bearer s3cret"
    assert json.loads(sent.content) == {"call": call_id}
    call = await stored(services.sessions, CALL_ID)
    assert (call.state, call.agent) == ("offered", "ben")  # rings there once the caller dials
    assert call.kinds[-1] == "transferred" and "kamailio" in call.sources


async def test_a_call_kamailio_does_not_know_fails_the_command_and_stays(
    services: Services,
) -> None:
    call_id = await answered(services)
    done = await run_one(services, FakeKamailio(404), call_id, to_queue="sales")
    assert done.state == "failed" and "no answered call" in done.error
    call = await stored(services.sessions, CALL_ID)
    assert (call.state, call.agent) == ("answered", "ana")  # nothing moved


async def test_an_unreachable_kamailio_fails_the_command(services: Services) -> None:
    call_id = await answered(services)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(down))
    sender = KamailioCommands("http://10.0.0.1:5090", "s3cret", direct(services.events), client)
    command = await services.commands.request(
        call_id, K.BLIND_TRANSFER, requested_by="ana", to_queue="sales"
    )
    assert command is not None
    [claimed] = await services.commands.claim("kamailio")
    view = await sender.commands(services.commands).execute(claimed)
    assert view.state == "failed" and "cannot reach Kamailio at http://10.0.0.1:5090" in view.error
    await sender.close()


async def test_a_sip_proxy_refuses_hold_consult_and_an_agent_it_cannot_ring(
    services: Services,
) -> None:
    call_id = await answered(services)
    ask = services.commands.request
    for kind in (K.HOLD, K.UNHOLD):
        with pytest.raises(PbxUnsupported, match="use your phone's hold key"):
            await ask(call_id, kind, requested_by="ana")
    with pytest.raises(PbxUnsupported, match="use a blind transfer"):
        await ask(call_id, K.CONSULT_TRANSFER, requested_by="ana", to_agent="ben")
    with pytest.raises(InvalidTransition, match="cara has no SIP contact"):
        await ask(call_id, K.BLIND_TRANSFER, requested_by="ana", to_agent="cara")
    assert await services.commands.claim("kamailio") == []  # nothing recorded
