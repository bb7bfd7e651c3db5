"""Console fixtures: real services on a fresh SQLite database with deterministic customers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.app import App
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot

from core.config import Settings, with_values
from core.services import Services, make_services
from tests.console.seed import NOW, seed

RULES = Path(__file__).with_name("rules.toml")
"""One offer, for Gold customers only: deterministic offers in every console test."""


def console_settings(sqlite_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=sqlite_url,
        data_dir=data_dir,
        timezone="UTC",
        rules_file=str(RULES),
    )


@pytest.fixture
async def services(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Real services on a seeded database; `services.customer_ids` lists the seeded ids."""
    built = make_services(console_settings(sqlite_url, tmp_path / "data"))
    ids = await seed(built.sessions)
    built.customer_ids = ids  # type: ignore[attr-defined]
    yield built
    await built.close()


def fresh_services(services: Services, **extra: str) -> Services:
    """New services on the same database (a restarted console), optionally reconfigured."""
    settings = services.settings
    if extra:
        settings = with_values(settings, {f"FRONTLINE_{k.upper()}": v for k, v in extra.items()})
    return make_services(settings)


def frozen_now():  # type: ignore[no-untyped-def]
    return NOW


@contextlib.asynccontextmanager
async def running(app: App[None], size: tuple[int, int] = (80, 24)) -> AsyncIterator[Pilot[None]]:
    """`app.run_test(size=size)`, with every message posted kept in `pilot.messages` and
    every notification shown in `pilot.notes`."""
    messages: list[Message] = []
    notes: list[Notification] = []

    def hook(message: Message) -> None:
        messages.append(message)
        if isinstance(message, Notify):
            notes.append(message.notification)

    async with app.run_test(size=size, message_hook=hook) as pilot:
        pilot.messages = messages  # type: ignore[attr-defined]
        pilot.notes = notes  # type: ignore[attr-defined]
        yield pilot
