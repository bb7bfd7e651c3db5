"""New calls on SQLite: the sqlite3 fast path, run on the driver's own thread.

Through aiosqlite every statement is a hop between the event loop and the connection's
thread; a new call is five statements. Here they run as one function on that thread, and a
burst of new calls (`write_batch`) shares one hop and one commit.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from core.calls.new_call import CALL_COLUMNS, NewCall
from core.models.types import sqlite_time

_INSERT_EVENT = (
    "INSERT INTO call_event (call_id, kind, at, received_at, payload, idempotency_key, "
    "source, source_event_id, leg_id, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@cache
def _insert_call(stamps: tuple[str, ...]) -> str:
    # The stamp names come from the transition table, never from a request.
    columns = (*CALL_COLUMNS, *stamps)
    marks = ", ".join("?" for _ in columns)
    return (
        f"INSERT INTO call ({', '.join(columns)}, reason, disposition, notes) "
        f"VALUES ({marks}, '', '', '')"
    )


def write(db: sqlite3.Connection, call: NewCall) -> tuple[int, int] | None:
    """A new call, its reference, its event and its change, on the driver's thread.

    Returns (call id, event id), or None when the key or the phone-system id is already
    known: then the general path answers (replay, re-queue) in the same transaction.
    """
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")  # the write lock first: no busy retries mid-way
    if (
        call.key is not None
        and db.execute("SELECT 1 FROM call_event WHERE idempotency_key = ?", (call.key,)).fetchone()
    ):
        return None
    if (
        call.external_id
        and db.execute(
            "SELECT 1 FROM call_reference WHERE external_id = ?", (call.external_id,)
        ).fetchone()
    ):
        return None
    at = sqlite_time(call.at)
    now = sqlite_time(call.now)
    values = (call.caller_number, call.queue, call.state.value, call.agent_id, call.customer_id)
    call_id = db.execute(_insert_call(call.stamps), (*values, *(at for _ in call.stamps))).lastrowid
    assert call_id is not None
    if call.external_id:
        db.execute(
            "INSERT INTO call_reference (call_id, external_id) VALUES (?, ?)",
            (call_id, call.external_id),
        )
    event_id = db.execute(
        _INSERT_EVENT,
        (call_id, call.kind.value, at, now, call.payload, call.key, *call.event_extras()),
    ).lastrowid
    assert event_id is not None
    db.execute(
        'INSERT INTO change_event (at, topic, "key") VALUES (?, ?, ?)', (now, "call", str(call_id))
    )
    return call_id, event_id


def write_batch(db: sqlite3.Connection, calls: list[NewCall]) -> list[tuple[int, int] | None]:
    """`write` for each call in one transaction, each behind its own savepoint so that a
    refused one leaves the others (it gets None and goes through the general path)."""
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    written: list[tuple[int, int] | None] = []
    for call in calls:
        db.execute("SAVEPOINT new_call")
        try:
            written.append(write(db, call))
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK TO new_call")
            written.append(None)
        db.execute("RELEASE new_call")
    return written


async def on_driver(session: AsyncSession, work: Any, *args: Any) -> Any:
    """Run `work(sqlite3 connection, *args)` on the session's connection, in its transaction,
    with sqlite3's errors raised as SQLAlchemy's (as the ORM would raise them)."""
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    try:
        return await driver._execute(work, driver._conn, *args)
    except sqlite3.IntegrityError as error:
        raise IntegrityError("new call", None, error) from error
    except sqlite3.OperationalError as error:
        raise OperationalError("new call", None, error) from error


async def insert(session: AsyncSession, call: NewCall) -> tuple[int, int] | None:
    """`write` in the session's transaction."""
    result: tuple[int, int] | None = await on_driver(session, write, call)
    return result


__all__ = ["insert", "on_driver", "write", "write_batch"]
