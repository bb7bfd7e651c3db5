"""The async API the console (and the HTTP API) calls. Services own their transactions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.analytics.service import AnalyticsService
from core.calls.drafts import DraftService, fallback_key
from core.calls.lifecycle import CallService
from core.config import Settings
from core.db import make_engine, make_sessions
from core.rules.service import OfferService
from core.search.service import SearchService
from core.services.agents import AgentService
from core.services.audit import AuditService
from core.services.customers import CustomerNotFound, CustomerService
from core.services.history import HistoryService
from core.services.overview import OverviewService


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
    analytics: AnalyticsService
    offers: OfferService
    audit: AuditService

    async def close(self) -> None:
        await self.engine.dispose()


def make_services(settings: Settings) -> Services:
    """Build the real services on the configured database."""
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessions(engine)
    analytics = AnalyticsService(sessions, settings)
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
        history=HistoryService(sessions),
        overview=OverviewService(sessions),
        analytics=analytics,
        offers=OfferService(sessions, settings, analytics=analytics),
        audit=AuditService(sessions),
    )


__all__ = ["CustomerNotFound", "Services", "make_services"]
