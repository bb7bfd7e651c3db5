"""Real SIP calls: SIPp phones call through Kamailio, running the config that
`frontline pbx kamailio-config` prints, with Frontline as its ACD; what Frontline stores.

Needs `kamailio` (with its http_client and json modules) and `sipp`: `make install` installs
them (scripts/install-system-deps). Under CI=true these tests run, never skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sip_stack import CALLER, SipStack, free_port, missing_tools, sip_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SipStack]:
    missing = missing_tools()
    if missing:
        message = f"{', '.join(missing)} not installed (scripts/install-system-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the SIP tests must run)")
        pytest.skip(message)
    with sip_stack(Path(tmp_path_factory.mktemp("sip"))) as running:
        yield running


def _ok(*processes: subprocess.Popen[bytes]) -> None:
    """Every SIPp phone went through its whole scenario."""
    for process in processes:
        code = process.wait(timeout=30)
        errors = b"" if process.stderr is None else process.stderr.read()
        assert code == 0, f"SIPp {process.args!r} failed: {errors.decode(errors='replace')}"


def _offered_to(stack: SipStack, external_id: str) -> list[str]:
    return [
        json.loads(str(payload))["agent"]
        for (payload,) in stack.rows(
            "SELECT e.payload FROM call_event e JOIN call_reference r ON r.call_id = e.call_id "
            "WHERE r.external_id = ? AND e.kind = 'offered' ORDER BY e.id",
            external_id,
        )
    ]


def _ended(rows: list[tuple[object, ...]]) -> bool:
    return bool(rows) and all(row[1] in ("wrap_up", "abandoned") for row in rows)


def test_an_answered_call_is_queued_offered_answered_and_ended(stack: SipStack) -> None:
    port = free_port()
    stack.agent("ana", port, "sales")
    phone = stack.phone("uas_answer.xml", "ana", port)
    _ok(stack.call("uac_call.xml", "sales"), phone)
    stack.settle("sales", _ended)

    [(external_id, state, agent, number)] = stack.calls_of_queue("sales")
    assert (state, agent, number) == ("wrap_up", "ana", CALLER)  # the '+' survived
    assert stack.call_events(str(external_id)) == ["queued", "offered", "answered", "ended"]
    assert stack.agent_state("ana") == ("wrap_up", "")


def test_a_reinvite_sendonly_holds_and_sendrecv_resumes(stack: SipStack) -> None:
    port = free_port()
    stack.agent("hal", port, "hold")
    phone = stack.phone("uas_hold.xml", "hal", port)
    _ok(stack.call("uac_hold.xml", "hold"), phone)
    stack.settle("hold", _ended)

    [(external_id, state, agent, _)] = stack.calls_of_queue("hold")
    assert (state, agent) == ("wrap_up", "hal")
    assert stack.call_events(str(external_id)) == [
        "queued",
        "offered",
        "answered",
        "held",
        "unheld",
        "ended",
    ]


def test_a_caller_who_hangs_up_while_it_rings_abandons(stack: SipStack) -> None:
    port = free_port()
    stack.agent("abe", port, "impatient")
    phone = stack.phone("uas_ring.xml", "abe", port)
    # The caller gives up after half a second, before the ring time is up.
    _ok(stack.call("uac_cancel.xml", "impatient", talk_ms=500), phone)
    stack.settle("impatient", _ended)

    [(external_id, state, _, _)] = stack.calls_of_queue("impatient")
    assert state == "abandoned"
    assert stack.call_events(str(external_id)) == ["queued", "offered", "abandoned"]
    # Not the agent's fault: still ready for the next call.
    assert stack.agent_state("abe") == ("available", "")


def test_ring_no_answer_goes_to_the_next_agent_and_the_first_takes_a_break(
    stack: SipStack,
) -> None:
    slow, quick = free_port(), free_port()
    stack.agent("rex", slow, "rna")  # ready first: the longest available, rung first
    stack.agent("rui", quick, "rna")
    phones = stack.phone("uas_ring.xml", "rex", slow), stack.phone("uas_answer.xml", "rui", quick)
    _ok(stack.call("uac_call.xml", "rna"), *phones)
    stack.settle("rna", _ended)

    [(external_id, state, agent, _)] = stack.calls_of_queue("rna")
    assert (state, agent) == ("wrap_up", "rui")
    assert stack.call_events(str(external_id)) == [
        "queued",
        "offered",
        "queued",
        "offered",
        "answered",
        "ended",
    ]
    assert _offered_to(stack, str(external_id)) == ["rex", "rui"]
    assert stack.agent_state("rex") == ("break", "no answer")


def test_a_blind_transfer_ends_the_agents_part_and_the_new_leg_is_routed(
    stack: SipStack,
) -> None:
    first, second = free_port(), free_port()
    stack.agent("tia", first, "front")
    stack.agent("tom", second, "back")
    target = ("transfer_to", f"back@127.0.0.1:{stack.sip_port}")
    phone = stack.phone("uas_transfer.xml", "tia", first, target)
    _ok(stack.call("uac_transfer.xml", "front"), phone)
    # The transferee's phone dials the Refer-To target: a call of its own, through the ACD.
    phone = stack.phone("uas_answer.xml", "tom", second)
    _ok(stack.call("uac_call.xml", "back"), phone)
    stack.settle("front", _ended)
    stack.settle("back", _ended)

    [(referred, state, agent, _)] = stack.calls_of_queue("front")
    assert (state, agent) == ("wrap_up", "tia")
    assert stack.call_events(str(referred)) == ["queued", "offered", "answered", "ended"]
    [(key,)] = stack.rows(
        "SELECT e.idempotency_key FROM call_event e JOIN call_reference r "
        "ON r.call_id = e.call_id WHERE r.external_id = ? AND e.kind = 'ended'",
        referred,
    )
    assert str(key).endswith("-refer")  # ended by the REFER, not by the BYE after it
    [(_, state, agent, number)] = stack.calls_of_queue("back")
    assert (state, agent, number) == ("wrap_up", "tom", CALLER)


def test_a_call_waits_in_the_queue_until_an_agent_is_ready(stack: SipStack) -> None:
    port = free_port()
    stack.agent("wes", port, "wait")
    with stack.api as api:
        api.post("/v1/agents/wes/state", json={"state": "break", "reason": "lunch"})
    phone = stack.phone("uas_answer.xml", "wes", port)
    caller = stack.call("uac_call.xml", "wait", background=True)
    stack.settle("wait", lambda rows: bool(rows))
    assert [row[1] for row in stack.calls_of_queue("wait")] == ["queued"]
    with stack.api as api:
        api.post("/v1/agents/wes/state", json={"state": "available"}).raise_for_status()
    _ok(caller, phone)
    stack.settle("wait", _ended)

    [(external_id, state, agent, _)] = stack.calls_of_queue("wait")
    assert (state, agent) == ("wrap_up", "wes")
    assert stack.call_events(str(external_id)) == ["queued", "offered", "answered", "ended"]


def test_a_caller_who_hangs_up_in_the_queue_abandons(stack: SipStack) -> None:
    _ok(stack.call("uac_queue_cancel.xml", "empty", talk_ms=1500))
    stack.settle("empty", _ended)

    [(external_id, state, agent, _)] = stack.calls_of_queue("empty")
    assert (state, agent) == ("abandoned", None)
    assert stack.call_events(str(external_id)) == ["queued", "abandoned"]


async def test_an_invite_through_kamailio_pops_the_caller_on_the_agents_console(
    stack: SipStack, tmp_path: Path
) -> None:
    """The whole way: a SIP INVITE from a customer's number reaches Kamailio, Frontline picks
    the agent, and the agent's console (headless, its own screen-pop code) opens that customer."""
    from console.app import ConsoleApp
    from console.widgets.call_panel import CallPanel
    from core.services import make_services
    from tests.console.conftest import console_settings
    from tests.console.seed import seed
    from tests.console.test_screen_pop import until

    services = make_services(
        console_settings(f"sqlite+aiosqlite:///{stack.database}", tmp_path / "data")
    )
    try:
        customer_ids = await seed(services.sessions)
        port = free_port()
        stack.agent("pia", port, "pop")
        phone = stack.phone("uas_answer.xml", "pia", port)
        app = ConsoleApp(services, agent_name="pia")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.agent_screen.ready)
            # Ana García Ruiz's number, as a phone system sends it.
            caller = stack.call(
                "uac_call.xml", "pop", talk_ms=1500, background=True, caller="+34622333444"
            )
            panel = app.agent_screen.query_one(CallPanel)
            await until(pilot, lambda: panel.draft is not None)
            assert panel.draft is not None
            assert panel.draft.customer_id == customer_ids[2]
            assert app.agent_screen.customer_id == customer_ids[2]
        _ok(caller, phone)
    finally:
        await services.close()


async def _transfer(stack: SipStack, tmp_path: Path, external_id: str, **target: str) -> str:
    """A blind transfer as the agent's console asks for it (the outbox); the command's state
    once `frontline pbx listen kamailio` (started by the stack) has carried it out."""
    from core.models import PbxCommandKind
    from core.services import make_services
    from tests.console.conftest import console_settings

    services = make_services(
        console_settings(f"sqlite+aiosqlite:///{stack.database}", tmp_path / "data")
    )
    try:
        [(call_id, agent)] = stack.rows(
            "SELECT c.id, a.user_name FROM call c JOIN call_reference r ON r.call_id = c.id "
            "JOIN agent a ON a.id = c.agent_id WHERE r.external_id = ?",
            external_id,
        )
        command = await services.commands.request(
            int(str(call_id)), PbxCommandKind.BLIND_TRANSFER, requested_by=str(agent), **target
        )
        assert command is not None and command.source == "kamailio"
        deadline = asyncio.get_running_loop().time() + 10
        while not command.finished and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            command = await services.commands.get(command.id)
        return f"{command.state} {command.error}".strip()
    finally:
        await services.close()


@pytest.mark.parametrize("target", ["agent", "queue"])
async def test_a_blind_transfer_from_the_console_refers_the_caller_to_the_target(
    stack: SipStack, tmp_path: Path, target: str
) -> None:
    """Ctrl+T on a Kamailio call: Kamailio REFERs the caller (202), hangs the agent's phone up;
    the caller dials the Refer-To through Kamailio and the target agent's phone rings for the
    same call, which they answer."""
    first, second = free_port(), free_port()
    front, back = f"refer-{target}", f"refer-{target}-back"
    stack.agent(f"ria-{target}", first, front)
    stack.agent(f"rob-{target}", second, back)
    agent_phone = stack.phone("uas_answer.xml", f"ria-{target}", first)  # gets Kamailio's BYE
    log = tmp_path / "caller.log"
    caller = stack.call("uac_referred.xml", front, background=True, log=log)
    stack.settle(front, lambda rows: bool(rows) and rows[0][1] == "answered")
    [(external_id, state, _, _)] = stack.calls_of_queue(front)
    assert state == "answered"

    to = {"to_agent": f"rob-{target}"} if target == "agent" else {"to_queue": back}
    assert await _transfer(stack, tmp_path, str(external_id), **to) == "done"
    _ok(caller, agent_phone)  # the caller took the REFER (202) and Kamailio's BYE
    [(call_id,)] = stack.rows(
        "SELECT call_id FROM call_reference WHERE external_id = ?", external_id
    )
    refer_to = f"sip:xfer.{call_id}@127.0.0.1:{stack.sip_port}"
    assert f"Refer-To: {refer_to} " in log.read_text(encoding="utf-8")

    # The caller's phone dials the Refer-To: the same call rings the target agent.
    target_phone = stack.phone("uas_answer.xml", f"rob-{target}", second)
    _ok(stack.call("uac_call.xml", f"xfer.{call_id}"), target_phone)
    home = front if target == "agent" else back  # a call sent to a queue is that queue's
    stack.settle(home, _ended)

    [(_, state, agent, number)] = stack.calls_of_queue(home)
    assert (state, agent, number) == ("wrap_up", f"rob-{target}", CALLER)
    offered = ["offered"] if target == "queue" else []  # a queue's agent is chosen on arrival
    assert stack.call_events(str(external_id)) == [
        "queued",
        "offered",
        "answered",
        "transferred",
        *offered,
        "answered",
        "ended",
    ]
    assert stack.agent_state(f"ria-{target}") == ("wrap_up", "after transfer")
    [(source, payload)] = stack.rows(
        "SELECT e.source, e.payload FROM call_event e WHERE e.call_id = ? "
        "AND e.kind = 'transferred'",
        call_id,
    )
    assert source == "kamailio"
    assert json.loads(str(payload))["transfer"] == {
        "mode": "blind",
        **({"agent": f"rob-{target}"} if target == "agent" else {"queue": back}),
    }
    # Nobody may dial into the call again once the transfer is over.
    _ok(stack.call("uac_not_found.xml", f"xfer.{call_id}"))


async def test_a_referred_caller_faster_than_frontline_waits_for_the_transfer(
    stack: SipStack, tmp_path: Path
) -> None:
    """A real phone dials the Refer-To at once, maybe before the runner recorded the transfer:
    Kamailio asks Frontline again (every 250 ms) until it has, then rings the target."""
    import httpx

    from core.calls.model import EventRequest, Transfer
    from core.models import CallEventKind
    from core.services import make_services
    from tests.console.conftest import console_settings
    from tests.e2e.sip_stack import TOKEN

    first, second = free_port(), free_port()
    stack.agent("fay", first, "fast")
    stack.agent("fin", second, "fast-back")
    agent_phone = stack.phone("uas_answer.xml", "fay", first)
    caller = stack.call("uac_referred.xml", "fast", background=True)
    stack.settle("fast", lambda rows: bool(rows) and rows[0][1] == "answered")
    [(external_id, _, _, _)] = stack.calls_of_queue("fast")
    [(call_id,)] = stack.rows(
        "SELECT call_id FROM call_reference WHERE external_id = ?", external_id
    )
    # Kamailio's command listener asked directly: the REFER goes out, nothing recorded yet.
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        url = f"http://127.0.0.1:{stack.commands_port}/frontline/refer"
        refused = await client.post(
            url,
            json={"call": call_id},
            headers={"Authorization": "Bearer wrong"},
        )
        assert refused.status_code == 401
        sent = await client.post(url, json={"call": call_id})
        assert sent.status_code == 200, sent.text
        gone = await client.post(url, json={"call": 999999})
        assert gone.status_code == 404
    _ok(caller, agent_phone)
    target_phone = stack.phone("uas_answer.xml", "fin", second)
    again = stack.call("uac_call.xml", f"xfer.{call_id}", background=True)
    await asyncio.sleep(1.0)
    assert stack.calls_of_queue("fast")[0][1:3] == ("answered", "fay")  # still waiting
    services = make_services(
        console_settings(f"sqlite+aiosqlite:///{stack.database}", tmp_path / "data")
    )
    try:
        await services.events.apply(
            EventRequest(
                CallEventKind.TRANSFERRED,
                call_id=int(str(call_id)),
                transfer=Transfer("blind", to_agent="fin"),
                source="kamailio",
            )
        )
    finally:
        await services.close()
    _ok(again, target_phone)
    stack.settle("fast", _ended)
    [(_, state, agent, _)] = stack.calls_of_queue("fast")
    assert (state, agent) == ("wrap_up", "fin")
    assert stack.call_events(str(external_id))[-3:] == ["transferred", "answered", "ended"]


async def test_a_transferred_call_can_be_transferred_again(stack: SipStack, tmp_path: Path) -> None:
    """The second transfer REFERs the caller in the dialog of its new leg (Kamailio keeps the
    call's current dialog under Frontline's id)."""
    ports = {name: free_port() for name in ("uma", "ugo", "ula")}
    for name, queue in (("uma", "again"), ("ugo", "again-2"), ("ula", "again-3")):
        stack.agent(name, ports[name], queue)
    phone = stack.phone("uas_answer.xml", "uma", ports["uma"])
    caller = stack.call("uac_referred.xml", "again", background=True)
    stack.settle("again", lambda rows: bool(rows) and rows[0][1] == "answered")
    [(external_id, _, _, _)] = stack.calls_of_queue("again")
    [(call_id,)] = stack.rows(
        "SELECT call_id FROM call_reference WHERE external_id = ?", external_id
    )
    assert await _transfer(stack, tmp_path, str(external_id), to_agent="ugo") == "done"
    _ok(caller, phone)

    phone = stack.phone("uas_answer.xml", "ugo", ports["ugo"])
    log = tmp_path / "second.log"
    caller = stack.call("uac_referred.xml", f"xfer.{call_id}", background=True, log=log)
    stack.settle("again", lambda rows: bool(rows) and rows[0][1:3] == ("answered", "ugo"))
    assert await _transfer(stack, tmp_path, str(external_id), to_queue="again-3") == "done"
    _ok(caller, phone)
    assert f"Refer-To: sip:xfer.{call_id}@127.0.0.1:{stack.sip_port} " in log.read_text()

    phone = stack.phone("uas_answer.xml", "ula", ports["ula"])
    _ok(stack.call("uac_call.xml", f"xfer.{call_id}"), phone)
    stack.settle("again-3", _ended)
    [(_, state, agent, _)] = stack.calls_of_queue("again-3")
    assert (state, agent) == ("wrap_up", "ula")
    assert stack.call_events(str(external_id)) == [
        "queued",
        "offered",
        "answered",
        "transferred",
        "answered",
        "transferred",
        "offered",
        "answered",
        "ended",
    ]
