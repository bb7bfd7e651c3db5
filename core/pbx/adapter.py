"""What every phone-system adapter shares: frames in, canonical events out, commands back.

An adapter is a client of the phone system's own event socket (Asterisk AMI, FreeSWITCH
ESL). It maps each frame onto zero or more `EventRequest`s (`parse`: no I/O, so the contract
tests replay transcripts through it), hands them to a sink (the state machine in this process,
or a `frontline api` on another host, see `core.pbx.sinks`), and sends commands back on the
same connection (hold, transfer). Events are delivered in the order they arrive; applying
them by the time they happened is the state machine's job, not the adapter's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ClassVar

from core.calls.errors import CallEventError, CallNotFound
from core.calls.model import EventRequest, EventResult
from core.db import DatabaseUnavailable
from core.i18n import words as _
from core.models import CallEventKind, PbxCommand, PbxCommandKind
from core.pbx.commands import CommandRunner, PbxCommandService

log = logging.getLogger("core.pbx")

Frame = dict[str, str]
Sink = Callable[[EventRequest], Awaitable[EventResult]]
"""Applies one event and answers with the call afterwards; raises CallEventError to refuse."""

_CALLER = re.compile(r"^[0-9+()\-. ]+$")


class PbxError(Exception):
    """The phone system refused a login or a command; the message says why."""


class LoginRefused(PbxError):
    """Wrong user or secret: retrying will not help."""


@dataclass(frozen=True)
class Outcome:
    """What became of one mapped event (for the log, and for tests)."""

    request: EventRequest
    result: EventResult | None
    refused: str = ""

    def describe(self) -> str:
        ref = self.request.external_id or "?"
        if self.result is None:
            return f"{self.request.kind.value} for {ref}: refused, {self.refused}"
        note = " (already so)" if self.result.replayed else ""
        return (
            f"{self.request.kind.value} for {ref}: call {self.result.call_id} "
            f"is {self.result.state}{note}"
        )


def caller_number(raw: str) -> str:
    """A number the API accepts: what the PBX gave, or "anonymous" (withheld, `<unknown>`)."""
    raw = raw.strip()
    return raw if raw and _CALLER.match(raw) else "anonymous"


def epoch(value: str, scale: float = 1.0) -> datetime | None:
    """A UTC time from seconds (or micro-seconds, `scale=1e6`) since 1970; None if absent."""
    try:
        return datetime.fromtimestamp(float(value) / scale, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class Adapter(ABC):
    """A client of one phone system: connects, logs in, maps its events, reconnects."""

    source: ClassVar[str]
    """The `source` of every event this adapter reports."""

    def __init__(
        self,
        host: str,
        port: int,
        sink: Sink,
        *,
        user: str = "",
        secret: str = "",
        backoff: tuple[float, float] = (0.5, 30.0),
        observer: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.host, self.port, self.user, self.secret = host, port, user, secret
        self._sink = sink
        self._backoff = backoff
        self._observer = observer
        self._writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()
        """Set while logged in and subscribed."""
        self.sessions = 0
        """How many times the adapter logged in (more than one: it reconnected)."""
        self._moving: dict[str, str] = {}
        """Calls being transferred on Frontline's command -> the agent passing them on."""

    @abstractmethod
    def parse(self, frame: Mapping[str, str]) -> list[EventRequest]:
        """The canonical events one frame of the phone system means (often none)."""

    @abstractmethod
    async def _session(self, reader: asyncio.StreamReader) -> None:
        """Log in, subscribe, then read frames until the connection closes."""

    @abstractmethod
    async def hold(self, external_id: str) -> str:
        """Put the caller of this call on hold; the PBX's reply."""

    @abstractmethod
    async def unhold(self, external_id: str) -> str:
        """Take the caller of this call off hold."""

    @abstractmethod
    async def transfer(self, external_id: str, target: str, *, consult: bool = False) -> str:
        """Send the caller to `target` (an extension or queue); `consult`: the agent talks
        to the target first (attended transfer)."""

    @abstractmethod
    async def complete_consult(self, external_id: str) -> str:
        """The consulted target takes the caller over (the agent leaves)."""

    @abstractmethod
    async def cancel_consult(self, external_id: str) -> str:
        """Drop the consulted target: the agent is back with the caller."""

    def target(self, to_agent: str, to_queue: str, *, consult: bool = False) -> str:
        """What the PBX dials for a Frontline target: by default the agent's user name or
        the queue's name, as an extension of the transfer context."""
        return to_agent or to_queue

    async def send_command(self, command: PbxCommand) -> str:
        """Carry out one command from Frontline's outbox; the PBX's reply, or PbxError."""
        kind, call = PbxCommandKind(command.kind), command.external_id
        if kind == PbxCommandKind.HOLD:
            return await self.hold(call)
        if kind == PbxCommandKind.UNHOLD:
            return await self.unhold(call)
        if kind == PbxCommandKind.CANCEL_CONSULT:
            return await self.cancel_consult(call)
        # The agent's part ends with the transfer: the PBX's own end of it for that agent
        # (AgentComplete, bridge-agent-end) is not a hang-up of the call.
        self._moving[call] = command.requested_by
        try:
            if kind == PbxCommandKind.COMPLETE_CONSULT:
                return await self.complete_consult(call)
            consult = kind == PbxCommandKind.CONSULT_TRANSFER
            target = self.target(command.to_agent, command.to_queue, consult=consult)
            if consult:
                reply = await self.transfer(call, target, consult=True)
                self._moving.pop(call, None)  # still the agent's call until completed
                return reply
            return await self.transfer(call, target)
        except BaseException:
            self._moving.pop(call, None)
            raise

    def commands(self, outbox: PbxCommandService) -> CommandRunner:
        """The runner that carries this phone system's pending commands out (run it beside
        `run`); each accepted command's change is reported like the PBX's own events."""

        async def report(request: EventRequest) -> Outcome:
            outcome = await self._deliver(request)
            self._observed(outcome)
            return outcome

        return CommandRunner(outbox, self.source, self.send_command, report, self.connected)

    async def run(self) -> None:
        """Stay connected until cancelled: reconnect with a doubling back-off after a drop.
        Raises LoginRefused (a wrong secret does not fix itself)."""
        delay = self._backoff[0]
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as error:
                log.warning("%s: cannot reach %s:%s: %s", self.source, self.host, self.port, error)
            else:
                self._writer = writer
                try:
                    await self._session(reader)
                except (ConnectionError, asyncio.IncompleteReadError) as error:
                    log.warning("%s: connection lost: %s", self.source, error)
                finally:
                    logged_in = self.connected.is_set()
                    self.connected.clear()
                    self._writer = None
                    self._closed()
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
                if logged_in:
                    delay = self._backoff[0]
                log.warning("%s: disconnected; reconnecting in %.1f s", self.source, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    @abstractmethod
    def _closed(self) -> None:
        """The connection is gone: fail whatever commands still wait for an answer."""

    def _logged_in(self) -> None:
        self.sessions += 1
        self.connected.set()
        log.info("%s: connected to %s:%s", self.source, self.host, self.port)

    async def _send(self, data: str) -> None:
        if self._writer is None:
            raise PbxError(_("not connected to {source}").format(source=self.source))
        self._writer.write(data.encode())
        await self._writer.drain()

    async def handle(self, frame: Mapping[str, str]) -> list[Outcome]:
        """Map one frame and deliver what it means, in order."""
        outcomes = [await self._deliver(request) for request in self.parse(frame)]
        for outcome in outcomes:
            self._observed(outcome)
        return outcomes

    def _observed(self, outcome: Outcome) -> None:
        log.info("%s: %s", self.source, outcome.describe())
        if self._observer is not None:
            self._observer(outcome)

    async def _deliver(self, request: EventRequest) -> Outcome:
        try:
            return Outcome(request, await self._apply(request))
        except CallNotFound as error:
            if request.kind == CallEventKind.QUEUED or not request.caller_number:
                return Outcome(request, None, str(error))
            # The call's first event never reached us (a restart, a lost frame): this one
            # says who is calling, so the call starts here rather than being lost.
            joined = replace(
                request,
                kind=CallEventKind.QUEUED,
                agent="",
                idempotency_key=f"{request.idempotency_key}:queued"
                if request.idempotency_key
                else None,
            )
            try:
                await self._apply(joined)
                return Outcome(request, await self._apply(request))
            except CallEventError as again:
                return Outcome(request, None, str(again))
        except CallEventError as error:
            return Outcome(request, None, str(error))

    async def _apply(self, request: EventRequest) -> EventResult:
        """The sink, retried for as long as the database is unavailable (same key: applied
        once). Reading waits meanwhile, so nothing is dropped and the order is kept."""
        delay = 0.2
        while True:
            try:
                return await self._sink(request)
            except DatabaseUnavailable as error:
                log.warning("%s: database unavailable (%s); retrying", self.source, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


__all__ = [
    "Adapter",
    "Frame",
    "LoginRefused",
    "Outcome",
    "PbxError",
    "Sink",
    "caller_number",
    "epoch",
]
