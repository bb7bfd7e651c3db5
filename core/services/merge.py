"""Two records of one person made one: every contact point and interaction kept, undoable.

The tables that refer to a customer are found from the schema (core.privacy.export), so a
table added later is merged too. Rows move to the kept customer; where a table holds one row
per customer (figures, the loyalty account) or one per contact point (the same phone on both
records) and the kept customer has that row already, the other's row is set aside in the
merge record instead. The merged customer's row is deleted. `undo_merge` puts everything
back: the customer with the same id and number, the moved rows, the rows set aside, and the
kept customer's fields as they were.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, UniqueConstraint, and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel, col

from core.errors import CustomerNotFound
from core.i18n import words as _
from core.models import ContactPoint, Customer, CustomerMerge
from core.models.types import utcnow
from core.privacy.export import customer_tables
from core.search.indexer import index_customers

NOT_MOVED = frozenset({"customer", "audit_event", "search_contact"})
"""Tables left alone: the customer rows themselves, the audit trail (what happened to whom, at
the time) and the search index (rebuilt for both customers). Earlier merges into the merged
customer move with them (their undo then waits for this one's)."""
REINDEXED = frozenset({"search_name_customer"})
FILLED = ("city", "country", "birth_date", "customer_since")
"""The kept customer's fields filled from the other record when empty (or earlier, for
customer_since)."""


class MergeRefused(ValueError):
    """The merge or its undo cannot be done as asked (same customer, already undone, …)."""


def _tables() -> dict[str, Table]:
    return {t.name: t for t in SQLModel.metadata.sorted_tables}


def _one_per_customer(table: Table, column: str) -> list[str] | None:
    """The other columns of a unique key on `column` ([] when the column alone is unique);
    None when the table may hold many rows per customer."""
    keys = [[c.name for c in table.primary_key.columns]]
    keys += [
        [c.name for c in u.columns] for u in table.constraints if isinstance(u, UniqueConstraint)
    ]
    keys += [[c.name for c in i.columns] for i in table.indexes if i.unique]
    for key in keys:
        if column in key:
            return [name for name in key if name != column]
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _revive(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A row read back from JSON, with dates, times and amounts as their columns take them."""
    revived: dict[str, Any] = {}
    for name, value in row.items():
        kind = _python_type(table.c[name].type)
        if value is not None and isinstance(value, str):
            if kind is datetime:
                value = datetime.fromisoformat(value)
            elif kind is date:
                value = date.fromisoformat(value)
            elif kind is Decimal:
                value = Decimal(value)
        revived[name] = value
    return revived


def _python_type(sql_type: TypeEngine[Any]) -> type:
    if isinstance(sql_type, TypeDecorator):  # UtcDateTime says object; its DateTime knows
        sql_type = sql_type.impl_instance
    try:
        return sql_type.python_type
    except NotImplementedError:
        return object


def _pk(table: Table) -> str:
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise AssertionError(f"{table.name}: merge needs a one-column primary key")
    return columns[0].name


async def merge_customers(
    session: AsyncSession, keep_id: int, merged_id: int, actor: str
) -> CustomerMerge:
    """Merge `merged_id` into `keep_id` inside the caller's transaction.

    Returns:
        The merge record (its `undo` says how to put things back).
    """
    if keep_id == merged_id:
        raise MergeRefused(_("a customer cannot be merged into themselves"))
    keep = await session.get(Customer, keep_id)
    gone = await session.get(Customer, merged_id)
    if keep is None or gone is None:
        raise CustomerNotFound(
            _("no customer with id {value}").format(value=keep_id if keep is None else merged_id)
        )
    tables = _tables()
    customer_table = tables["customer"]
    snapshot = (
        await session.execute(select(customer_table).where(customer_table.c.id == merged_id))
    ).one()
    undo: dict[str, Any] = {
        "customer": {k: _plain(v) for k, v in snapshot._mapping.items()},
        "kept_before": {},
        "moved": {},
        "set_aside": {},
        "primary": {},
    }
    for name, column in sorted(customer_tables().items()):
        if name in NOT_MOVED | REINDEXED:
            continue
        await _move(session, tables[name], column, keep_id, merged_id, undo)
    kept_before = _fill(keep, gone)
    undo["kept_before"] = {k: _plain(v) for k, v in kept_before.items()}
    await session.flush()
    await session.execute(delete(customer_table).where(customer_table.c.id == merged_id))
    record = CustomerMerge(
        customer_id=keep_id,
        merged_id=merged_id,
        merged_number=gone.external_id,
        actor=actor[:100],
        undo=json.dumps(undo, ensure_ascii=False),
    )
    session.add(record)
    await session.flush()
    await index_customers(session, [keep_id, merged_id])
    return record


async def _move(
    session: AsyncSession,
    table: Table,
    column: str,
    keep_id: int,
    merged_id: int,
    undo: dict[str, Any],
) -> None:
    key = table.c[column]
    pk = _pk(table)
    rows = [dict(r._mapping) for r in await session.execute(select(table).where(key == merged_id))]
    if not rows:
        return
    others = _one_per_customer(table, column)
    clash: list[dict[str, Any]] = []
    if others is not None:
        kept = [
            tuple(r[o] for o in others)
            for r in (await session.execute(select(table).where(key == keep_id))).mappings()
        ]
        clash = [r for r in rows if tuple(r[o] for o in others) in kept]
    clashing = {r[pk] for r in clash}
    moving = [r[pk] for r in rows if r[pk] not in clashing]
    if clash:
        undo["set_aside"][table.name] = [{k: _plain(v) for k, v in r.items()} for r in clash]
        await session.execute(delete(table).where(table.c[pk].in_(clashing)))
    if moving:
        undo["moved"][table.name] = moving
        values: dict[str, Any] = {column: keep_id}
        if table.name == ContactPoint.__tablename__:
            # The kept customer's main phone and email stay the main ones.
            undo["primary"] = {str(r[pk]): r["is_primary"] for r in rows if r[pk] in moving}
            values["is_primary"] = False
        for part in range(0, len(moving), 500):
            await session.execute(
                update(table).where(table.c[pk].in_(moving[part : part + 500])).values(**values)
            )


def _fill(keep: Customer, gone: Customer) -> dict[str, Any]:
    """Fill the kept customer's empty fields from the other record; their values before."""
    before: dict[str, Any] = {}
    for name in FILLED:
        mine, theirs = getattr(keep, name), getattr(gone, name)
        earlier = name == "customer_since" and mine and theirs and theirs < mine
        if theirs and (not mine or earlier):
            before[name] = mine
            setattr(keep, name, theirs)
    if gone.do_not_call and not keep.do_not_call:  # either record asked not to be called
        before["do_not_call"] = keep.do_not_call
        keep.do_not_call = True
    if keep.marketing_consent and not gone.marketing_consent:  # consent only if both gave it
        before["marketing_consent"] = keep.marketing_consent
        keep.marketing_consent = False
    if gone.last_activity_at and (
        keep.last_activity_at is None or gone.last_activity_at > keep.last_activity_at
    ):
        before["last_activity_at"] = keep.last_activity_at
        keep.last_activity_at = gone.last_activity_at
    if before:
        keep.updated_at = utcnow()
    return before


async def undo_merge(session: AsyncSession, merge_id: int, actor: str) -> CustomerMerge:
    """Put back what merge `merge_id` changed, inside the caller's transaction."""
    record = await session.get(CustomerMerge, merge_id)
    if record is None:
        raise MergeRefused(_("no merge numbered {merge_id}").format(merge_id=merge_id))
    if record.undone_at is not None:
        raise MergeRefused(
            _("merge {merge_id} was undone already ({undone_by})").format(
                merge_id=merge_id, undone_by=record.undone_by
            )
        )
    keep = await session.get(Customer, record.customer_id)
    if keep is None:
        raise MergeRefused(
            _("customer {customer_id} is gone: undo the later merge first").format(
                customer_id=record.customer_id
            )
        )
    undo = json.loads(record.undo)
    tables = _tables()
    references = customer_tables()
    customer_table = tables["customer"]
    await session.execute(insert(customer_table), [_revive(customer_table, undo["customer"])])
    for name, ids in undo["moved"].items():
        table = tables[name]
        pk, column = _pk(table), references[name]
        for part in range(0, len(ids), 500):
            await session.execute(
                update(table)
                .where(and_(table.c[pk].in_(ids[part : part + 500]), table.c[column] == keep.id))
                .values({column: record.merged_id})
            )
    for point_id, primary in undo.get("primary", {}).items():
        await session.execute(
            update(ContactPoint)
            .where(col(ContactPoint.id) == int(point_id))
            .values(is_primary=primary)
        )
    for name, rows in undo["set_aside"].items():
        table = tables[name]
        await session.execute(insert(table), [_revive(table, row) for row in rows])
    customer_fields = tables["customer"]
    for name, value in _revive(customer_fields, undo["kept_before"]).items():
        setattr(keep, name, value)
    keep.updated_at = utcnow()
    record.undone_at = utcnow()
    record.undone_by = actor[:100]
    await session.flush()
    await index_customers(session, [record.customer_id, record.merged_id])
    return record
