"""The change feed survives a PostgreSQL restart: it says it was lost, reconnects, says it is
back, and screen pops work again. On a throwaway cluster of the test's own (never the shared
server): initdb + pg_ctl on a free port in a temporary directory."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.app import App

from console.app import ConsoleApp
from console.messages import DatabaseChanged, FeedStatus, follow_changes
from core.db import make_engine, make_sessions, publish_change, upgrade_database
from core.services import Services
from tests.console.conftest import running
from tests.console.test_screen_pop import until

BIN_DIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@dataclass
class Cluster:
    url: str
    pg_ctl: list[str]

    def restart(self) -> None:
        subprocess.run(
            [*self.pg_ctl, "restart", "-m", "fast", "-w"], check=True, capture_output=True
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    if not BIN_DIRS:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries are needed (CI=true)")
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    bin_dir = Path(BIN_DIRS[-1])
    home = Path(tempfile.mkdtemp(prefix="frontline-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
        shutil.chown(home, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", _free_port()
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"),
              "-o", options]  # fmt: skip
    subprocess.run([*pg_ctl, "start", "-w"], check=True, capture_output=True)
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        upgrade_database(url)
        yield Cluster(url, pg_ctl)
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate", "-w"], capture_output=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(home)


class FeedRecorder(App[None]):
    """An app reduced to its change feed: records what reaches its screens."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.engine = make_engine(url)
        self.changes: list[DatabaseChanged] = []
        self.statuses: list[FeedStatus] = []

    def on_mount(self) -> None:
        self.run_worker(follow_changes(self.engine, lambda: [self], waits=(0.2, 0.5)), group="feed")

    def on_database_changed(self, message: DatabaseChanged) -> None:
        self.changes.append(message)

    def on_feed_status(self, message: FeedStatus) -> None:
        self.statuses.append(message)

    async def on_unmount(self) -> None:
        await self.engine.dispose()


async def _announce(url: str, key: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session, session.begin():
            await publish_change(session, "agent", key)
    finally:
        await engine.dispose()


def _saw(app: FeedRecorder, key: str) -> bool:
    return any(c.key == key for m in app.changes for c in m.changes)


async def test_the_feed_reconnects_after_a_postgresql_restart_and_says_so(
    own_cluster: Cluster,
) -> None:
    app = FeedRecorder(own_cluster.url)
    async with app.run_test() as pilot:
        await until(pilot, lambda: bool(app.changes))  # open: "anything may have changed"
        await _announce(own_cluster.url, "before")
        await until(pilot, lambda: _saw(app, "before"))

        own_cluster.restart()
        await until(pilot, lambda: [s.live for s in app.statuses] == [False, True])
        assert app.statuses[0].error  # the agent is told why

        await _announce(own_cluster.url, "after")
        await until(pilot, lambda: _saw(app, "after"))  # pops work again


async def test_the_agent_is_told_when_live_updates_are_lost_and_back(services: Services) -> None:
    app = ConsoleApp(services, agent_name="maria")
    async with running(app) as pilot:
        await until(pilot, lambda: app.agent_screen.ready)
        app.agent_screen.post_message(FeedStatus(live=False, error="connection [reset]"))
        await until(pilot, lambda: "no live updates" in app.sub_title)
        lost = pilot.notes[-1]  # type: ignore[attr-defined]
        assert "connection [reset]" in lost.message and not lost.markup
        app.agent_screen.post_message(FeedStatus(live=True))
        await until(pilot, lambda: "no live updates" not in app.sub_title)
        assert pilot.notes[-1].message == "Live updates are back."  # type: ignore[attr-defined]
