"""Database fixtures: every core test that asks for `db_url` runs on SQLite and on PostgreSQL.

PostgreSQL tests run whenever a server is reachable (FRONTLINE_TEST_PG_URL, default the local
one); under CI (`CI=true`) an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import make_engine, make_sessions, upgrade_database
from core.i18n import set_language

PG_ADMIN_URL = os.environ.get(
    "FRONTLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

pytest_plugins = ["tests.hang_report"]

# The suite reads English unless a test asks for another language (`core.i18n.using`, or
# FRONTLINE_LANGUAGE in a subprocess's environment): commands run by tests inherit this.
os.environ["FRONTLINE_LANGUAGE"] = "en"
set_language("en")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _pg_exec(url: str, *statements: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _pg_reachable() -> str | None:
    try:
        asyncio.run(asyncio.wait_for(_pg_exec(PG_ADMIN_URL, "SELECT 1"), 5))
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test worker, dropped at the end."""
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    name = f"frontline_test_{_worker()}_{os.getpid()}"
    asyncio.run(
        _pg_exec(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    )
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    yield url
    asyncio.run(_pg_exec(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once per worker."""
    path = tmp_path_factory.mktemp("template") / "frontline.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    path = tmp_path / "frontline.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _truncate_all(url: str) -> None:
    await _pg_exec(
        url,
        """
        DO $$ DECLARE names text;
        BEGIN
          SELECT string_agg(format('%I', tablename), ', ') INTO names
          FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version';
          IF names IS NOT NULL THEN
            EXECUTE 'TRUNCATE ' || names || ' RESTART IDENTITY CASCADE';
          END IF;
        END $$;
        """,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database: one run of the test on each backend."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("pg_database_url"))
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


@pytest.fixture
def own_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster of this test's own (tests/pg_cluster.py), for tests
    that stop or restart the server."""
    from tests.pg_cluster import throwaway_cluster

    with throwaway_cluster() as cluster:
        yield cluster
