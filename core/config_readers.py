"""Readers of `FRONTLINE_*` values: each turns one variable's text into its typed value.

`VARIABLES` is the list of every setting's variable; `core.config` parses with it once, at
start, and reports the names it does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PREFIX = "FRONTLINE_"


class SettingsError(ValueError):
    """One or more `FRONTLINE_*` values could not be read; each line names its variable."""


THRESHOLD_NAMES: tuple[str, ...] = (
    "service_level",
    "longest_wait",
    "waiting",
    "asa",
    "aht",
    "abandonment_rate",
    "occupancy",
    "time_in_state",
)
"""Figures whose colours `FRONTLINE_THRESHOLD_<NAME>` may set (defaults: core.calls.metrics)."""


class UnreadableValue(ValueError):
    """What is wrong with one value; `parse_settings` adds the variable's name."""


def _text(raw: str) -> str:
    return raw


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise UnreadableValue(f"expected 1 or 0, got {raw!r}")


def _zone(raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UnreadableValue(f"unknown time zone {raw!r} (e.g. Europe/Madrid)") from None
    return raw.strip()


def _url(raw: str) -> str:
    if not raw.strip().startswith(("http://", "https://")):
        raise UnreadableValue(f"expected an http:// or https:// address, got {raw!r}")
    return raw.strip()


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _whole(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise UnreadableValue(f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise UnreadableValue(f"must not be negative, got {raw!r}")
    return value


def _positive(raw: str) -> int:
    value = _whole(raw)
    if value == 0:
        raise UnreadableValue("must be at least 1")
    return value


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise UnreadableValue(f"expected a number, got {raw!r}") from None


def _pairs(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition(":")
        if not sep:
            key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UnreadableValue(f"expected NAME:NUMBER, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _threshold(raw: str) -> tuple[float, float]:
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) != 2:
        raise UnreadableValue(f"expected 'warn,alert', got {raw!r}")
    return _number(parts[0]), _number(parts[1])


def _criteria(raw: str) -> tuple[tuple[str, int], ...]:
    found = []
    for part in raw.split(";"):
        if not part.strip():
            continue
        name, _, points = part.rpartition(":")
        try:
            maximum = int(points)
        except ValueError:
            raise UnreadableValue(f"{part.strip()!r} should be 'name:points'") from None
        if not name.strip() or maximum < 1:
            raise UnreadableValue(f"{part.strip()!r} needs a name and points")
        found.append((name.strip(), maximum))
    if not found:
        raise UnreadableValue("no criterion")
    return tuple(found)


def _tiers(raw: str) -> tuple[tuple[str, int], ...]:
    parsed = sorted(((k, int(_number(v))) for k, v in _pairs(raw)), key=lambda pair: pair[1])
    if not parsed or parsed[0][1] != 0:
        raise UnreadableValue("the lowest tier must start at 0")
    if len({p for _, p in parsed}) != len(parsed):
        raise UnreadableValue("two tiers share a threshold")
    return tuple(parsed)


def _wallet(raw: str) -> Mapping[str, float]:
    wallet = {k: _number(v) for k, v in _pairs(raw)}
    if sum(wallet.values()) <= 0:
        raise UnreadableValue("the total must be positive")
    return wallet


def _bands(raw: str) -> tuple[int, ...]:
    bands = tuple(_whole(v) for v in raw.split(",") if v.strip())
    if len(bands) != 4 or list(bands) != sorted(set(bands)) or bands[0] < 1:
        raise UnreadableValue(f"four increasing purchase counts (scores 2..5), got {raw!r}")
    return bands


def _keymap(raw: str) -> Mapping[str, str]:
    # `id=key;id=key1,key2`: a bare key after an entry adds to it.
    keymap: dict[str, list[str]] = {}
    current: str | None = None
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            binding_id, _, key = part.partition("=")
            current = binding_id.strip()
            keymap[current] = [key.strip()] if key.strip() else []
        elif current is not None:
            keymap[current].append(part)
        else:
            raise UnreadableValue(f"expected id=key, got {part!r}")
    return {binding_id: ",".join(keys) for binding_id, keys in keymap.items() if keys}


_Reader = Callable[[str], Any]

VARIABLES: dict[str, tuple[str, str, _Reader]] = {
    "DATABASE_URL": ("", "database_url", _text),
    "DATA_DIR": ("", "data_dir", _path),
    "AGENT": ("", "agent", _text),
    "TIMEZONE": ("", "timezone", _zone),
    "CALL_REASONS": ("", "call_reasons", _list),
    "CALL_OUTCOMES": ("", "call_outcomes", _list),
    "RULES_FILE": ("", "rules_file", _text),
    "CODES_FILE": ("", "codes_file", _text),
    "API_TOKENS": ("", "api_tokens", _list),
    "API_EVENT_TOKENS": ("", "api_event_tokens", _list),
    "API_ADMIN_TOKENS": ("", "api_admin_tokens", _list),
    "SERVICE_LEVEL_SECONDS": ("", "service_level_seconds", _whole),
    "SHORT_ABANDON_SECONDS": ("calls", "short_abandon_seconds", _whole),
    "LONG_HANDLE_SECONDS": ("calls", "long_handle_seconds", _whole),
    "CALL_STALE_AFTER_MINUTES": ("calls", "stale_after_minutes", _whole),
    "QUALITY_CRITERIA": ("calls", "quality_criteria", _criteria),
    "BREAK_REASONS": ("calls", "break_reasons", _list),
    "WRAP_UP_LIMIT_SECONDS": ("calls", "wrap_up_limit_seconds", _positive),
    **{f"THRESHOLD_{n.upper()}": ("calls", f"thresholds.{n}", _threshold) for n in THRESHOLD_NAMES},
    "TIER_THRESHOLDS": ("analytics", "tier_thresholds", _tiers),
    "WALLET_ESTIMATE": ("analytics", "wallet_estimate", _wallet),
    "RFM_FREQUENCY_BANDS": ("analytics", "rfm_frequency_bands", _bands),
    "RFM_WINDOW_DAYS": ("analytics", "rfm_window_days", _whole),
    "CLV_HORIZON_MONTHS": ("analytics", "clv_horizon_months", _positive),
    "CLV_FIT_SAMPLE": ("analytics", "clv_fit_sample", _whole),
    "KEYMAP": ("console", "keymap", _keymap),
    "API_MAX_BODY_BYTES": ("api", "max_body_bytes", _positive),
    "API_URL": ("api", "url", _url),
    "API_TOKEN": ("api", "token", _text),
    "TRUST_AGENT_ENV": ("identity", "trust_agent_env", _flag),
    "KEY_ACCOUNT": ("identity", "key_account", _text),
    "ADMINS": ("identity", "admins", _list),
    "REINDEX_LOCK_WAIT_SECONDS": ("", "reindex_lock_wait_seconds", _positive),
}
"""`FRONTLINE_<NAME>` -> (section, field, reader); section "" is the top level of Settings."""

READ_ELSEWHERE: frozenset[str] = frozenset({"ENV_FILE", "LANGUAGE", "TEST_PG_URL"})
"""Known names that are not settings: the .env file's location, the language (read before the
settings, by core.i18n.resolve, so that their own errors are in it), the tests' PostgreSQL."""
