"""The agent's unfinished call, saved as they type, so that no word is lost.

A draft (`CallDraft`) is the whole call panel, typed and versioned: one row per agent in
`call_draft`, its payload the draft as JSON. When the database is locked or unreachable the
draft goes to a local fallback file instead (written atomically: temporary file, fsync,
rename) and the caller retries until the database is back; loading returns the newer of
the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import Call, CallState
from core.models import CallDraft as DraftRow
from core.models.types import utcnow

log = logging.getLogger(__name__)

DB_TIMEOUT_SECONDS = 3.0
"""A draft write that takes longer than this goes to the fallback file (PostgreSQL down)."""

Phase = Literal["on_call", "wrap_up"]


@dataclass(frozen=True)
class CallDraft:
    """The call an agent is on or wrapping up, with everything typed for it so far."""

    call_id: int | None
    customer_id: int | None
    caller: str
    """Who is calling, as shown: a name and customer number, or "Unknown caller"."""
    caller_number: str
    started_at: datetime
    phase: Phase = "on_call"
    ended_at: datetime | None = None
    reason: str = ""
    outcome: str = ""
    notes: str = ""
    follow_up: str = ""
    """The follow-up date as typed (`2026-12-01`, `+3`, `tomorrow`); read when the call is saved."""
    version: int = 0
    """One more for every change: the newest of two drafts is the one with the higher version."""
    handed_to: str = ""
    """Where the agent transferred the call ("ben", "queue sales"): the call is someone
    else's now, and this draft is the agent's wrap-up of their part of it."""
    consult_agent: str = ""
    consult_queue: str = ""
    """The consult under way (Ctrl+K: the caller waits) on a call with no phone system behind
    it, whom with: the console carries it out itself, so the draft is where it is kept and a
    restarted console finds it. A call behind a phone system keeps its consult in its
    commands instead (`PbxCommandService.open_consult`)."""

    @property
    def consulting(self) -> tuple[str, str] | None:
        """(to_agent, to_queue) of the consult this draft records; None when there is none."""
        if self.consult_agent or self.consult_queue:
            return self.consult_agent, self.consult_queue
        return None

    def edited(self, **changes: Any) -> CallDraft:
        """This draft with `changes` applied, one version on."""
        return replace(self, **changes, version=self.version + 1)

    def to_payload(self) -> dict[str, Any]:
        """The draft as the `call_draft.payload` JSON holds it."""
        return {
            "version": self.version,
            "call": {
                "phase": self.phase,
                "call_id": self.call_id,
                "customer_id": self.customer_id,
                "caller": self.caller,
                "caller_number": self.caller_number,
                "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat() if self.ended_at else None,
                "reason": self.reason,
                "outcome": self.outcome,
                **({"handed_to": self.handed_to} if self.handed_to else {}),
                **(
                    {"consult": {"to_agent": self.consult_agent, "to_queue": self.consult_queue}}
                    if self.consulting
                    else {}
                ),
            },
            "notes": self.notes,
            "follow_up": self.follow_up,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CallDraft | None:
        """The draft a payload holds; None when it holds no call (or is not a draft)."""
        call = payload.get("call")
        if not isinstance(call, dict):
            return None
        try:
            ended = call.get("ended_at")
            consult = call.get("consult")
            if not isinstance(consult, dict):
                consult = {}
            return cls(
                phase="wrap_up" if call.get("phase") == "wrap_up" else "on_call",
                call_id=call.get("call_id"),
                customer_id=call.get("customer_id"),
                caller=str(call.get("caller") or "Unknown caller"),
                caller_number=str(call.get("caller_number") or ""),
                started_at=datetime.fromisoformat(call["started_at"]),
                ended_at=datetime.fromisoformat(ended) if ended else None,
                reason=str(call.get("reason") or ""),
                outcome=str(call.get("outcome") or ""),
                notes=str(payload.get("notes") or ""),
                follow_up=str(payload.get("follow_up") or ""),
                version=int(payload.get("version") or 0),
                handed_to=str(call.get("handed_to") or ""),
                consult_agent=str(consult.get("to_agent") or ""),
                consult_queue=str(consult.get("to_queue") or ""),
            )
        except (KeyError, TypeError, ValueError) as error:
            log.warning("unreadable call draft: %s", error)
            return None


@dataclass(frozen=True)
class SavedDraft:
    """A draft as stored for an agent."""

    agent_id: int
    draft: CallDraft
    updated_at: datetime
    from_fallback: bool = False
    """True when this came from the local fallback file, not (yet) from the database."""
    closed_elsewhere: bool = False
    """True when the phone system completed the call meanwhile: the agent's codes and notes
    are not on it yet (completing it from the console still lands them)."""


def fallback_key(database_url: str) -> str:
    """A short name for a database, so that fallback files of two databases never mix."""
    return hashlib.sha256(database_url.encode()).hexdigest()[:12]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # mkstemp's file is 0600 too
    fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class DraftService:
    """Save, load and clear an agent's call draft: database first, local file as fallback."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        data_dir: Path,
        database_key: str = "default",
        db_timeout: float = DB_TIMEOUT_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._dir = Path(data_dir) / "drafts"
        self._key = database_key
        self._db_timeout = db_timeout

    def fallback_path(self, agent_id: int) -> Path:
        """The local file holding this agent's draft while the database is unavailable."""
        return self._dir / f"draft-{self._key}-agent{agent_id}.json"

    async def save(self, agent_id: int, draft: CallDraft) -> bool:
        """Save the draft in the database, or in the fallback file if the database fails.

        Args:
            agent_id: whose draft.
            draft: the call and what was typed for it.

        Returns:
            True when it is in the database; False when only the fallback file has it (the
            caller should tell the agent and call `save` again later).
        """
        now = utcnow()
        # The local copy first: a locked or unreachable database can take seconds to fail,
        # and what was typed must be safe within the 2 seconds promised either way.
        await asyncio.to_thread(self._write_fallback, agent_id, draft, now)
        try:
            await asyncio.wait_for(self._save_db(agent_id, draft, now), self._db_timeout)
        except (SQLAlchemyError, OSError, TimeoutError, ConnectionError) as error:
            log.warning("draft for agent %s kept locally: %s", agent_id, error)
            return False
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.fallback_path(agent_id))
        return True

    def save_local(self, agent_id: int, draft: CallDraft) -> None:
        """Write the draft to the fallback file only, blocking (a console leaving in a hurry,
        whose event loop cannot be waited on); the next start restores it like any other."""
        self._write_fallback(agent_id, draft, utcnow())

    def _write_fallback(self, agent_id: int, draft: CallDraft, now: datetime) -> None:
        record = {
            "agent_id": agent_id,
            "call_id": draft.call_id,
            "customer_id": draft.customer_id,
            "payload": draft.to_payload(),
            "updated_at": now.isoformat(),
        }
        _atomic_write(self.fallback_path(agent_id), json.dumps(record, ensure_ascii=False))

    async def _save_db(self, agent_id: int, draft: CallDraft, now: datetime) -> None:
        text = json.dumps(draft.to_payload(), ensure_ascii=False, sort_keys=True)
        for attempt in range(2):
            try:
                async with self._sessions() as session, session.begin():
                    row = (
                        await session.execute(
                            select(DraftRow).where(col(DraftRow.agent_id) == agent_id)
                        )
                    ).scalar_one_or_none()
                    if row is None:
                        row = DraftRow(agent_id=agent_id)
                        session.add(row)
                    row.call_id = draft.call_id
                    row.customer_id = draft.customer_id
                    row.payload = text
                    row.updated_at = now
                return
            except IntegrityError:  # another process inserted the row first: update it
                if attempt:
                    raise

    def _read_fallback(self, agent_id: int) -> SavedDraft | None:
        path = self.fallback_path(agent_id)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            draft = CallDraft.from_payload(dict(record.get("payload") or {}))
            if draft is None:
                return None
            return SavedDraft(
                agent_id, draft, datetime.fromisoformat(record["updated_at"]), from_fallback=True
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("unreadable draft fallback %s: %s", path, error)
            return None

    async def load(self, agent_id: int) -> SavedDraft | None:
        """The agent's unfinished draft: the newer of the database row and the fallback file.

        A draft whose call the phone system completed meanwhile is returned too (marked
        `closed_elsewhere`): what the agent typed is not on the call until they save it. Only
        a draft for a call that was never answered (abandoned) is dropped, with a log line.

        Args:
            agent_id: whose draft.

        Returns:
            The draft, or None when there is nothing to restore.
        """
        local = await asyncio.to_thread(self._read_fallback, agent_id)
        stored: SavedDraft | None = None
        completed: set[int] = set()
        abandoned: set[int] = set()
        try:
            async with self._sessions() as session:
                row = (
                    await session.execute(
                        select(DraftRow).where(col(DraftRow.agent_id) == agent_id)
                    )
                ).scalar_one_or_none()
                draft = CallDraft.from_payload(json.loads(row.payload or "{}")) if row else None
                if row is not None and draft is not None:
                    stored = SavedDraft(agent_id, draft, row.updated_at)
                for call_id in {d.draft.call_id for d in (stored, local) if d and d.draft.call_id}:
                    call = await session.get(Call, call_id)
                    if call is not None and call.state == CallState.COMPLETED:
                        completed.add(call_id)
                    elif call is not None and call.state == CallState.ABANDONED:
                        abandoned.add(call_id)
        except (SQLAlchemyError, OSError, ValueError) as error:
            log.warning("draft for agent %s not read from the database: %s", agent_id, error)
        candidates = [
            d for d in (stored, local) if d is not None and d.draft.call_id not in abandoned
        ]
        if abandoned:
            log.warning("draft for agent %s dropped: call never answered", agent_id)
        if not candidates:
            return None
        newest = max(candidates, key=lambda d: d.updated_at)
        if newest.draft.call_id in completed:
            return replace(newest, closed_elsewhere=True)
        return newest

    async def clear(self, agent_id: int) -> None:
        """Forget the agent's draft, in the database and locally (the call was logged)."""
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.fallback_path(agent_id))
        async with self._sessions() as session, session.begin():
            await session.execute(delete(DraftRow).where(col(DraftRow.agent_id) == agent_id))

    async def clear_local(self, agent_id: int) -> None:
        """Remove only the fallback file (complete() already removed the database row)."""
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.fallback_path(agent_id))
