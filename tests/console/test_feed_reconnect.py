"""The change feed survives a PostgreSQL restart: it says it was lost, reconnects, says it is
back, and screen pops work again. On a throwaway cluster of the test's own (never the shared
server): initdb + pg_ctl on a free port in a temporary directory."""

from __future__ import annotations

from textual.app import App

from console.app import ConsoleApp
from console.messages import DatabaseChanged, FeedStatus, follow_changes
from core.db import make_engine, make_sessions, publish_change
from core.services import Services
from tests.console.conftest import running
from tests.console.test_screen_pop import until
from tests.pg_cluster import Cluster


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
