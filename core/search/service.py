"""SearchService: one box for phone numbers, emails, customer ids and names."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.search import engine
from core.search.dictionary import Dictionary
from core.search.normalize import Query, QueryKind, classify

SQLITE_CACHE_KIB = 65_536
"""Page cache per SQLite connection used for searching (the default is 2 MB)."""


@dataclass(frozen=True)
class SearchHit:
    """One customer found, with what tells namesakes apart."""

    customer_id: int
    external_id: str
    name: str
    score: float
    """Higher is better; comparable within one result list only."""
    city: str
    birth_year: int | None
    phone_tail: str
    """Last four digits of the main phone number."""
    tier: str
    """Loyalty tier, or "" when the customer has no loyalty account."""
    matched: str
    """What the query matched: "phone", "email", "id" or "name"."""


class SearchService:
    """Finds customers by whatever the agent typed, from the index in the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._dictionary = Dictionary()
        self._tuned: set[int] = set()
        self.last_ms = 0.0
        """How long the latest search took, in milliseconds."""

    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best customers for what was typed, best first.

        Args:
            query: a phone number, an email (or its local part), a customer id or a name.
            limit: at most this many results.

        Returns:
            The hits; an empty list for an empty query or when nothing matches.
        """
        started = time.perf_counter()
        try:
            parsed = classify(query)
            if parsed.empty or limit <= 0:
                return []
            async with self._sessions() as session:
                await self._tune(session)
                found = await self._find(session, parsed, limit)
                return self._hits(found, limit)
        finally:
            self.last_ms = (time.perf_counter() - started) * 1000

    async def by_phone(self, number: str, limit: int = 10) -> list[SearchHit]:
        """Customers with this phone number (any formatting; trailing digits), for a screen pop.

        Args:
            number: the caller's number as the phone system gives it.
            limit: at most this many results.

        Returns:
            The hits, best first; empty when the number has fewer than 7 digits.
        """
        parsed = classify(number)
        if QueryKind.PHONE not in parsed.kinds or limit <= 0:
            return []
        async with self._sessions() as session:
            await self._tune(session)
            found = await engine.find_phone(session, parsed.digits, limit)
            return self._hits(found, limit)

    async def _tune(self, session: AsyncSession) -> None:
        """Give each SQLite connection a page cache big enough for the index's hot pages."""
        connection = await session.connection()
        if connection.dialect.name != "sqlite":
            return
        raw = (await connection.get_raw_connection()).dbapi_connection
        # A recycled id only means a connection keeps the default cache: harmless.
        if raw is None or id(raw) in self._tuned:
            return
        await connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        self._tuned.add(id(raw))

    async def _find(self, session: AsyncSession, parsed: Query, limit: int) -> list[engine.Found]:
        found: list[engine.Found] = []
        for kind in parsed.kinds:
            if kind is QueryKind.ID:
                found += await engine.find_ids(session, parsed.customer_ids)
            elif kind is QueryKind.PHONE:
                found += await engine.find_phone(session, parsed.digits, limit)
            elif kind is QueryKind.EMAIL:
                found += await engine.find_email(session, parsed.email, limit)
            else:
                names = await engine.find_names(session, self._dictionary, parsed.words, limit)
                found += names
                # `mgarcia` is someone's email before it is a name; `maria` is a name, and
                # someone's maria@… only shows when the name leaves room for it.
                known = parsed.email in self._dictionary
                if parsed.email and (not known or len(names) < limit):
                    place = engine.AFTER_NAMES_KEY if known else engine.PARTIAL_KEY
                    found += await engine.find_email(
                        session, parsed.email, limit, prefixes=False, place=place
                    )
        return found

    @staticmethod
    def _hits(found: Sequence[engine.Found], limit: int) -> list[SearchHit]:
        best: dict[int, engine.Found] = {}
        for item in found:
            cid = item.detail.customer_id
            if cid not in best or best[cid].order > item.order:
                best[cid] = item
        ranked = sorted(best.values(), key=lambda item: item.order)[:limit]
        return [
            SearchHit(
                customer_id=item.detail.customer_id,
                external_id=item.detail.external_id,
                name=item.detail.name,
                score=round(item.score, 2),
                city=item.detail.city,
                birth_year=item.detail.birth_year,
                phone_tail=item.detail.phone_tail,
                tier=item.detail.tier,
                matched=item.matched,
            )
            for item in ranked
        ]
