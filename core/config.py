"""Settings from the environment and a `.env` file.

Every setting has an environment variable named `FRONTLINE_<FIELD>`; a `.env` file in the
working directory (or the file named by `FRONTLINE_ENV_FILE`) is read first, and real
environment variables win over it. `.env.example` documents each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from platformdirs import user_data_dir

APP_NAME = "frontline"


def default_data_dir() -> Path:
    """The per-user directory that holds the default database and local fallback files."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_database_url(data_dir: Path | None = None) -> str:
    """A SQLite file in the user's data directory, opened through aiosqlite."""
    directory = data_dir or default_data_dir()
    return f"sqlite+aiosqlite:///{directory / 'frontline.db'}"


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Everything Frontline reads from its environment."""

    database_url: str = ""
    """SQLAlchemy URL of the database; empty means a SQLite file in `data_dir`."""

    data_dir: Path = field(default_factory=default_data_dir)
    """Where the default database, drafts fallback files and rejects files live."""

    agent: str = ""
    """The agent's user name; empty means the login name ($USER)."""

    timezone: str = ""
    """IANA time zone for showing times; empty means the machine's local zone."""

    call_reasons: tuple[str, ...] = (
        "billing",
        "technical",
        "sales",
        "complaint",
        "cancellation",
        "address change",
        "information",
        "other",
    )
    """Reason codes an agent picks for a call."""

    call_outcomes: tuple[str, ...] = (
        "resolved",
        "follow-up",
        "escalated",
        "sale",
        "callback requested",
        "no action",
    )
    """Outcome (disposition) codes an agent picks for a call."""

    rules_file: str = ""
    """Path of the offer rules TOML file; empty means the example shipped with Frontline."""

    api_tokens: tuple[str, ...] = ()
    """Bearer tokens the HTTP API accepts."""

    service_level_seconds: int = 20
    """A call answered within this many seconds counts towards the service level."""

    extra: dict[str, str] = field(default_factory=dict)
    """Every other FRONTLINE_* variable, for settings owned by one subsystem."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    @property
    def agent_name(self) -> str:
        return self.agent or os.environ.get("USER") or os.environ.get("USERNAME") or "agent"

    def get(self, name: str, default: str = "") -> str:
        """A subsystem's own setting `FRONTLINE_<NAME>`, as text."""
        return self.extra.get(name.lower(), default)


_PREFIX = "FRONTLINE_"


def load_settings(env: dict[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Read settings from `env` (default: os.environ) over a `.env` file.

    Args:
        env: the environment to read; os.environ when None.
        env_file: the dotenv file; `FRONTLINE_ENV_FILE` or `./.env` when None.

    Returns:
        The settings, with defaults for whatever is not set.
    """
    environ = dict(os.environ if env is None else env)
    path = env_file or Path(environ.get("FRONTLINE_ENV_FILE", ".env"))
    merged: dict[str, str] = {}
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(environ)

    known = {f.name for f in fields(Settings)} - {"extra"}
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, raw in merged.items():
        if not key.startswith(_PREFIX):
            continue
        name = key[len(_PREFIX) :].lower()
        if name not in known:
            extra[name] = raw
            continue
        current = getattr(Settings, name, None)
        if name == "data_dir":
            values[name] = Path(raw).expanduser()
        elif name == "service_level_seconds":
            values[name] = int(raw)
        elif isinstance(current, tuple) or name in {"call_reasons", "call_outcomes", "api_tokens"}:
            values[name] = _split_list(raw)
        else:
            values[name] = raw
    return Settings(**values, extra=extra)
