"""The composition root: `make_services(settings)` builds every service the front ends use.

The console, the HTTP API and every `frontline` command get their services here and nowhere
else (tests/core/test_composition.py keeps it so). Services own their transactions. What an
agent or an SSH look-up waits for is built at once and imports nothing heavy; the analytics
and rules engines (numpy, scipy, CEL) are built on first use.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.calls.drafts import DraftService, fallback_key
from core.calls.events import CallEvents
from core.calls.lifecycle import CallService
from core.calls.queue import QueueService
from core.calls.review import ReviewService
from core.config import Settings
from core.db import Reads, make_engine, make_sessions, null_pool_engine
from core.i18n.codes import CodeBook, codes, load_codes, use_codes
from core.pbx.commands import PbxCommandService
from core.privacy.service import PrivacyService
from core.search.lookup import LookupService
from core.search.service import SearchService
from core.services.agents import AgentService
from core.services.audit import AuditService
from core.services.customers import CustomerNotFound, CustomerService
from core.services.history import HistoryService
from core.services.overview import OverviewService
from core.services.record import RecordService

if TYPE_CHECKING:
    from core.analytics.service import AnalyticsService
    from core.rules.service import OfferService


@dataclass
class Services:
    """Every service, built once at start and handed to a front end."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    customers: CustomerService
    agents: AgentService
    search: SearchService
    calls: CallService
    events: CallEvents
    """Call and agent-state events, as phone systems and `frontline call` report them."""
    queue: QueueService
    """The live queue and today's figures, for supervisors and the API."""
    reviews: ReviewService
    """Logged calls for review and their quality scores."""
    lookups: LookupService
    """Masked cards for branch staff (`frontline lookup`)."""
    drafts: DraftService
    history: HistoryService
    overview: OverviewService
    audit: AuditService
    privacy: PrivacyService
    """Reveals, exports and erasures, each audited."""
    commands: PbxCommandService
    """Hold and transfers for the phone system behind a call (its adapter sends them)."""
    record: RecordService
    """The customer record as staff change it: role-checked, with history, merges."""
    codes: CodeBook = field(default_factory=codes)
    """Reason, outcome, decline and break codes: labels in the reader's language, `find`."""
    reads: Reads | None = None
    """The one-hop reads the history and overview share (closed with the services)."""
    owns_engine: bool = True
    """False when the engine was handed in: whoever made it disposes of it."""
    _analytics: AnalyticsService | None = field(default=None, repr=False)
    _offers: OfferService | None = field(default=None, repr=False)
    _building: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def analytics(self) -> AnalyticsService:
        """Built on first use: the analytics engine (numpy, scipy) takes seconds to import,
        and finding a caller needs none of it (see `warm_up`)."""
        with self._building:
            if self._analytics is None:
                from core.analytics.service import AnalyticsService

                self._analytics = AnalyticsService(self.sessions, self.settings)
            return self._analytics

    @property
    def offers(self) -> OfferService:
        """Built on first use, sharing the analytics service (the rules engine is heavy too)."""
        with self._building:
            if self._offers is None:
                from core.rules.service import OfferService

                self._offers = OfferService(self.sessions, self.settings, analytics=self.analytics)
            return self._offers

    def warm_up(self) -> None:
        """Build the heavy services now. Blocking: the console runs it in a thread."""
        _ = self.offers

    async def close(self) -> None:
        await self.search.close()
        if self.reads is not None:
            self.reads.close()
        if self.owns_engine:
            await self.engine.dispose()


def make_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    pooled: bool = True,
    inline_search: bool = False,
) -> Services:
    """Build the real services on the configured database.

    Args:
        settings: the configuration (database URL, data directory, subsystem settings).
        engine: an engine to use instead of one built from the settings; it is then left
            open by `Services.close` (tests, an API on a shared engine).
        pooled: False for a command that runs once: no idle connections are kept.
        inline_search: search on the caller's thread instead of a worker thread; for
            command-line tools, where there is no event loop to keep free.

    Returns:
        The services; close them with `await services.close()` (or use `open_services`).
    """
    url = settings.resolved_database_url
    owns_engine = engine is None
    if engine is None:
        engine = make_engine(url) if pooled else null_pool_engine(url)
    sessions = make_sessions(engine)
    reads = Reads(sessions)
    events = CallEvents(sessions)
    customers = CustomerService(sessions)
    agents = AgentService(sessions)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        customers=customers,
        agents=agents,
        search=SearchService(sessions, inline=inline_search),
        calls=CallService(sessions, events),
        events=events,
        queue=QueueService(sessions, settings),
        reviews=ReviewService(sessions, settings),
        lookups=LookupService(sessions),
        drafts=DraftService(sessions, settings.data_dir, fallback_key(url)),
        history=HistoryService(sessions, reads),
        overview=OverviewService(sessions, reads),
        audit=AuditService(sessions),
        privacy=PrivacyService(sessions),
        commands=PbxCommandService(sessions),
        record=RecordService(sessions, customers, agents),
        codes=use_codes(load_codes(settings.codes_file)),
        reads=reads,
        owns_engine=owns_engine,
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, pooled: bool = False, inline_search: bool = True
) -> AsyncIterator[Services]:
    """The services for one command, closed when it is done.

    The defaults suit a `frontline` subcommand: no idle connections, search inline.

    Args:
        settings: the configuration.
        pooled: keep a connection pool (a batch of many queries, an import).
        inline_search: search on the caller's thread.

    Yields:
        The services.
    """
    services = make_services(settings, pooled=pooled, inline_search=inline_search)
    try:
        yield services
    finally:
        await services.close()


__all__ = ["CustomerNotFound", "Services", "make_services", "open_services"]
