"""What the app tells its screens: the services are there, the heavy panels are, the data moved.

The app follows ONE change feed for the whole process (core.db.ChangeFeed: PRAGMA
data_version on SQLite, LISTEN/NOTIFY on PostgreSQL) and posts each batch of changes to the
screens that care, which decide what a change means to them. When the feed's connection is
lost (PostgreSQL restarted, the file vanished) it opens a new one, with a growing wait between
attempts, and says so to the same screens (`FeedStatus`), so that an agent knows calls may
not pop until it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

if TYPE_CHECKING:  # not at start: the console opens before the database layer is imported
    from sqlalchemy.ext.asyncio import AsyncEngine

    from core.db import Change
    from core.services import Services


@dataclass
class ServicesReady(Message):
    """The services are loaded: the screen can search, sign the agent in, restore."""

    services: Services


@dataclass
class PanelsReady(Message):
    """The heavy modules (analytics, rules) are loaded: their panels can be mounted."""


@dataclass
class DatabaseChanged(Message):
    """Other processes (or this one) committed these changes."""

    changes: tuple[Change, ...]

    def touches(self, topics: Iterable[str]) -> bool:
        """True when a change is about one of `topics` (or about anything: topic "*")."""
        wanted = {*topics, "*"}
        return any(change.topic in wanted for change in self.changes)


@dataclass
class FeedStatus(Message):
    """The change feed was lost (`live` False, with the error) or is back (`live` True)."""

    live: bool
    error: str = ""


RECONNECT_WAITS = (0.5, 1.0, 2.0, 5.0)
"""Seconds before each new attempt to open a lost feed; the last repeats."""


async def follow_changes(
    engine: AsyncEngine,
    subscribers: Callable[[], Iterable[MessagePump]],
    waits: tuple[float, ...] = RECONNECT_WAITS,
) -> None:
    """Post every batch of the database's changes to `subscribers()` until cancelled.

    The first message, each time the feed opens, says "anything may have changed": what was
    committed before it opened (or while it was lost) is then read like any later change.
    """
    from core.db import ANY_CHANGE, ChangeFeed

    def post(message: Message) -> None:
        for subscriber in subscribers():
            subscriber.post_message(message)

    failures = 0
    while True:
        try:
            async with ChangeFeed(engine) as feed:
                if failures:
                    post(FeedStatus(live=True))
                failures = 0
                post(DatabaseChanged((ANY_CHANGE,)))
                async for batch in feed.changes():
                    post(DatabaseChanged(tuple(batch)))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - lost: say so once, then try again
            if not failures:
                post(FeedStatus(live=False, error=str(error).splitlines()[0][:200]))
            await asyncio.sleep(waits[min(failures, len(waits) - 1)])
            failures += 1
