"""What every subcommand needs: settings and a way to reach the database."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.config import Settings, load_settings


@dataclass(frozen=True)
class CliContext:
    settings: Settings

    @classmethod
    def from_environment(cls, agent: str | None = None) -> CliContext:
        settings = load_settings()
        if agent:
            settings = replace(settings, agent=agent)
        return cls(settings=settings)

    @property
    def database_url(self) -> str:
        return self.settings.resolved_database_url

    @property
    def display_database_url(self) -> str:
        """The URL with any password hidden, for messages."""
        from sqlalchemy.engine import make_url  # not at start: the console must open quickly

        return make_url(self.database_url).render_as_string(hide_password=True)
