"""One event's writes on PostgreSQL in one round trip: the call's and agents' changed columns,
the `call_event` row, the change rows and their NOTIFYs.

The state machine changes the Call and Agent rows in the session as on every database; left
to the ORM, PostgreSQL would get one statement per changed row, one for the event and one
for the notifications, each a round trip on which the request waits (and, on a busy machine,
waits for a core again). Here they become the data-modifying parts of one WITH statement,
and the session is told the rows are as written, so the commit sends nothing more for them.
A statement is atomic: all of it is written, or none.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ARRAY, String, Table, TextClause, bindparam, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel

from core.db import NOTIFY_CHANNEL
from core.models import CallEvent
from core.models.types import UtcDateTime, utcnow

_EVENTS: Table = CallEvent.__table__  # type: ignore[attr-defined]
_EVENT_COLUMNS = tuple(c.key for c in _EVENTS.columns if c.key != "id")
_CHANGES = "unnest(CAST(:topics AS VARCHAR[]), CAST(:keys AS VARCHAR[])) AS c(topic, key)"


def _changed(row: SQLModel) -> dict[str, Any]:
    """The columns of `row` changed in the session and not yet flushed (key -> new value)."""
    state = inspect(row)
    changed: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if history.added:
            changed[attribute.key] = history.added[0]
    return changed


@cache
def _statement(shape: tuple[tuple[Table, tuple[str, ...]], ...]) -> TextClause:
    """The statement for rows of these tables with these columns changed (the shape comes
    from the models' own column names, never from a request; a few dozen shapes in all)."""
    parts, params = [], []
    for n, (table, names) in enumerate(shape):
        sets = ", ".join(f"{name} = :r{n}_{name}" for name in names)
        parts.append(f"row_{n} AS (UPDATE {table.name} SET {sets} WHERE id = :r{n}_id)")
        params += [bindparam(f"r{n}_{name}", type_=table.c[name].type) for name in names]
        params.append(bindparam(f"r{n}_id", type_=table.c.id.type))
    columns = ", ".join(_EVENT_COLUMNS)
    values = ", ".join(f":e_{name}" for name in _EVENT_COLUMNS)
    parts.append(
        f"stored_event AS (INSERT INTO call_event ({columns}) VALUES ({values}) RETURNING id)"
    )
    params += [bindparam(f"e_{name}", type_=_EVENTS.c[name].type) for name in _EVENT_COLUMNS]
    parts.append(
        f"stored_changes AS (INSERT INTO change_event (at, topic, key) SELECT :now, topic, key "
        f"FROM {_CHANGES})"
    )
    return text(
        f"WITH {', '.join(parts)} "
        f"SELECT (SELECT id FROM stored_event), pg_notify(:channel, topic || ':' || key) "
        f"FROM {_CHANGES}"
    ).bindparams(
        *params,
        bindparam("topics", type_=ARRAY(String())),
        bindparam("keys", type_=ARRAY(String())),
        bindparam("now", type_=UtcDateTime()),
        bindparam("channel", type_=String()),
    )


async def write_step(
    session: AsyncSession,
    event: CallEvent,
    rows: list[SQLModel],
    changes: list[tuple[str, str]],
) -> None:
    """Write `rows`' changes, insert `event` (its id is set) and publish `changes`.

    Args:
        session: inside its transaction, on PostgreSQL.
        event: the event's row, not added to the session.
        rows: Call and Agent rows of the session, changed or not.
        changes: (topic, key) notifications, as `core.db.publish_changes` takes them; at
            least one (the call's).
    """
    shape: list[tuple[Table, tuple[str, ...]]] = []
    written: list[tuple[SQLModel, dict[str, Any]]] = []
    params: dict[str, Any] = {}
    for row in {id(row): row for row in rows}.values():
        values = _changed(row)
        if not values:
            continue
        n = len(shape)
        shape.append((inspect(row).mapper.local_table, tuple(values)))
        params.update({f"r{n}_{name}": value for name, value in values.items()})
        params[f"r{n}_id"] = getattr(row, "id")  # noqa: B009 - every row here has an `id` key
        written.append((row, values))
    params.update({f"e_{name}": getattr(event, name) for name in _EVENT_COLUMNS})
    params.update(
        topics=[topic for topic, _ in changes],
        keys=[str(key) for _, key in changes],
        now=utcnow(),
        channel=NOTIFY_CHANNEL,
    )
    with session.no_autoflush:  # the rows go in this statement, not in statements before it
        result = await session.execute(_statement(tuple(shape)), params)
    event.id = result.scalars().first()
    for row, values in written:
        for name, value in values.items():
            set_committed_value(row, name, value)


__all__ = ["write_step"]
