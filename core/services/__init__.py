"""The async API the console (and the HTTP API) calls. Services own their transactions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.calls.drafts import DraftService, fallback_key
from core.calls.lifecycle import CallService
from core.config import Settings
from core.db import Reads, make_engine, make_sessions
from core.search.service import SearchService
from core.services.agents import AgentService
from core.services.audit import AuditService
from core.services.customers import CustomerNotFound, CustomerService
from core.services.history import HistoryService
from core.services.overview import OverviewService

if TYPE_CHECKING:
    from core.analytics.service import AnalyticsService
    from core.rules.service import OfferService


@dataclass
class Services:
    """Every service, built once at start and handed to the console."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    customers: CustomerService
    agents: AgentService
    search: SearchService
    calls: CallService
    drafts: DraftService
    history: HistoryService
    overview: OverviewService
    audit: AuditService
    reads: Reads | None = None
    """The one-hop reads the history and overview share (closed with the services)."""
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
        await self.engine.dispose()


def make_services(settings: Settings) -> Services:
    """Build the real services on the configured database."""
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessions(engine)
    reads = Reads(sessions)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        customers=CustomerService(sessions),
        agents=AgentService(sessions),
        search=SearchService(sessions),
        calls=CallService(sessions),
        drafts=DraftService(
            sessions, settings.data_dir, fallback_key(settings.resolved_database_url)
        ),
        history=HistoryService(sessions, reads),
        overview=OverviewService(sessions, reads),
        audit=AuditService(sessions),
        reads=reads,
    )


__all__ = ["CustomerNotFound", "Services", "make_services"]
