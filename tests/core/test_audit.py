"""The audit trail records who looked at which customer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Customer
from core.services.audit import AuditService


async def test_views_are_listed_newest_first_per_customer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        ana = Customer(external_id="C00000001", first_name="Ana", last_name="Núñez")
        luis = Customer(external_id="C00000002", first_name="Luis", last_name="Pérez")
        session.add_all([ana, luis])
    audit = AuditService(sessions)
    assert ana.id is not None and luis.id is not None
    await audit.record("maria", "view", ana.id, "agent screen")
    await audit.record("jorge", "view", luis.id)
    await audit.record("pedro", "view", ana.id, "x" * 5000)

    events = await audit.for_customer(ana.id)

    assert [(e.actor, e.action) for e in events] == [("pedro", "view"), ("maria", "view")]
    assert len(events[0].detail) == 1000
