"""The agent's unfinished call, saved as they type, so that no word is lost.

A draft is the whole call panel as JSON, one row per agent in `call_draft`. When the
database is locked or unreachable the draft goes to a local fallback file instead (written
atomically: temporary file, fsync, rename) and the caller retries until the database is
back; loading returns the newer of the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.models import Call, CallDraft, CallState
from core.models.types import utcnow

log = logging.getLogger(__name__)

DB_TIMEOUT_SECONDS = 3.0
"""A draft write that takes longer than this goes to the fallback file (PostgreSQL down)."""


@dataclass(frozen=True)
class Draft:
    """What the agent had typed for an unfinished call."""

    agent_id: int
    call_id: int | None
    customer_id: int | None
    payload: dict[str, Any]
    updated_at: datetime
    from_fallback: bool = False
    """True when this came from the local fallback file, not (yet) from the database."""


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

    async def save(
        self,
        agent_id: int,
        call_id: int | None,
        customer_id: int | None,
        payload: dict[str, Any],
    ) -> bool:
        """Save the draft in the database, or in the fallback file if the database fails.

        Args:
            agent_id: whose draft.
            call_id: the call it belongs to, if one was started.
            customer_id: the customer on the call, if known.
            payload: the call panel as JSON-serialisable data.

        Returns:
            True when it is in the database; False when only the fallback file has it (the
            caller should tell the agent and call `save` again later).
        """
        now = utcnow()
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        record = {
            "agent_id": agent_id,
            "call_id": call_id,
            "customer_id": customer_id,
            "payload": payload,
            "updated_at": now.isoformat(),
        }
        # The local copy first: a locked or unreachable database can take seconds to fail,
        # and what was typed must be safe within the 2 seconds promised either way.
        await asyncio.to_thread(
            _atomic_write, self.fallback_path(agent_id), json.dumps(record, ensure_ascii=False)
        )
        try:
            await asyncio.wait_for(
                self._save_db(agent_id, call_id, customer_id, text, now), self._db_timeout
            )
        except (SQLAlchemyError, OSError, TimeoutError, ConnectionError) as error:
            log.warning("draft for agent %s kept locally: %s", agent_id, error)
            return False
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.fallback_path(agent_id))
        return True

    async def _save_db(
        self,
        agent_id: int,
        call_id: int | None,
        customer_id: int | None,
        text: str,
        now: datetime,
    ) -> None:
        for attempt in range(2):
            try:
                async with self._sessions() as session, session.begin():
                    row = (
                        await session.execute(
                            select(CallDraft).where(col(CallDraft.agent_id) == agent_id)
                        )
                    ).scalar_one_or_none()
                    if row is None:
                        row = CallDraft(agent_id=agent_id)
                        session.add(row)
                    row.call_id = call_id
                    row.customer_id = customer_id
                    row.payload = text
                    row.updated_at = now
                return
            except IntegrityError:  # another process inserted the row first: update it
                if attempt:
                    raise

    def _read_fallback(self, agent_id: int) -> Draft | None:
        path = self.fallback_path(agent_id)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            return Draft(
                agent_id=agent_id,
                call_id=record.get("call_id"),
                customer_id=record.get("customer_id"),
                payload=dict(record.get("payload") or {}),
                updated_at=datetime.fromisoformat(record["updated_at"]),
                from_fallback=True,
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("unreadable draft fallback %s: %s", path, error)
            return None

    async def load(self, agent_id: int) -> Draft | None:
        """The agent's unfinished draft: the newer of the database row and the fallback file.

        A draft whose call was completed meanwhile is dropped.

        Args:
            agent_id: whose draft.

        Returns:
            The draft, or None when there is nothing to restore.
        """
        local = await asyncio.to_thread(self._read_fallback, agent_id)
        stored: Draft | None = None
        completed: set[int] = set()
        try:
            async with self._sessions() as session:
                row = (
                    await session.execute(
                        select(CallDraft).where(col(CallDraft.agent_id) == agent_id)
                    )
                ).scalar_one_or_none()
                if row is not None:
                    stored = Draft(
                        agent_id=agent_id,
                        call_id=row.call_id,
                        customer_id=row.customer_id,
                        payload=dict(json.loads(row.payload or "{}")),
                        updated_at=row.updated_at,
                    )
                ids = {d.call_id for d in (stored, local) if d is not None and d.call_id}
                for call_id in ids:
                    call = await session.get(Call, call_id)
                    if call is not None and call.state in (
                        CallState.COMPLETED,
                        CallState.ABANDONED,
                    ):
                        completed.add(call_id)
        except (SQLAlchemyError, OSError, ValueError) as error:
            log.warning("draft for agent %s not read from the database: %s", agent_id, error)
        candidates = [d for d in (stored, local) if d is not None and d.call_id not in completed]
        if not candidates:
            return None
        return max(candidates, key=lambda d: d.updated_at)

    async def clear(self, agent_id: int) -> None:
        """Forget the agent's draft, in the database and locally (the call was logged)."""
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.fallback_path(agent_id))
        async with self._sessions() as session, session.begin():
            await session.execute(delete(CallDraft).where(col(CallDraft.agent_id) == agent_id))

    async def clear_local(self, agent_id: int) -> None:
        """Remove only the fallback file (complete() already removed the database row)."""
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.fallback_path(agent_id))
