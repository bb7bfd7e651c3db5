"""FreeSWITCH mod_callcenter over ESL (the event socket, inbound): queue events in,
uuid_transfer / uuid_hold out.

ESL frames are header blocks ending with a blank line; a `Content-Length` header announces a
body of that many bytes. FreeSWITCH opens with `auth/request`; we answer `auth <password>`
(ClueCon unless changed) and subscribe with `event plain CUSTOM callcenter::info`. Each
event is a `text/event-plain` body whose header values are URL-encoded. Commands are
answered in the order they were sent (`command/reply`, `api/response`).

The call is the member's session (`CC-Member-Session-UUID`, the caller's channel uuid); the
agent is `CC-Agent` without its `@domain`, which must be the agent's Frontline user name.
The idempotency key is `freeswitch:<Core-UUID>:<Event-Sequence>`: FreeSWITCH numbers every
event it sends, and the core's uuid keeps the numbers apart across restarts. The time is the
event's own `Event-Date-Timestamp` (micro-seconds since 1970, UTC).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from core.calls.model import EventRequest
from core.i18n import words as _
from core.models import CallEventKind
from core.pbx.adapter import (
    Adapter,
    Frame,
    LoginRefused,
    PbxError,
    Sink,
    caller_number,
    epoch,
)

K = CallEventKind

ACTIONS: dict[str, CallEventKind] = {
    "member-queue-start": K.QUEUED,
    "agent-offering": K.OFFERED,
    "bridge-agent-fail": K.QUEUED,  # rang unanswered (or refused): back in the queue
    "bridge-agent-start": K.ANSWERED,
    "bridge-agent-end": K.ENDED,
}
"""CC-Action -> the canonical kind; member-queue-end depends on its CC-Cause (`_END`)."""

_END = {"Terminated": K.COMPLETED, "Cancel": K.ABANDONED}
"""member-queue-end's CC-Cause: Terminated (served, the bridge is over) or Cancel (left
before an agent answered; CC-Cancel-Reason says why: BREAK_OUT, TIMEOUT, NO_AGENT_TIMEOUT…)."""


def parse_headers(text: str, decode: bool = False) -> Frame:
    frame: Frame = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        if sep:
            value = value.strip()
            frame[key.strip()] = unquote(value) if decode else value
    return frame


async def _read(reader: asyncio.StreamReader) -> tuple[Frame, str]:
    """The next envelope and its body; raises ConnectionResetError when FreeSWITCH hangs up."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionResetError(_("FreeSWITCH closed the connection"))
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line:
            lines.append(line)
        elif lines:
            break
    head = parse_headers("\n".join(lines))
    length = int(head.get("Content-Length", "0") or 0)
    body = (await reader.readexactly(length)).decode("utf-8", "replace") if length else ""
    return head, body


def _agent(raw: str) -> str:
    return raw.partition("@")[0]


class FreeswitchAdapter(Adapter):
    """An ESL inbound client: mod_callcenter's events onto the canonical call event."""

    source = "freeswitch"

    def __init__(
        self, host: str, port: int, sink: Sink, *, context: str = "default", **kwargs: Any
    ) -> None:
        kwargs.setdefault("secret", "ClueCon")
        super().__init__(host, port, sink, **kwargs)
        self.context = context
        """The XML dialplan context of transfer targets."""
        self._waiting: deque[asyncio.Future[tuple[Frame, str]]] = deque()
        self._agents: dict[str, str] = {}
        """The call -> the agent's channel uuid, while bridged."""

    # --- events -------------------------------------------------------------------------

    def parse(self, frame: Mapping[str, str]) -> list[EventRequest]:
        if frame.get("Event-Subclass") != "callcenter::info":
            return []
        action = frame.get("CC-Action", "")
        kind = ACTIONS.get(action)
        if action == "member-queue-end":
            kind = _END.get(frame.get("CC-Cause", ""))
        call = frame.get("CC-Member-Session-UUID", "")
        if kind is None or not call:
            return []
        if call in self._moving and action in ("bridge-agent-end", "member-queue-end"):
            # The agent's end of a transfer Frontline asked for, not a hang-up of the call:
            # the member leaves the queue (either cause) and the agent's bridge ends.
            if action == "member-queue-end":
                self._moving.pop(call, None)
            return []
        if action == "bridge-agent-start" and frame.get("CC-Agent-UUID"):
            self._agents[call] = frame["CC-Agent-UUID"]
        elif action in ("bridge-agent-end", "member-queue-end"):
            self._agents.pop(call, None)
        joins = action == "member-queue-start"
        number = frame.get("CC-Member-CID-Number", "")
        core, sequence = frame.get("Core-UUID", ""), frame.get("Event-Sequence", "")
        return [
            EventRequest(
                kind=kind,
                external_id=call,
                caller_number=caller_number(number) if joins or number else "",
                queue=frame.get("CC-Queue", ""),
                agent=_agent(frame.get("CC-Agent", "")) if kind in (K.OFFERED, K.ANSWERED) else "",
                at=epoch(frame.get("Event-Date-Timestamp", ""), 1e6),
                idempotency_key=f"freeswitch:{core}:{sequence}" if core and sequence else None,
                source=self.source,
            )
        ]

    # --- the connection -----------------------------------------------------------------

    async def _session(self, reader: asyncio.StreamReader) -> None:
        head, _body = await _read(reader)
        if head.get("Content-Type") != "auth/request":
            raise PbxError(_("FreeSWITCH did not ask to authenticate: {head}").format(head=head))
        await self._send(f"auth {self.secret}\n\n")
        head, _body = await _read(reader)
        if not head.get("Reply-Text", "").startswith("+OK"):
            raise LoginRefused(
                _("FreeSWITCH refused the login: {reply}").format(reply=head.get("Reply-Text", ""))
            )
        await self._send("event plain CUSTOM callcenter::info\n\n")
        head, _body = await _read(reader)
        if not head.get("Reply-Text", "").startswith("+OK"):
            raise PbxError(
                _("FreeSWITCH refused the subscription: {reply}").format(
                    reply=head.get("Reply-Text")
                )
            )
        self._logged_in()
        while True:
            head, body = await _read(reader)
            kind = head.get("Content-Type", "")
            if kind == "text/event-plain":
                await self.handle(parse_headers(body, decode=True))
            elif kind in ("command/reply", "api/response") and self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_result((head, body))
            elif kind == "text/disconnect-notice":
                raise ConnectionResetError(_("FreeSWITCH is closing the connection"))

    def _closed(self) -> None:
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_exception(PbxError(_("the connection to FreeSWITCH was lost")))
        self._waiting.clear()

    async def api(self, command: str) -> str:
        """Run an API command (`uuid_transfer …`); its answer, or PbxError on `-ERR`."""
        waiter: asyncio.Future[tuple[Frame, str]] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        await self._send(f"api {command}\n\n")
        _frame, body = await asyncio.wait_for(waiter, 10)
        if body.startswith("-ERR"):
            raise PbxError(
                _("FreeSWITCH refused {command}: {reply}").format(
                    command=command.split()[0], reply=body[4:].strip()
                )
            )
        return body

    # --- commands -----------------------------------------------------------------------

    def target(self, to_agent: str, to_queue: str, *, consult: bool = False) -> str:
        if not consult:  # an extension of the transfer context, named after the agent or queue
            return to_agent or to_queue
        # att_xfer dials a channel: the agent's registered phone, or the queue's extension.
        return f"user/{to_agent}" if to_agent else f"loopback/{to_queue}/{self.context}"

    def _agent_leg(self, external_id: str) -> str:
        agent = self._agents.get(external_id)
        if agent is None:
            raise PbxError(_("no agent leg known for call {id}").format(id=external_id))
        return agent

    async def transfer(self, external_id: str, target: str, *, consult: bool = False) -> str:
        if consult:  # the agent's leg runs att_xfer: it talks to the target, then hangs up
            agent = self._agent_leg(external_id)
            return await self.api(f"uuid_broadcast {agent} att_xfer::{target} aleg")
        return await self.api(f"uuid_transfer {external_id} {target} XML {self.context}")

    async def complete_consult(self, external_id: str) -> str:
        # att_xfer's hang-up key (attxfer_hangup_key, `*` by default), as if the agent
        # pressed it: the agent leaves, the caller and the target are bridged.
        return await self.api(f"uuid_recv_dtmf {self._agent_leg(external_id)} *")

    async def cancel_consult(self, external_id: str) -> str:
        # att_xfer's cancel key (attxfer_cancel_key, `#` by default): back to the caller.
        return await self.api(f"uuid_recv_dtmf {self._agent_leg(external_id)} #")

    async def hold(self, external_id: str) -> str:
        return await self.api(f"uuid_hold {external_id}")

    async def unhold(self, external_id: str) -> str:
        return await self.api(f"uuid_hold off {external_id}")


__all__ = ["ACTIONS", "FreeswitchAdapter", "parse_headers"]
