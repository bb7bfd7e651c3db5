"""Storage: migrations from an empty database, UTC round trips, cross-process change feed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import (
    ChangeFeed,
    current_revision,
    head_revision,
    make_engine,
    publish_change,
    upgrade_database,
)
from core.models import ContactPoint, Customer, Interaction


async def test_empty_database_is_migrated_to_head(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'frontline.db'}"
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        fks = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    await engine.dispose()
    assert {"customer", "contact_point", "interaction", "call", "agent", "audit_event"} <= tables
    assert journal == "wal"
    assert fks == 1


async def test_postgres_database_is_at_head(pg_database_url: str) -> None:
    engine = make_engine(pg_database_url)
    assert await current_revision(engine) == head_revision()
    await engine.dispose()


async def test_times_come_back_aware_in_utc(sessions: async_sessionmaker[AsyncSession]) -> None:
    madrid_evening = datetime(2026, 3, 1, 21, 30, tzinfo=timezone(timedelta(hours=1)))
    async with sessions() as session, session.begin():
        customer = Customer(external_id="C00000001", first_name="María", last_name="García López")
        session.add(customer)
        await session.flush()
        session.add(
            Interaction(
                customer_id=customer.id,
                at=madrid_evening,
                channel="phone",
                direction="inbound",
                subject="Factura",
            )
        )
    async with sessions() as session:
        stored = (await session.execute(select(Interaction))).scalar_one()
    assert stored.at == madrid_evening
    assert stored.at.tzinfo is not None and stored.at.utcoffset() == timedelta(0)


async def test_contact_points_need_an_existing_customer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(Exception, match="(?i)foreign key"):
        async with sessions() as session, session.begin():
            session.add(ContactPoint(customer_id=999, kind="phone", value="1", normalized="1"))


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from core.db import make_engine, make_sessions, publish_change
    from core.models import Customer

    async def main(url):
        engine = make_engine(url)
        async with make_sessions(engine)() as session, session.begin():
            session.add(Customer(external_id="C00000042", first_name="Ana", last_name="Núñez"))
            await publish_change(session, "customer", "C00000042")
        await engine.dispose()

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_another_process_commit_reaches_the_feed(db_url: str) -> None:
    engine = make_engine(db_url)
    async with ChangeFeed(engine, poll_interval=0.05) as feed:
        changes = feed.changes()
        waiter = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0.2)
        assert not waiter.done()
        writer = await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, db_url)
        assert await writer.wait() == 0
        batch = await asyncio.wait_for(waiter, timeout=5)
    await engine.dispose()
    assert any(c.topic == "customer" and c.key == "C00000042" for c in batch)


async def test_publish_inside_a_rolled_back_transaction_is_not_seen(db_url: str) -> None:
    engine = make_engine(db_url)
    other = make_engine(db_url)
    async with ChangeFeed(engine, poll_interval=0.05) as feed:
        changes = feed.changes()
        from core.db import make_sessions

        async with make_sessions(other)() as session:
            await session.begin()
            await publish_change(session, "customer", "rolled-back")
            await session.rollback()
        async with make_sessions(other)() as session, session.begin():
            await publish_change(session, "call", "7")
        batch = await asyncio.wait_for(anext(changes), timeout=5)
    await engine.dispose()
    await other.dispose()
    assert [(c.topic, c.key) for c in batch] == [("call", "7")]


async def test_a_commit_that_publishes_nothing_is_not_news(db_url: str) -> None:
    """An audit row (an agent opened a customer) wakes no console: only published changes."""
    from core.db import make_sessions
    from core.services.audit import AuditService

    engine = make_engine(db_url)
    other = make_engine(db_url)
    async with ChangeFeed(engine, poll_interval=0.05) as feed:
        changes = feed.changes()
        waiter = asyncio.ensure_future(anext(changes))
        await AuditService(make_sessions(other)).record("maria", "view", None, "agent screen")
        await asyncio.sleep(0.3)
        assert not waiter.done()
        async with make_sessions(other)() as session, session.begin():
            await publish_change(session, "call", "7")
        batch = await asyncio.wait_for(waiter, timeout=5)
    await engine.dispose()
    await other.dispose()
    assert [(c.topic, c.key) for c in batch] == [("call", "7")]


def test_upgrade_command_line_creates_the_schema(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "console.cli", "db", "upgrade"],
        env={"FRONTLINE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert head_revision() in result.stdout


async def test_a_pooled_connection_the_server_closed_is_replaced_without_an_error(
    own_cluster: object,
) -> None:
    """After a PostgreSQL restart the next request just works: the pool notices, without a
    round trip, that the server closed its connections, and opens new ones."""
    engine = make_engine(own_cluster.url)  # type: ignore[attr-defined]
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
        await asyncio.to_thread(own_cluster.restart)  # type: ignore[attr-defined]
        await asyncio.sleep(0.2)  # the loop reads the closed sockets
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        await engine.dispose()
