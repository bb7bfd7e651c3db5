"""Settings from the environment and a `.env` file, parsed once into typed sections.

Every setting has an environment variable named `FRONTLINE_<NAME>`; a `.env` file in the
working directory (or the file named by `FRONTLINE_ENV_FILE`) is read first, and real
environment variables win over it. `.env.example` documents each one. A value that cannot be
read stops the start with a message naming the variable; an unknown `FRONTLINE_*` name (a typo)
is reported in `Settings.warnings`, with the nearest real name.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from platformdirs import user_data_dir

from core.config_readers import (
    PREFIX,
    READ_ELSEWHERE,
    THRESHOLD_NAMES,
    VARIABLES,
    SettingsError,
    UnreadableValue,
)
from core.identity import Identity
from core.identity import resolve as resolve_identity

APP_NAME = "frontline"


def default_data_dir() -> Path:
    """The per-user directory that holds the default database and local fallback files."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_database_url(data_dir: Path | None = None) -> str:
    """A SQLite file in the user's data directory, opened through aiosqlite."""
    directory = data_dir or default_data_dir()
    return f"sqlite+aiosqlite:///{directory / 'frontline.db'}"


DEFAULT_QUALITY_CRITERIA: tuple[tuple[str, int], ...] = (
    ("Greeting and identification", 2),
    ("Understood the need", 3),
    ("Resolved or set a clear next step", 3),
    ("Offer made well, or rightly not made", 1),
    ("Tone and courtesy", 1),
)

DEFAULT_TIER_THRESHOLDS: tuple[tuple[str, int], ...] = (
    ("Bronze", 0),
    ("Silver", 2000),
    ("Gold", 6000),
    ("Platinum", 15000),
)

DEFAULT_WALLET_ESTIMATE: Mapping[str, float] = {
    "mobile": 480.0,
    "fibre": 540.0,
    "tv": 360.0,
    "energy": 1200.0,
    "insurance": 420.0,
    "devices": 600.0,
}
"""A household's yearly spend on each category we sell, from any supplier."""


@dataclass(frozen=True)
class CallSettings:
    """The queue, the supervisor's figures and call review."""

    short_abandon_seconds: int = 5
    """Abandons after a shorter wait are counted but left out of service level and rate."""
    long_handle_seconds: int = 600
    """Call review: talk + hold + wrap-up over this is a long handle time."""
    quality_criteria: tuple[tuple[str, int], ...] = DEFAULT_QUALITY_CRITERIA
    """The quality form: (criterion, maximum points)."""
    break_reasons: tuple[str, ...] = ("break", "training", "meeting", "lunch")
    """Reason codes an agent (or a supervisor for them) picks when going on a break."""
    wrap_up_limit_seconds: int = 120
    """After-call work longer than this is flagged to the agent and on the team board."""
    thresholds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """(warn, alert) per figure that was configured; the others keep their defaults."""
    stale_after_minutes: int = 240
    """An open call with no event for this long is closed and flagged `closed_stale`."""


@dataclass(frozen=True)
class AnalyticsSettings:
    """Loyalty tiers, share of wallet, RFM and lifetime value."""

    tier_thresholds: tuple[tuple[str, int], ...] = DEFAULT_TIER_THRESHOLDS
    """(tier, minimum points), lowest first; the lowest starts at 0."""
    wallet_estimate: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_WALLET_ESTIMATE)
    )
    """Yearly category spend per product line, summed for the depth estimate."""
    rfm_frequency_bands: tuple[int, ...] = ()
    """Minimum purchase days for F scores 2..5 (fixed bands); empty means quintiles."""
    rfm_window_days: int = 0
    """Days of history that frequency and monetary count; 0 means all history."""
    clv_horizon_months: int = 12
    """Horizon of expected purchases and expected value."""
    clv_fit_sample: int = 200_000
    """Customers drawn (fixed seed) to fit BG/NBD and Gamma-Gamma; 0 fits on all."""


@dataclass(frozen=True)
class ConsoleSettings:
    """The terminal console."""

    keymap: Mapping[str, str] = field(default_factory=dict)
    """Binding id -> comma-separated keys, as `App.set_keymap` takes it."""


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API, and `frontline call --url` as its client."""

    max_body_bytes: int = 16_384
    """Largest request body the API accepts; larger ones get 413."""
    url: str = ""
    """The API `frontline call` sends through when `--url` is not given."""
    token: str = ""
    """Bearer token for `url`; empty means the first of the API tokens."""


@dataclass(frozen=True)
class IdentitySettings:
    """Who a user is (core/identity.py, docs/ssh.md)."""

    trust_agent_env: bool = False
    """Take `--agent` / FRONTLINE_AGENT at their word (demos, tests); else the OS login."""
    key_account: str = ""
    """The OS account for SSH key logins, each key forced to `frontline --as-key NAME`."""
    admins: tuple[str, ...] = ()
    """OS logins that administer Frontline (agents, privacy) besides root."""


@dataclass(frozen=True)
class Settings:
    """Everything Frontline reads from its environment."""

    database_url: str = ""
    """SQLAlchemy URL of the database; empty means a SQLite file in `data_dir`."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Where the default database, drafts fallback files and rejects files live."""
    agent: str = ""
    """A typed user name, honoured only with `identity.trust_agent_env`."""
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
    codes_file: str = ""
    """A TOML file of codes (id + label per language) laid over core/i18n/codes.toml."""
    api_tokens: tuple[str, ...] = ()
    """Bearer tokens the HTTP API accepts, for every route (phone-system events and
    administration alike)."""
    api_event_tokens: tuple[str, ...] = ()
    """Bearer tokens for phone-system events only (core/api/auth.py)."""
    api_admin_tokens: tuple[str, ...] = ()
    """Bearer tokens for administration only (the queue, a call's events, agents' contacts)."""
    service_level_seconds: int = 20
    """A call answered within this many seconds counts towards the service level."""
    reindex_lock_wait_seconds: int = 30
    """`search --reindex`: how long to wait for another writer's lock before giving up."""
    calls: CallSettings = field(default_factory=CallSettings)
    """The queue's figures and colours, call review."""
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    """Loyalty tiers, share of wallet, RFM and lifetime value."""
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    """The terminal console (remapped keys)."""
    api: ApiSettings = field(default_factory=ApiSettings)
    """The HTTP API and its command-line client."""
    identity_settings: IdentitySettings = field(default_factory=IdentitySettings)
    """How a user's identity is established."""
    identity: Identity | None = field(default=None, compare=False)
    """Who is acting, once the command line has settled it (`frontline --as-key`)."""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """Problems worth telling at start that do not stop it (unknown variables)."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    @property
    def display_database_url(self) -> str:
        """The database URL with any password hidden, for messages."""
        from sqlalchemy.engine import make_url  # not at start: `frontline lookup` starts fast

        return make_url(self.resolved_database_url).render_as_string(hide_password=True)

    @property
    def who(self) -> Identity:
        """Who is acting: as settled by the command line, else from the OS (or a trusted name)."""
        if self.identity is not None:
            return self.identity
        ids = self.identity_settings
        return resolve_identity(self.agent, trust_typed=ids.trust_agent_env, admins=ids.admins)

    @property
    def agent_name(self) -> str:
        return self.who.name


def parse_settings(values: Mapping[str, str], origin: Mapping[str, str] | None = None) -> Settings:
    """Typed settings from `FRONTLINE_*` text values (other names are skipped).

    Args:
        values: variable name -> text, e.g. {"FRONTLINE_CLV_HORIZON_MONTHS": "24"}. An empty
            value means unset (the default applies).
        origin: where a variable came from ("in .env"), for the warnings.

    Returns:
        The settings; `warnings` lists unknown `FRONTLINE_*` names with a suggestion.
        Raises SettingsError, one line per bad value, naming its variable.
    """
    sections: dict[str, dict[str, Any]] = {"": {}, "calls": {}, "analytics": {}, "console": {}}
    sections["api"] = {}
    sections["identity"] = {}
    thresholds: dict[str, tuple[float, float]] = {}
    problems: list[str] = []
    warnings: list[str] = []
    for key in sorted(values):
        if not key.startswith(PREFIX):
            continue
        name, raw = key[len(PREFIX) :], values[key]
        spec = VARIABLES.get(name)
        if spec is None:
            if name not in READ_ELSEWHERE:
                warnings.append(_unknown(key, (origin or {}).get(key, "")))
            continue
        if not raw.strip():
            continue
        section, attribute, reader = spec
        try:
            value = reader(raw)
        except UnreadableValue as bad:
            problems.append(f"{key}: {bad}")
            continue
        if attribute.startswith("thresholds."):
            thresholds[attribute.partition(".")[2]] = value
        else:
            sections[section][attribute] = value
    if problems:
        raise SettingsError("\n".join(problems))
    if thresholds:
        sections["calls"]["thresholds"] = thresholds
    return Settings(
        **sections[""],
        calls=CallSettings(**sections["calls"]),
        analytics=AnalyticsSettings(**sections["analytics"]),
        console=ConsoleSettings(**sections["console"]),
        api=ApiSettings(**sections["api"]),
        identity_settings=IdentitySettings(**sections["identity"]),
        warnings=tuple(warnings),
    )


def _unknown(key: str, where: str) -> str:
    known = [PREFIX + name for name in (*VARIABLES, *READ_ELSEWHERE)]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    place = f" ({where})" if where else ""
    hint = f"did you mean {close[0]}?" if close else "see .env.example for the settings"
    return f"{key}{place} is not a Frontline setting and is ignored: {hint}"


def load_settings(env: Mapping[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Read settings from `env` (default: os.environ) over a `.env` file.

    Args:
        env: the environment to read; os.environ when None.
        env_file: the dotenv file; `FRONTLINE_ENV_FILE` or `./.env` when None.

    Returns:
        The settings, with defaults for whatever is not set. Raises SettingsError when a
        value cannot be read.
    """
    environ = dict(os.environ if env is None else env)
    path = env_file or Path(environ.get("FRONTLINE_ENV_FILE", ".env"))
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    if path.is_file():
        for key, value in dotenv_values(path).items():
            if value is not None:
                merged[key] = value
                origin[key] = f"in {path}"
    for key, value in environ.items():
        merged[key] = value
        origin.pop(key, None)
    return parse_settings(merged, origin)


def with_values(settings: Settings, values: Mapping[str, str]) -> Settings:
    """`settings` with some `FRONTLINE_*` values set again (tests, and a reconfigured process).

    Args:
        settings: the settings to start from.
        values: variable name -> text, read as `load_settings` reads it.

    Returns:
        New settings: each section that `values` touches is replaced field by field.
    """
    parsed = parse_settings(values)
    changes: dict[str, Any] = {}
    for key in values:
        section, attribute, _ = VARIABLES[key[len(PREFIX) :]]
        if section == "":
            changes[attribute] = getattr(parsed, attribute)
        elif attribute.startswith("thresholds."):
            current = dict(settings.calls.thresholds)
            current.update(parsed.calls.thresholds)
            calls = changes.get("calls", settings.calls)
            changes["calls"] = replace(calls, thresholds=current)
        else:
            base = changes.get(section, getattr(settings, section))
            changes[section] = replace(
                base, **{attribute: getattr(getattr(parsed, section), attribute)}
            )
    return replace(settings, **changes)


__all__ = [
    "PREFIX",
    "THRESHOLD_NAMES",
    "AnalyticsSettings",
    "ApiSettings",
    "IdentitySettings",
    "CallSettings",
    "ConsoleSettings",
    "Settings",
    "SettingsError",
    "load_settings",
    "parse_settings",
    "with_values",
]
