"""Keeps the search index current: per customer inside writers' transactions, or all at once.

`index_customers` runs inside the transaction that created or changed customers (or their
contact points), so the index never disagrees with what was committed. `rebuild_index`
writes the whole index in bulk and gives names their rank: most recently active first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.search.keys import BUMP, PAIR, contact_rows, name_signature, name_terms
from core.search.normalize import name_key

CHUNK = 2000


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in(sql: str, *names: str) -> Any:
    return text(sql).bindparams(*(bindparam(name, expanding=True) for name in names))


async def _word_ids(session: AsyncSession, words: set[str]) -> dict[str, int]:
    """Ids of these dictionary words, adding the new ones."""
    found: dict[str, int] = {}
    wanted = sorted(words)
    for part in _chunks(wanted):
        rows = await session.execute(
            _in("SELECT word, id FROM search_word WHERE word IN :words", "words"),
            {"words": list(part)},
        )
        found.update({word: wid for word, wid in rows})
    missing = [word for word in wanted if word not in found]
    if missing:
        # Take the counter's row lock first: writers that add words then commit in the order
        # their ids were given, so a reader that loads "ids above the last seen" misses none.
        await session.execute(BUMP, {"key": "words"})
        await session.execute(
            text("INSERT INTO search_word (word, df) VALUES (:word, 0) ON CONFLICT DO NOTHING"),
            [{"word": word} for word in missing],
        )
        for part in _chunks(missing):
            rows = await session.execute(
                _in("SELECT word, id FROM search_word WHERE word IN :words", "words"),
                {"words": list(part)},
            )
            found.update({word: wid for word, wid in rows})
    return found


async def _name_ids(session: AsyncSession, keys: set[str]) -> dict[str, int]:
    """Ids of these full names, adding the new ones with their postings."""
    found: dict[str, int] = {}
    wanted = sorted(keys)
    for part in _chunks(wanted):
        rows = await session.execute(
            _in("SELECT key, id FROM search_name WHERE key IN :keys", "keys"), {"keys": list(part)}
        )
        found.update({key: nid for key, nid in rows})
    missing = [key for key in wanted if key not in found]
    if not missing:
        return found
    terms = await _word_ids(session, {term for key in missing for term in name_terms(key)})
    await session.execute(
        text(
            "INSERT INTO search_name (key, sorted_key) VALUES (:key, :sorted_key) "
            "ON CONFLICT DO NOTHING"
        ),
        [{"key": key, "sorted_key": " ".join(sorted(key.split()))} for key in missing],
    )
    added: dict[str, int] = {}
    for part in _chunks(missing):
        rows = await session.execute(
            _in("SELECT key, id FROM search_name WHERE key IN :keys", "keys"), {"keys": list(part)}
        )
        added.update({key: nid for key, nid in rows})
    postings = sorted({(terms[t], nid, t) for key, nid in added.items() for t in name_terms(key)})
    signatures = {nid: name_signature(key) for key, nid in added.items()}
    if postings:
        await session.execute(
            text(
                "INSERT INTO search_posting (word_id, name_id, sig) VALUES (:w, :n, :s) "
                "ON CONFLICT DO NOTHING"
            ),
            [{"w": w, "n": n, "s": signatures[n]} for w, n, _ in postings],
        )
        await session.execute(
            text(
                "INSERT INTO search_name_word (name_id, word_id) VALUES (:n, :w) "
                "ON CONFLICT DO NOTHING"
            ),
            sorted(
                ({"w": w, "n": n} for w, n, t in postings if PAIR not in t),
                key=lambda r: (r["n"], r["w"]),
            ),
        )
        counts: dict[int, int] = {}
        for word_id, _, _ in postings:
            counts[word_id] = counts.get(word_id, 0) + 1
        await session.execute(
            text("UPDATE search_word SET df = df + :n WHERE id = :id"),
            [{"id": wid, "n": n} for wid, n in sorted(counts.items())],
        )
    found.update(added)
    return found


async def index_customers(session: AsyncSession, customer_ids: Sequence[int]) -> None:
    """Re-index these customers inside the caller's transaction (after they were written).

    Call it after creating or changing customers or their contact points; customers that no
    longer exist are taken out of the index.

    Args:
        session: the writer's session, inside its transaction.
        customer_ids: the customers created or changed.
    """
    ids = sorted({int(cid) for cid in customer_ids})
    if not ids:
        return
    await session.flush()
    for part in _chunks(ids):
        await _index_part(session, list(part))


async def _index_part(session: AsyncSession, ids: list[int]) -> None:
    params = {"ids": ids}
    rows = (
        await session.execute(
            _in("SELECT id, first_name, last_name FROM customer WHERE id IN :ids", "ids"), params
        )
    ).all()
    keys = {cid: name_key(first or "", last or "") for cid, first, last in rows}
    await session.execute(
        _in("DELETE FROM search_name_customer WHERE customer_id IN :ids", "ids"), params
    )
    await session.execute(
        _in("DELETE FROM search_contact WHERE customer_id IN :ids", "ids"), params
    )
    named = {cid: key for cid, key in keys.items() if key}
    if named:
        names = await _name_ids(session, set(named.values()))
        await session.execute(
            text("INSERT INTO search_name_customer (name_id, customer_id) VALUES (:n, :c)"),
            [{"n": names[key], "c": cid} for cid, key in sorted(named.items())],
        )
    points = await session.execute(
        _in(
            "SELECT customer_id, kind, normalized FROM contact_point WHERE customer_id IN :ids",
            "ids",
        ),
        params,
    )
    contacts = {row for cid, kind, norm in points for row in contact_rows(cid, kind, norm)}
    if contacts:
        await session.execute(
            text(
                "INSERT INTO search_contact (kind, key, customer_id) VALUES (:k, :key, :c) "
                "ON CONFLICT DO NOTHING"
            ),
            [{"k": k, "key": key, "c": c} for k, key, c in sorted(contacts)],
        )


async def rebuild_index(
    engine: AsyncEngine,
    progress: Callable[[int, int], None] | None = None,
    lock_wait: float = 30.0,
) -> int:
    """Rebuild the whole index in one transaction; searches keep the old one until it commits.

    Args:
        engine: the database.
        progress: called with (customers done, customers in all) as the work goes on.
        lock_wait: seconds to wait for another writer's lock before giving up with
            core.lock_holders.DatabaseLocked, which names who holds it.

    Returns:
        How many customers were indexed.
    """
    # Imported here: the rebuild loads numpy, and writers that only index a few customers
    # (the console's edits, small imports) must not pay for it at start-up.
    from core.search.rebuild import rebuild

    return await rebuild(engine, progress, lock_wait)
