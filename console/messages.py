"""What the app tells its screens: the services are there, the heavy panels are, the data moved.

The app follows ONE change feed for the whole process (core.db.ChangeFeed: PRAGMA
data_version on SQLite, LISTEN/NOTIFY on PostgreSQL) and posts each batch of changes to the
screens that care, which decide what a change means to them.
"""

from __future__ import annotations

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


async def follow_changes(
    engine: AsyncEngine, subscribers: Callable[[], Iterable[MessagePump]]
) -> None:
    """Post every batch of the database's changes to `subscribers()` until cancelled.

    The first message, as soon as the feed is open, says "anything may have changed": what
    was committed before it opened is then read like any later change.
    """
    from core.db import ANY_CHANGE, ChangeFeed

    async with ChangeFeed(engine) as feed:
        for subscriber in subscribers():
            subscriber.post_message(DatabaseChanged((ANY_CHANGE,)))
        async for batch in feed.changes():
            for subscriber in subscribers():
                subscriber.post_message(DatabaseChanged(tuple(batch)))
