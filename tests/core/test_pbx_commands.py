"""Commands for the phone system: the console's outbox, the exact AMI action / ESL command each
one becomes (over the fake event sockets), the PBX's refusal told back, and the hand-off of a
transfer (the notes so far and the reason go with the call; the first agent wraps up)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from core.calls.errors import InvalidTransition
from core.calls.model import EventRequest, Transfer
from core.config import Settings
from core.models import Agent, CallEvent, CallEventKind, Customer, Interaction, PbxCommandKind
from core.pbx.adapter import Adapter
from core.pbx.commands import CommandView, PbxUnsupported
from core.pbx.sinks import direct
from core.services import Services, make_services
from tests.core import test_pbx_asterisk as ast
from tests.core import test_pbx_freeswitch as fs
from tests.core.pbx_fakes import add_agents, agent_states, fields, stored

K = PbxCommandKind
E = CallEventKind


@pytest.fixture
async def services(db_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    built = make_services(Settings(database_url=db_url), engine=engine)
    await add_agents(built.sessions, "ana", "ben", "cara")
    yield built
    await built.close()


async def finished(services: Services, command: CommandView | None) -> CommandView:
    """The command once its adapter answered it (done or failed)."""
    assert command is not None
    for _ in range(400):
        seen = await services.commands.get(command.id)
        if seen.finished:
            return seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"command {command.id} never finished: {seen}")


class Running:
    """An adapter's command runner, running until the block ends."""

    def __init__(self, adapter: Adapter, services: Services) -> None:
        self._runner = adapter.commands(services.commands)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        self._task = asyncio.create_task(self._runner.run())

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def test_asterisk_gets_park_bridge_atxfer_and_hangup_and_a_refusal_is_told_back(
    services: Services,
) -> None:
    refuse = {"CancelAtxfer": "Cancel attended transfer feature not configured"}
    async with ast.fake_asterisk(ast.TRANSCRIPT[:6], refuse=refuse) as server:
        adapter = ast.adapter_for(server, services, [])
        async with ast.listening(adapter, server), Running(adapter, services):
            call_id = (await stored(services.sessions, ast.A)).call.id
            assert call_id is not None
            ask = services.commands.request

            held = await finished(services, await ask(call_id, K.HOLD, requested_by="ben"))
            assert (held.state, (await stored(services.sessions, ast.A)).state) == ("done", "held")
            await finished(services, await ask(call_id, K.UNHOLD, requested_by="ben"))
            consult = await ask(call_id, K.CONSULT_TRANSFER, requested_by="ben", to_agent="cara")
            await finished(services, consult)
            assert (await stored(services.sessions, ast.A)).agent == "ben"  # still talking
            cancel = await finished(
                services, await ask(call_id, K.CANCEL_CONSULT, requested_by="ben")
            )
            complete = await ask(call_id, K.COMPLETE_CONSULT, requested_by="ben")
            assert complete is not None and complete.to_agent == "cara"  # the consult's target
            await finished(services, complete)
    park, bridge, atxfer, cancel_atxfer, hangup = (fields(a) for a in server.received[1:])
    leg_caller, leg_agent = f"PJSIP/trunk-{ast.A}", "PJSIP/ben-1733.12"
    assert (park["Action"], park["Channel"], park["TimeoutChannel"]) == (
        "Park",
        leg_caller,
        leg_agent,
    )
    assert (bridge["Action"], bridge["Channel1"], bridge["Channel2"]) == (
        "Bridge",
        leg_agent,
        leg_caller,
    )
    assert {k: atxfer[k] for k in ("Action", "Channel", "Exten", "Context")} == {
        "Action": "Atxfer",
        "Channel": leg_agent,
        "Exten": "cara",
        "Context": "from-internal",
    }
    assert (cancel_atxfer["Action"], cancel_atxfer["Channel"]) == ("CancelAtxfer", leg_agent)
    assert (cancel.state, cancel.error) == (
        "failed",
        "Asterisk refused CancelAtxfer: Cancel attended transfer feature not configured",
    )
    assert (hangup["Action"], hangup["Channel"]) == ("Hangup", leg_agent)
    a = await stored(services.sessions, ast.A)
    assert (a.state, a.agent) == ("answered", "cara")
    assert a.kinds[-3:] == ["held", "unheld", "transferred"]
    assert a.sources >= {"asterisk"}
    assert await agent_states(services.sessions, ["ben", "cara"]) == {
        "ben": "wrap_up",  # after-call work for his part
        "cara": "on_call",
    }


async def test_asterisk_blind_transfer_is_a_redirect_and_the_agents_end_of_it_no_hang_up(
    services: Services,
) -> None:
    async with ast.fake_asterisk(ast.TRANSCRIPT[:6]) as server:
        adapter = ast.adapter_for(server, services, [])
        async with ast.listening(adapter, server), Running(adapter, services):
            call_id = (await stored(services.sessions, ast.A)).call.id
            assert call_id is not None
            command = await services.commands.request(
                call_id, K.BLIND_TRANSFER, requested_by="ben", to_queue="sales"
            )
            assert (await finished(services, command)).state == "done"
            # app_queue then reports the agent's end of the bridge: not a hang-up.
            complete = {"Event": "AgentComplete", **ast.caller(ast.A, "+34600111222")}
            assert adapter.parse({**complete, "Reason": "transfer"}) == []
    redirect = fields(server.received[-1])
    assert {k: redirect[k] for k in ("Action", "Channel", "Exten", "Context", "Priority")} == {
        "Action": "Redirect",
        "Channel": f"PJSIP/trunk-{ast.A}",
        "Exten": "sales",
        "Context": "from-internal",
        "Priority": "1",
    }
    a = await stored(services.sessions, ast.A)
    assert (a.state, a.call.queue, a.agent) == ("queued", "sales", "")
    async with services.sessions() as session:
        raw = (
            await session.execute(
                select(col(CallEvent.raw)).where(
                    col(CallEvent.call_id) == a.call.id, col(CallEvent.kind) == "transferred"
                )
            )
        ).scalar_one()
    assert json.loads(raw or "{}") == {"command": "blind_transfer", "reply": "ok"}


async def test_freeswitch_gets_uuid_hold_transfer_att_xfer_and_its_err_is_told_back(
    services: Services,
) -> None:
    async with fs.fake_freeswitch(fs.TRANSCRIPT[:6]) as server:
        async with fs.listening(server, direct(services.events)) as adapter:
            async with Running(adapter, services):
                call_id = (await stored(services.sessions, fs.X)).call.id
                assert call_id is not None
                ask = services.commands.request
                refused = await finished(
                    services,
                    await ask(call_id, K.BLIND_TRANSFER, requested_by="ben", to_queue="gone"),
                )
                for kind in (K.HOLD, K.UNHOLD):
                    await finished(services, await ask(call_id, kind, requested_by="ben"))
                await finished(
                    services,
                    await ask(call_id, K.CONSULT_TRANSFER, requested_by="ben", to_agent="cara"),
                )
                await finished(services, await ask(call_id, K.COMPLETE_CONSULT, requested_by="ben"))
                # mod_callcenter then ends ben's bridge and the member's queue entry.
                assert adapter._moving == {fs.X: "ben"}
                assert all(
                    adapter.parse(
                        {
                            "Event-Subclass": "callcenter::info",
                            "CC-Action": action,
                            "CC-Member-Session-UUID": fs.X,
                            "CC-Agent": "ben@default",
                            "CC-Cause": "Terminated",
                        }
                    )
                    == []
                    for action in ("bridge-agent-end", "member-queue-end")
                )
    assert server.received[1:] == [
        f"api uuid_transfer {fs.X} gone XML default",
        f"api uuid_hold {fs.X}",
        f"api uuid_hold off {fs.X}",
        "api uuid_broadcast leg-x att_xfer::user/cara aleg",
        "api uuid_recv_dtmf leg-x *",
    ]
    assert (refused.state, refused.error) == (
        "failed",
        "FreeSWITCH refused uuid_transfer: No such channel!",
    )
    x = await stored(services.sessions, fs.X)
    assert (x.state, x.agent) == ("answered", "cara")
    assert x.kinds[-3:] == ["held", "unheld", "transferred"]


async def test_the_outbox_knows_which_phone_system_can_be_commanded(services: Services) -> None:
    ask = services.commands.request
    ana = await services.agents.ensure("ana")
    assert ana.id is not None
    console = await services.calls.start(ana.id, None, "600111222")  # no phone system
    assert console.id is not None
    assert await ask(console.id, K.HOLD, requested_by="ana") is None

    async def answered(source: str, external: str, agent: str) -> int:
        await services.events.apply(
            EventRequest(E.QUEUED, external_id=external, caller_number="600", source=source)
        )
        done = await services.events.apply(
            EventRequest(E.ANSWERED, external_id=external, agent=agent, source=source)
        )
        return done.call_id

    sip = await answered("kamailio", "sip-call-1@host", "ben")
    with pytest.raises(PbxUnsupported, match="use your phone's hold key"):
        await ask(sip, K.HOLD, requested_by="ben")
    pbx = await answered("asterisk", "1800.1", "cara")
    with pytest.raises(InvalidTransition, match="no agent named 'nobody'"):
        await ask(pbx, K.BLIND_TRANSFER, requested_by="cara", to_agent="nobody")
    with pytest.raises(InvalidTransition, match="no consult to finish"):
        await ask(pbx, K.COMPLETE_CONSULT, requested_by="cara")
    held = await ask(pbx, K.HOLD, requested_by="cara")
    assert held is not None and (held.state, held.source) == ("pending", "asterisk")
    claimed = await services.commands.claim("asterisk")
    assert [c.id for c in claimed] == [held.id]
    assert await services.commands.claim("asterisk") == []  # sent once
    assert (await services.commands.get(held.id)).state == "sent"
    assert await services.commands.claim("freeswitch") == []


async def test_a_transfer_on_the_pbx_hands_the_draft_over_and_the_first_agent_wraps_up(
    services: Services,
) -> None:
    from core.calls.drafts import CallDraft

    async with services.sessions() as session, session.begin():
        customer = Customer(external_id="C00000042", first_name="Lucía", last_name="Gómez")
        session.add(customer)
        await session.flush()
        customer_id = customer.id
    ana = await services.agents.ensure("ana")
    assert ana.id is not None
    await services.events.apply(
        EventRequest(E.QUEUED, external_id="1900.1", caller_number="600", source="asterisk")
    )
    call_id = (await stored(services.sessions, "1900.1")).call.id
    call = await services.calls.start(ana.id, customer_id, "600", call_id=call_id)
    assert call.id == call_id
    draft = CallDraft(
        call_id=call_id,
        customer_id=customer_id,
        caller="Lucía Gómez",
        caller_number="600",
        started_at=call.answered_at,  # type: ignore[arg-type]
        reason="billing",
        notes="charged twice in May",
    )
    assert await services.drafts.save(ana.id, draft)
    # The transfer made on the phone system, reported by its adapter: no notes in it.
    await services.events.apply(
        EventRequest(
            E.TRANSFERRED,
            external_id="1900.1",
            source="asterisk",
            transfer=Transfer("blind", to_agent="ben"),
        )
    )
    handed = await services.calls.get(call_id)  # type: ignore[arg-type]
    assert (handed.notes, handed.reason, handed.customer_id) == (
        "charged twice in May",
        "billing",
        customer_id,
    )
    me = await services.agents.ensure("ana")
    assert (me.state, me.state_reason) == ("wrap_up", "after transfer")
    kept = await services.drafts.load(ana.id)
    assert kept is not None and kept.draft.notes == "charged twice in May"

    written = await services.calls.finish_part(
        call_id,  # type: ignore[arg-type]
        ana.id,
        "billing",
        "transferred",
        "charged twice in May; sent to billing",
    )
    assert written is not None and written.agent == "ana"
    assert (await services.agents.ensure("ana")).state == "available"
    assert await services.drafts.load(ana.id) is None
    async with services.sessions() as session:
        ben = (
            await session.execute(select(Agent).where(col(Agent.user_name) == "ben"))
        ).scalar_one()
        notes = (
            await session.execute(
                select(col(Interaction.notes)).where(col(Interaction.call_id) == call_id)
            )
        ).scalars()
        assert list(notes) == ["charged twice in May; sent to billing"]
    assert (await services.calls.get(call_id)).agent_id == ben.id  # type: ignore[arg-type]


async def test_the_consult_under_way_is_read_from_the_database_for_a_restarted_console(
    services: Services,
) -> None:
    from core.calls.drafts import CallDraft

    ask, open_consult = services.commands.request, services.commands.open_consult
    await services.events.apply(
        EventRequest(E.QUEUED, external_id="1950.1", caller_number="600", source="asterisk")
    )
    done = await services.events.apply(
        EventRequest(E.ANSWERED, external_id="1950.1", agent="ana", source="asterisk")
    )
    call_id = done.call_id
    assert await open_consult(call_id) is None
    await ask(call_id, K.HOLD, requested_by="ana")  # not a consult
    assert await open_consult(call_id) is None

    started = await ask(call_id, K.CONSULT_TRANSFER, requested_by="ana", to_agent="ben")
    assert started is not None
    seen = await open_consult(call_id)  # pending: not sent yet, but under way for the agent
    assert seen is not None and (seen.id, seen.to_agent, seen.state) == (
        started.id,
        "ben",
        "pending",
    )
    await services.commands.finish(started.id)
    seen = await open_consult(call_id)
    assert seen is not None and (seen.id, seen.state) == (started.id, "done")

    back = await ask(call_id, K.CANCEL_CONSULT, requested_by="ana")  # target from the consult
    assert back is not None and back.to_agent == "ben"
    assert await open_consult(call_id) is None  # going back to the caller
    await services.commands.finish(back.id, "atxferabort is not configured")
    seen = await open_consult(call_id)  # refused: the consult goes on
    assert seen is not None and seen.id == started.id

    complete = await ask(call_id, K.COMPLETE_CONSULT, requested_by="ana")
    assert complete is not None
    assert await open_consult(call_id) is None

    other = await ask(call_id, K.CONSULT_TRANSFER, requested_by="ana", to_queue="sales")
    assert other is not None
    await services.commands.finish(other.id, "no such queue")
    assert await open_consult(call_id) is None  # a refused consult never started

    ana = await services.agents.ensure("ana")
    assert ana.id is not None
    console = await services.calls.start(ana.id, None, "600111222")  # no phone system
    assert console.id is not None and console.answered_at is not None
    assert await open_consult(console.id) is None  # its consult is on the agent's draft
    draft = CallDraft(
        call_id=console.id,
        customer_id=None,
        caller="Unknown caller",
        caller_number="600111222",
        started_at=console.answered_at,
        notes="wants a refund",
        consult_queue="sales",
    )
    assert await services.drafts.save(ana.id, draft)
    saved = await services.drafts.load(ana.id)
    assert saved is not None and not saved.from_fallback
    assert saved.draft.consulting == ("", "sales")
    assert saved.draft.edited(consult_queue="").consulting is None
