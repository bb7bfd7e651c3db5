"""New calls on PostgreSQL: the rows of `new_call.NewCall` in one round trip, with the NOTIFY."""

from __future__ import annotations

from functools import cache

from sqlalchemy import String, Text, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Integer

from core.calls.new_call import CALL_COLUMNS, NewCall
from core.db import NOTIFY_CHANNEL
from core.models.types import UtcDateTime


@cache
def _statement(stamps: tuple[str, ...]) -> TextClause:
    # The stamp names come from the transition table, never from a request.
    columns = ", ".join((*CALL_COLUMNS, *stamps))
    values = ", ".join(
        (":caller", ":queue", ":state", ":agent", ":customer", *(":at" for _ in stamps))
    )
    return text(
        f"""
        WITH known AS (
            SELECT 1 FROM call_event WHERE idempotency_key = :key
            UNION ALL
            SELECT 1 FROM call_reference WHERE external_id = :ext
        ), new_call AS (
            INSERT INTO call ({columns}, reason, disposition, notes)
            SELECT {values}, '', '', ''
            WHERE NOT EXISTS (SELECT 1 FROM known)
            RETURNING id
        ), new_reference AS (
            INSERT INTO call_reference (call_id, external_id)
            SELECT id, :ext FROM new_call WHERE :ext IS NOT NULL
        ), new_event AS (
            INSERT INTO call_event (call_id, kind, at, received_at, payload, idempotency_key,
                source, source_event_id, leg_id, raw)
            SELECT id, :kind, :at, :now, :payload, :key, :source, :source_event, :leg, :raw
            FROM new_call
            RETURNING id, call_id
        ), new_change AS (
            INSERT INTO change_event (at, topic, key)
            SELECT :now, 'call', CAST(id AS VARCHAR) FROM new_call
        )
        SELECT call_id, id, pg_notify(:channel, 'call:' || CAST(call_id AS VARCHAR))
        FROM new_event
        """
    ).bindparams(
        bindparam("key", type_=String()),
        bindparam("ext", type_=String()),
        bindparam("caller", type_=String()),
        bindparam("queue", type_=String()),
        bindparam("state", type_=String()),
        bindparam("kind", type_=String()),
        bindparam("agent", type_=Integer()),
        bindparam("customer", type_=Integer()),
        bindparam("at", type_=UtcDateTime()),
        bindparam("now", type_=UtcDateTime()),
        bindparam("payload", type_=Text()),
        bindparam("channel", type_=String()),
        bindparam("source", type_=String()),
        bindparam("source_event", type_=String()),
        bindparam("leg", type_=String()),
        bindparam("raw", type_=Text()),
    )


async def insert(session: AsyncSession, call: NewCall) -> tuple[int, int] | None:
    """The new call's rows in the session's transaction: (call id, event id), or None when
    the idempotency key or the phone-system id is already stored (nothing is written)."""
    connection = await session.connection()
    row = (
        await connection.execute(
            _statement(call.stamps),
            {
                "key": call.key,
                "ext": call.external_id,
                "caller": call.caller_number,
                "queue": call.queue,
                "state": call.state.value,
                "kind": call.kind.value,
                "agent": call.agent_id,
                "customer": call.customer_id,
                "at": call.at,
                "now": call.now,
                "payload": call.payload,
                "channel": NOTIFY_CHANNEL,
                "source": call.source,
                "source_event": call.source_event_id,
                "leg": call.leg_id,
                "raw": call.raw,
            },
        )
    ).first()
    return None if row is None else (row[0], row[1])


__all__ = ["insert"]
