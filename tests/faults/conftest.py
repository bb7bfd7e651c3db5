"""Fixtures of the fault-injection suite: a database per test, SQLite's lock made short, and
a throwaway PostgreSQL cluster of the suite's own to stop and start (never the shared one)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _truncate_all
from tests.faults.faults import LOCK_WAIT_MS
from tests.faults.writes import Target
from tests.pg_cluster import Cluster, throwaway_cluster


@pytest.fixture
def quick_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes in this process give up on SQLite's lock after LOCK_WAIT_MS."""
    monkeypatch.setattr("core.db.SQLITE_BUSY_TIMEOUT_MS", LOCK_WAIT_MS)


@pytest.fixture
def sqlite_target(sqlite_url: str, tmp_path: Path) -> Target:
    return Target(sqlite_url, tmp_path)


@pytest.fixture
def pg_target(pg_database_url: str, tmp_path: Path) -> Target:
    """The shared server's database of this worker, emptied (for faults that leave the
    server running: a killed process)."""
    asyncio.run(_truncate_all(pg_database_url))
    return Target(pg_database_url, tmp_path)


@pytest.fixture(scope="module")
def down_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own, stopped and started by its tests."""
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def down_target(down_cluster: Cluster, tmp_path: Path) -> Target:
    down_cluster.start_if_stopped()
    asyncio.run(_truncate_all(down_cluster.url))
    return Target(down_cluster.url, tmp_path)
