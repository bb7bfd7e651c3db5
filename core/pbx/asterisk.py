"""Asterisk over AMI (the Manager Interface): app_queue's events in, Redirect/Atxfer out.

AMI is a TCP text protocol: after a one-line banner, frames of `Key: Value` lines end with a
blank line. We log in with `Action: Login` and `Events: on`; each action carries an ActionID
that its `Response` frame echoes.

The call is the caller's channel as app_queue reports it, by its `Linkedid` (the Uniqueid of
the oldest channel of the call, which every leg shares, so a Hold seen on the agent's leg
finds the call too); `Uniqueid` when there is no Linkedid. The agent is the queue member's
`MemberName` (`Interface` when unnamed), which must be the agent's Frontline user name.

AMI events have no id of their own. The idempotency key is therefore
`asterisk:<Linkedid>:<Event>:<DestUniqueid>:<Timestamp>`: the agent's leg (`DestUniqueid`)
tells two rings of one call apart, and `Timestamp` (sent when manager.conf has
`timestampevents = yes`, which also gives every event the time it happened) tells two holds
apart. Without timestamps, events that may repeat on one call (hold, unhold, transfers) go
without a key, and their repeats are caught by the state machine (already held, …).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.calls.model import EventRequest, Transfer
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

EVENTS: dict[str, CallEventKind] = {
    "QueueCallerJoin": K.QUEUED,
    "AgentCalled": K.OFFERED,
    "AgentRingNoAnswer": K.QUEUED,  # rang unanswered: back in the queue (offered -> queued)
    "AgentConnect": K.ANSWERED,
    "Hold": K.HELD,
    "Unhold": K.UNHELD,
    # A blind transfer on the agent's phone: the call goes on at the extension it names.
    "BlindTransfer": K.TRANSFERRED,
    # An attended one made on the phone names no Frontline target: the agent's part is over.
    "AttendedTransfer": K.ENDED,
    "AgentComplete": K.ENDED,  # not with `Reason: transfer` (see `_after_transfer`)
    "QueueCallerAbandon": K.ABANDONED,
}
"""AMI event -> the canonical kind. MusicOnHoldStart/Stop are left out on purpose: a queue
plays music to every waiting caller, which is not a hold."""

_REPEATABLE = frozenset({"Hold", "Unhold", "BlindTransfer", "AttendedTransfer"})
_AGENT_KINDS = frozenset({K.OFFERED, K.ANSWERED})
_TRANSFERS = frozenset({"BlindTransfer", "AttendedTransfer"})
_CALLER_EVENTS = frozenset(EVENTS) - _REPEATABLE


def read_frame(lines: list[str]) -> Frame:
    """One frame's `Key: Value` lines as a dict (a repeated key keeps its last value)."""
    frame: Frame = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep:
            frame[key.strip()] = value.strip()
    return frame


async def _read(reader: asyncio.StreamReader) -> Frame:
    """The next frame; raises ConnectionResetError when Asterisk hangs up."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionResetError(_("Asterisk closed the connection"))
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line:
            lines.append(line)
        elif lines:
            return read_frame(lines)


def write_frame(fields: Mapping[str, str]) -> str:
    return "".join(f"{key}: {value}\r\n" for key, value in fields.items()) + "\r\n"


@dataclass
class _Legs:
    caller: str = ""
    agent: str = ""


class AsteriskAdapter(Adapter):
    """An AMI client: app_queue's events onto the canonical call event; transfers back."""

    source = "asterisk"

    def __init__(
        self, host: str, port: int, sink: Sink, *, context: str = "from-internal", **kwargs: Any
    ) -> None:
        super().__init__(host, port, sink, **kwargs)
        self.context = context
        """The dialplan context of transfer targets."""
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Frame]] = {}
        self._legs: dict[str, _Legs] = {}

    # --- events -------------------------------------------------------------------------

    def parse(self, frame: Mapping[str, str]) -> list[EventRequest]:
        name = frame.get("Event", "")
        kind = EVENTS.get(name)
        if kind is None:
            return []
        prefix = "Transferee" if name in _TRANSFERS else ""
        if name in _TRANSFERS and frame.get("Result", "Success") != "Success":
            return []  # a failed transfer leaves the call where it was
        call = frame.get(f"{prefix}Linkedid") or frame.get(f"{prefix}Uniqueid", "")
        if not call:
            return []
        if self._after_transfer(name, call, frame):
            return []
        legs = self._legs.setdefault(call, _Legs())
        if name == "QueueCallerJoin":
            legs.caller = frame.get("Channel", "")
        if name == "AgentConnect":
            legs.caller = frame.get("Channel", legs.caller)
            legs.agent = frame.get("DestChannel", "")
        if kind in (K.ENDED, K.ABANDONED):
            self._legs.pop(call, None)
        # Queue events describe the caller's channel; a hold may be on the agent's.
        number = frame.get("CallerIDNum", "") if name in _CALLER_EVENTS else ""
        transfer = self._transfer(name, frame)
        return [
            EventRequest(
                kind=K.TRANSFERRED if transfer else kind,
                transfer=transfer,
                external_id=call,
                caller_number=caller_number(number) if number else "",
                queue=frame.get("Queue", ""),
                agent=(frame.get("MemberName") or frame.get("Interface", ""))
                if kind in _AGENT_KINDS
                else "",
                at=epoch(frame.get("Timestamp", "")),
                idempotency_key=self._key(name, call, frame),
                source=self.source,
            )
        ]

    def _after_transfer(self, name: str, call: str, frame: Mapping[str, str]) -> bool:
        """True for the transferring agent's end of a transfer: app_queue's AgentComplete
        with `Reason: transfer`, and the AttendedTransfer that completes a consult Frontline
        asked for. The transfer itself is reported on its own (the command's confirmation,
        or BlindTransfer), so these are not a hang-up of the call."""
        if name == "AgentComplete" and (frame.get("Reason") == "transfer" or call in self._moving):
            self._moving.pop(call, None)
            return True
        return name == "AttendedTransfer" and self._moving.pop(call, None) is not None

    def _transfer(self, name: str, frame: Mapping[str, str]) -> Transfer | None:
        """A transfer made on the agent's phone (BlindTransfer): the call went to the
        extension it names, which Frontline takes for a queue (its queue events follow)."""
        if name != "BlindTransfer" or not frame.get("Extension"):
            return None
        return Transfer("blind", to_queue=frame["Extension"][:40])

    def _key(self, name: str, call: str, frame: Mapping[str, str]) -> str | None:
        stamp = frame.get("Timestamp", "")
        if not stamp and name in _REPEATABLE:
            return None
        return ":".join(["asterisk", call, name, frame.get("DestUniqueid", ""), stamp])

    # --- the connection -----------------------------------------------------------------

    async def _session(self, reader: asyncio.StreamReader) -> None:
        await reader.readline()  # "Asterisk Call Manager/x.y.z"
        login = f"frontline-{next(self._ids)}"
        fields = {"Username": self.user, "Secret": self.secret, "Events": "on"}
        await self._send(write_frame({"Action": "Login", "ActionID": login, **fields}))
        while (frame := await _read(reader)).get("ActionID") != login:
            pass  # nothing is ours before the login is answered
        if frame.get("Response") != "Success":
            raise LoginRefused(
                _("Asterisk refused the login: {reply}").format(reply=frame.get("Message", ""))
            )
        self._logged_in()
        while True:
            frame = await _read(reader)
            if "Event" in frame:
                await self.handle(frame)
                continue
            waiter = self._waiting.pop(frame.get("ActionID", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)

    def _closed(self) -> None:
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(PbxError(_("the connection to Asterisk was lost")))
        self._waiting.clear()

    async def action(self, action: str, **fields: str) -> Frame:
        """Send an action and wait for its response; raises PbxError when refused."""
        action_id = f"frontline-{next(self._ids)}"
        waiter: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[action_id] = waiter
        await self._send(write_frame({"Action": action, "ActionID": action_id, **fields}))
        response = await asyncio.wait_for(waiter, 10)
        if response.get("Response") != "Success":
            raise PbxError(
                _("Asterisk refused {action}: {reply}").format(
                    action=action, reply=response.get("Message", "")
                )
            )
        return response

    # --- commands -----------------------------------------------------------------------

    def _leg(self, external_id: str, which: str) -> str:
        channel = getattr(self._legs.get(external_id, _Legs()), which)
        if not channel:
            raise PbxError(_("no live Asterisk channel known for call {id}").format(id=external_id))
        return str(channel)

    async def _do(self, action: str, **fields: str) -> str:
        response = await self.action(action, **fields)
        return response.get("Message", "") or "Success"

    async def transfer(self, external_id: str, target: str, *, consult: bool = False) -> str:
        if consult:  # the agent's leg dials the target; the caller hears hold until it joins
            channel = self._leg(external_id, "agent")
            return await self._do("Atxfer", Channel=channel, Exten=target, Context=self.context)
        channel = self._leg(external_id, "caller")
        return await self._do(
            "Redirect", Channel=channel, Exten=target, Context=self.context, Priority="1"
        )

    async def complete_consult(self, external_id: str) -> str:
        # An attended transfer completes when the transferer hangs up: the caller and the
        # target are bridged.
        return await self._do("Hangup", Channel=self._leg(external_id, "agent"), Cause="16")

    async def cancel_consult(self, external_id: str) -> str:
        # Uses features.conf's atxferabort; Asterisk refuses it when that is not configured.
        return await self._do("CancelAtxfer", Channel=self._leg(external_id, "agent"))

    async def hold(self, external_id: str) -> str:
        # AMI has no hold action: the caller is parked (music on hold) and comes back to the
        # agent's leg when the parking times out or on `unhold`.
        return await self._do(
            "Park",
            Channel=self._leg(external_id, "caller"),
            TimeoutChannel=self._leg(external_id, "agent"),
        )

    async def unhold(self, external_id: str) -> str:
        return await self._do(
            "Bridge",
            Channel1=self._leg(external_id, "agent"),
            Channel2=self._leg(external_id, "caller"),
        )


__all__ = ["EVENTS", "AsteriskAdapter", "read_frame", "write_frame"]
