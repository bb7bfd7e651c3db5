"""Writing a batch of customers on SQLite in one hop to the driver's thread, with plain sqlite3.

Going through SQLAlchemy and aiosqlite statement by statement costs several times the
database work itself for a big import. Here the whole batch (look-ups, inserts, updates,
phones and emails) runs as one function on aiosqlite's own thread, on its sqlite3
connection, inside the session's transaction: `BEGIN IMMEDIATE` takes the write lock first
(waiting for other writers up to the busy timeout), and the session's commit or rollback ends
it, so a batch is still written whole or not at all. Values are stored the way SQLAlchemy's
types store them (`UtcDateTime`: naive UTC text; dates ISO text; booleans 0/1).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DataError, IntegrityError

from core.importing.base import IN_CHUNK
from core.importing.bulk import sqlite_date, sqlite_time
from core.models.types import utcnow

if TYPE_CHECKING:
    from core.importing.customers import CustomerValues

UPDATABLE = (
    "first_name", "last_name", "city", "country", "birth_date", "customer_since",
    "created_at", "marketing_consent", "do_not_call",
)  # fmt: skip
"""Columns a re-import updates; an empty cell (None) keeps the stored value."""
_DATES = {"birth_date", "customer_since"}
_FLAGS = {"marketing_consent", "do_not_call"}
INSERT_CUSTOMER = (
    "INSERT INTO customer (external_id, first_name, last_name, city, country, birth_date, "
    "customer_since, marketing_consent, do_not_call, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_CUSTOMER = (
    "UPDATE customer SET "
    + ", ".join(f"{name} = COALESCE(?, {name})" for name in UPDATABLE)
    + ", updated_at = ? WHERE id = ?"
)
INSERT_POINT = (
    "INSERT INTO contact_point (customer_id, kind, value, normalized, label, is_primary) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _ids(db: sqlite3.Connection, external_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(external_ids):
        found.update(
            db.execute(
                f"SELECT external_id, id FROM customer WHERE external_id IN ({_marks(len(part))})",
                part,
            ).fetchall()
        )
    return found


def _stored(value: Any, name: str) -> Any:
    if value is None:
        return None
    if name in _DATES:
        return sqlite_date(value)
    if name in _FLAGS:
        return int(value)
    if name == "created_at":
        return sqlite_time(value)
    return value


def write_batch(db: sqlite3.Connection, merged: dict[str, CustomerValues]) -> dict[str, int]:
    """Upsert the customers and add their new phones and emails; runs on the driver's thread.

    Returns:
        Customer number -> id for every customer in the batch.
    """
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    now = sqlite_time(utcnow())
    existing = _ids(db, list(merged))
    new = [v for key, v in merged.items() if key not in existing]
    ids = dict(existing)
    if new:
        top = db.execute("SELECT MAX(id) FROM customer").fetchone()[0] or 0
        db.executemany(
            INSERT_CUSTOMER,
            [
                (
                    v.external_id,
                    f["first_name"],
                    f["last_name"],
                    f.get("city", ""),
                    f.get("country", ""),
                    sqlite_date(f.get("birth_date")),
                    sqlite_date(f.get("customer_since")),
                    int(f.get("marketing_consent", False)),
                    int(f.get("do_not_call", False)),
                    sqlite_time(f["created_at"]) if "created_at" in f else now,
                    now,
                )
                for v in new
                for f in (v.fields,)
            ],
        )
        # Inside this write transaction the new rows take the next ids in order (INTEGER
        # PRIMARY KEY without AUTOINCREMENT); check it, and look them up if not.
        if db.execute("SELECT MAX(id) FROM customer").fetchone()[0] == top + len(new):
            ids.update((v.external_id, top + 1 + i) for i, v in enumerate(new))
        else:
            ids.update(_ids(db, [v.external_id for v in new]))
    changed = [v for key, v in merged.items() if key in existing]
    if changed:
        db.executemany(
            UPDATE_CUSTOMER,
            [
                (
                    *(_stored(v.fields.get(name), name) for name in UPDATABLE),
                    now,
                    existing[v.external_id],
                )
                for v in changed
            ],
        )
    known: set[tuple[int, str, str]] = set()
    old_ids = sorted(existing.values())
    for part in _chunks(old_ids):
        known.update(
            db.execute(
                "SELECT customer_id, kind, normalized FROM contact_point "
                f"WHERE customer_id IN ({_marks(len(part))})",
                part,
            ).fetchall()
        )
    points: list[tuple[Any, ...]] = []
    for external_id, v in merged.items():
        cid = ids[external_id]
        is_new = external_id not in existing
        for kind, entries in (("phone", v.phones), ("email", v.emails)):
            for position, (written, normalized, label) in enumerate(entries):
                if (cid, kind, normalized) in known:
                    continue
                known.add((cid, kind, normalized))
                points.append(
                    (cid, kind, written, normalized, label, int(is_new and position == 0))
                )
    db.executemany(INSERT_POINT, points)
    for part in _chunks(old_ids):  # a customer's oldest phone (email) becomes primary
        db.execute(
            "UPDATE contact_point SET is_primary = 1 WHERE id IN ("
            " SELECT MIN(id) FROM contact_point"
            f" WHERE customer_id IN ({_marks(len(part))})"
            " GROUP BY customer_id, kind"
            " HAVING SUM(CASE WHEN is_primary THEN 1 ELSE 0 END) = 0)",
            part,
        )
    return ids


async def run(driver: Any, merged: dict[str, CustomerValues]) -> dict[str, int]:
    """`write_batch` on an aiosqlite connection's thread, in its current transaction.

    Raises:
        IntegrityError, DataError: the database refused the batch (as SQLAlchemy would).
    """
    try:
        result: dict[str, int] = await driver._execute(write_batch, driver._conn, merged)
    except sqlite3.IntegrityError as error:
        raise IntegrityError("import customers", None, error) from error
    except (sqlite3.DataError, sqlite3.InterfaceError) as error:
        raise DataError("import customers", None, error) from error
    return result
