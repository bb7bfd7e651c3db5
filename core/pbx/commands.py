"""Commands for the phone system: the console records them, the PBX's adapter sends them.

The agent's console cannot reach the PBX itself (it runs on another host, behind an adapter
logged in to the PBX's event socket). So hold, resume and transfers are an outbox: the
console records a `pbx_command` row (pending) through `PbxCommandService.request`; the
adapter process (`frontline pbx listen …`, see `CommandRunner`) takes its phone system's
pending commands, sends each (AMI action, ESL api command), and records what became of it:
`done` (the PBX accepted it) or `failed` with the PBX's reason. The change then reaches the
call as a canonical event from that phone system (source asterisk/freeswitch, the PBX's
reply kept as its raw payload), so the call's event log says the phone system did it.

Calls with no phone system behind them (taken at the console, `frontline call`, the HTTP
API) have nothing to command: `request` answers None and the console applies the change as
its own event. Kamailio is a proxy: it takes blind transfers (its runner has it send the
caller a REFER, `core.pbx.kamailio_commands`), but it cannot put a caller on hold (that is a
re-INVITE from the agent's phone) nor hold a consult, and `request` says so (PbxUnsupported).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.calls.errors import CallEventError, CallNotFound, InvalidTransition
from core.calls.model import EventRequest, Transfer
from core.db import DatabaseUnavailable, publish_change
from core.i18n import N_
from core.i18n import words as _
from core.models import (
    Agent,
    Call,
    CallEvent,
    CallEventKind,
    CallReference,
    PbxCommand,
    PbxCommandKind,
    PbxCommandState,
)
from core.models.types import utcnow

log = logging.getLogger("core.pbx")

K = PbxCommandKind
COMMANDED = frozenset({"asterisk", "freeswitch", "kamailio"})
"""Phone systems whose adapter (or command runner) carries out commands."""
_PROXY_HOLD = N_(
    "Kamailio (a SIP proxy) cannot put a caller on hold for you: use your phone's hold key; "
    "Frontline follows it"
)
_PROXY_CONSULT = N_(
    "Kamailio (a SIP proxy) cannot hold a consult for you: use a blind transfer (Ctrl+T), or "
    "your phone's transfer key; Frontline follows it"
)
NOT_COMMANDED: dict[str, dict[PbxCommandKind, str]] = {
    "kamailio": {
        K.HOLD: _PROXY_HOLD,
        K.UNHOLD: _PROXY_HOLD,
        K.CONSULT_TRANSFER: _PROXY_CONSULT,
        K.COMPLETE_CONSULT: _PROXY_CONSULT,
        K.CANCEL_CONSULT: _PROXY_CONSULT,
    },
}
"""Commands a phone system does not take, and what the agent is told instead (marked for
translation, translated when raised)."""
_TARGETED = frozenset({K.BLIND_TRANSFER, K.CONSULT_TRANSFER})
_ON_CALL = ("answered", "held")


class PbxUnsupported(CallEventError):
    """The phone system behind the call takes no commands from Frontline (the message says
    what to do instead)."""


@dataclass(frozen=True)
class CommandView:
    """A command as the console shows it."""

    id: int
    call_id: int
    kind: str
    state: str
    error: str
    to_agent: str
    to_queue: str
    source: str

    @property
    def target(self) -> str:
        return self.to_agent or self.to_queue

    @property
    def finished(self) -> bool:
        return self.state in (PbxCommandState.DONE, PbxCommandState.FAILED)


def _view(row: PbxCommand) -> CommandView:
    assert row.id is not None
    return CommandView(
        row.id,
        row.call_id,
        row.kind,
        row.state,
        row.error,
        row.to_agent,
        row.to_queue,
        row.source,
    )


async def phone_system_of(session: AsyncSession, call_id: int) -> tuple[str, str]:
    """The phone system that reported the call (its first event's source among the phone
    systems) and its id for the call; ("", "") when none did."""
    systems = tuple(COMMANDED)  # NOT_COMMANDED names some commands of these, not others
    source = (
        await session.execute(
            select(col(CallEvent.source))
            .where(col(CallEvent.call_id) == call_id, col(CallEvent.source).in_(systems))
            .order_by(col(CallEvent.id))
            .limit(1)
        )
    ).scalar_one_or_none()
    external = (
        await session.execute(
            select(col(CallReference.external_id)).where(col(CallReference.call_id) == call_id)
        )
    ).scalar_one_or_none()
    return (source or "", external or "") if source and external else ("", "")


class PbxCommandService:
    """The outbox of commands for the phone systems behind calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def request(
        self,
        call_id: int,
        kind: PbxCommandKind,
        *,
        requested_by: str,
        to_agent: str = "",
        to_queue: str = "",
    ) -> CommandView | None:
        """Record a command for the phone system behind the call.

        Args:
            call_id: the agent's call (answered or held).
            kind: what to do.
            requested_by: the agent's user name.
            to_agent / to_queue: a transfer's or consult's target; a consult's completion or
                cancel defaults to the consult's.

        Returns:
            The pending command; None when no phone system is behind the call (the console
            applies the change itself). Raises PbxUnsupported (a phone system that takes no
            commands, with what to do instead), CallNotFound, InvalidTransition (the call is
            not on a call any more, a target that does not exist, no consult to finish).
        """
        async with self._sessions() as session, session.begin():
            call = await session.get(Call, call_id)
            if call is None:
                raise CallNotFound(_("no call with id {id}").format(id=call_id))
            source, external = await phone_system_of(session, call_id)
            refused = NOT_COMMANDED.get(source, {}).get(kind)
            if refused is not None:
                raise PbxUnsupported(_(refused))
            if not source:
                return None
            if call.state not in _ON_CALL:
                state = call.state.replace("_", " ")
                raise InvalidTransition(
                    _("call {id} is {state}: nothing to send").format(id=call_id, state=state)
                )
            if kind in _TARGETED:
                await _check_target(session, to_agent, to_queue, needs_contact=source == "kamailio")
            elif kind in (K.COMPLETE_CONSULT, K.CANCEL_CONSULT) and not (to_agent or to_queue):
                consult = await _open_consult(session, call_id)
                if consult is None:
                    raise InvalidTransition(
                        _("call {id} has no consult to finish").format(id=call_id)
                    )
                to_agent, to_queue = consult.to_agent, consult.to_queue
            row = PbxCommand(
                call_id=call_id,
                source=source,
                external_id=external,
                kind=kind.value,
                to_agent=to_agent,
                to_queue=to_queue,
                requested_by=requested_by,
            )
            session.add(row)
            await session.flush()
            await publish_change(session, "pbx_command", requested_by)
            return _view(row)

    async def open_consult(self, call_id: int) -> CommandView | None:
        """The consult under way on the call's phone system (the agent pressed Ctrl+K; the
        caller waits): its latest consult command, unless a completion or cancel came after
        it (failed commands do not count). A restarted console reads it to show the consult
        and offer its completion again.

        Args:
            call_id: the agent's call.

        Returns:
            The consult's command (possibly still pending: not yet sent or answered); None
            when no consult is open or no phone system is behind the call.
        """
        async with self._sessions() as session:
            row = await _open_consult(session, call_id)
            return _view(row) if row is not None else None

    async def get(self, command_id: int) -> CommandView:
        async with self._sessions() as session:
            row = await session.get(PbxCommand, command_id)
        if row is None:
            raise CallEventError(_("no phone-system command {id}").format(id=command_id))
        return _view(row)

    async def claim(self, source: str, limit: int = 20) -> list[PbxCommand]:
        """Take the pending commands for `source`'s adapter, oldest first, marked sent."""
        async with self._sessions() as session, session.begin():
            rows = list(
                (
                    await session.execute(
                        select(PbxCommand)
                        .where(
                            col(PbxCommand.source) == source,
                            col(PbxCommand.state) == PbxCommandState.PENDING,
                        )
                        .order_by(col(PbxCommand.id))
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            for row in rows:
                row.state = PbxCommandState.SENT
                row.updated_at = utcnow()
                await publish_change(session, "pbx_command", row.requested_by)
        return rows

    async def finish(self, command_id: int, error: str = "") -> CommandView:
        """The phone system's answer: done, or failed with `error`."""
        async with self._sessions() as session, session.begin():
            row = await session.get(PbxCommand, command_id)
            if row is None:
                raise CallEventError(_("no phone-system command {id}").format(id=command_id))
            row.state = PbxCommandState.FAILED if error else PbxCommandState.DONE
            row.error = error[:2000]
            row.updated_at = utcnow()
            await publish_change(session, "pbx_command", row.requested_by)
            return _view(row)


async def _check_target(
    session: AsyncSession, to_agent: str, to_queue: str, *, needs_contact: bool = False
) -> None:
    """`needs_contact`: the agent must have a SIP contact (a SIP proxy rings it there)."""
    if bool(to_agent) == bool(to_queue):
        raise InvalidTransition(_("a transfer goes to one agent or one queue"))
    if to_agent:
        found = (
            await session.execute(
                select(col(Agent.sip_contact)).where(col(Agent.user_name) == to_agent)
            )
        ).one_or_none()
        if found is None:
            raise InvalidTransition(_("no agent named {name!r}").format(name=to_agent))
        if needs_contact and not found[0]:
            raise InvalidTransition(
                _("{agent} has no SIP contact: the phone system cannot ring them").format(
                    agent=to_agent
                )
            )


async def _open_consult(session: AsyncSession, call_id: int) -> PbxCommand | None:
    """The call's latest consult, unless a completion or cancel came after it."""
    kinds = (K.CONSULT_TRANSFER, K.COMPLETE_CONSULT, K.CANCEL_CONSULT)
    latest = (
        await session.execute(
            select(PbxCommand)
            .where(col(PbxCommand.call_id) == call_id, col(PbxCommand.kind).in_(kinds))
            .where(col(PbxCommand.state) != PbxCommandState.FAILED)
            .order_by(col(PbxCommand.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return latest if latest is not None and latest.kind == K.CONSULT_TRANSFER else None


def confirmation(command: PbxCommand, source: str, reply: str) -> EventRequest | None:
    """The canonical event a command the phone system accepted means (None: no change yet;
    a consult starting leaves the call with its agent)."""
    kinds = {K.HOLD: CallEventKind.HELD, K.UNHOLD: CallEventKind.UNHELD}
    kind = K(command.kind)
    transfer: Transfer | None = None
    if kind == K.BLIND_TRANSFER:
        transfer = Transfer("blind", to_agent=command.to_agent, to_queue=command.to_queue)
    elif kind == K.COMPLETE_CONSULT:
        transfer = Transfer("consult", to_agent=command.to_agent, to_queue=command.to_queue)
    elif kind not in kinds:
        return None
    return EventRequest(
        kind=CallEventKind.TRANSFERRED if transfer else kinds[kind],
        external_id=command.external_id,
        source=source,
        source_event_id=f"command:{command.id}",
        transfer=transfer,
        raw={"command": command.kind, "reply": reply},
    )


Send = Callable[[PbxCommand], Awaitable[str]]
"""Carries one command out on the phone system; returns its reply, raises PbxError."""
Report = Callable[[EventRequest], Awaitable[object]]
"""Delivers the confirming event (the adapter's own delivery: logged, retried)."""


class CommandRunner:
    """Sends one phone system's pending commands while its adapter is connected."""

    def __init__(
        self,
        commands: PbxCommandService,
        source: str,
        send: Send,
        report: Report,
        connected: asyncio.Event,
        poll_seconds: float = 0.3,
    ) -> None:
        self._commands = commands
        self._source = source
        self._send = send
        self._report = report
        self._connected = connected
        self._poll = poll_seconds

    async def run(self) -> None:
        """Until cancelled: take pending commands and carry each out, in order."""
        while True:
            await self._connected.wait()
            try:
                batch = await self._commands.claim(self._source)
            except DatabaseUnavailable as error:
                log.warning("%s: commands not read (%s); retrying", self._source, error)
                batch = []
            for command in batch:
                try:
                    await self.execute(command)
                except Exception:  # a database error recording it: logged, the next goes on
                    log.exception("%s: command %s not recorded", self._source, command.id)
            if not batch:
                await asyncio.sleep(self._poll)

    async def execute(self, command: PbxCommand) -> CommandView:
        """Send one command, confirm its change on the call, record its outcome."""
        from core.pbx.adapter import PbxError

        assert command.id is not None
        try:
            reply = await self._send(command)
        except (PbxError, TimeoutError, ConnectionError) as error:
            reason = str(error) or type(error).__name__
            log.warning(
                "%s: %s for call %s failed: %s", self._source, command.kind, command.call_id, reason
            )
            return await self._commands.finish(command.id, reason)
        event = confirmation(command, self._source, reply)
        if event is not None:
            await self._report(event)
        log.info("%s: %s for call %s done", self._source, command.kind, command.call_id)
        return await self._commands.finish(command.id)


__all__ = [
    "COMMANDED",
    "CommandRunner",
    "CommandView",
    "NOT_COMMANDED",
    "PbxCommandService",
    "PbxUnsupported",
    "confirmation",
    "phone_system_of",
]
