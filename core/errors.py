"""Known failures shared by several services: one class each, so that callers catch one name;
and what a failed database write means, in words a user can act on (`database_reason`)."""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.db import DatabaseUnavailable, sqlite_file
from core.i18n import words as _
from core.lock_holders import DatabaseLocked, sqlite_lock_holders


class CustomerNotFound(LookupError):
    """No customer has that id or customer number."""


def is_locked(error: BaseException) -> bool:
    """SQLite's "another connection holds the lock" (raw or wrapped by SQLAlchemy)."""
    text = str(error).lower()
    return "database is locked" in text or "database is busy" in text


def is_database_down(error: BaseException) -> bool:
    """True for a failure to reach or keep the database (not a bug in a statement)."""
    if isinstance(error, DatabaseUnavailable | PoolTimeout | ConnectionError | TimeoutError):
        return True
    if isinstance(error, DBAPIError):
        return (
            error.connection_invalidated
            or isinstance(error, OperationalError | InterfaceError)
            or isinstance(error.orig, ConnectionError | OSError)
        )
    if isinstance(error, OSError):  # asyncpg's connect: refused, unreachable
        return True
    name = type(error).__name__.lower()
    return type(error).__module__.startswith("asyncpg") and "connect" in name


_ADDRESS = re.compile(r"\('([^']+)', (\d+)\)")
"""Where asyncpg's "Connect call failed ('127.0.0.1', 5432)" tried to connect."""


def _where(error: BaseException, url: str | None) -> str:
    """ "PostgreSQL at host:port" from the URL or the error, "PostgreSQL" if neither says."""
    if url:
        try:
            parsed = make_url(url)
        except ArgumentError:
            parsed = None
        if parsed is not None and parsed.get_backend_name() == "sqlite":
            return _("SQLite file {path}").format(path=parsed.database or ":memory:")
        if parsed is not None and parsed.host:
            return _("PostgreSQL at {host}:{port}").format(
                host=parsed.host, port=parsed.port or 5432
            )
    found = _ADDRESS.search(str(error))
    if found:
        return _("PostgreSQL at {host}:{port}").format(host=found[1], port=found[2])
    return "PostgreSQL"


def _constraint(error: IntegrityError) -> str:
    """The constraint a change broke: its name (PostgreSQL) or SQLite's words."""
    for cause in (error.orig, getattr(error.orig, "__cause__", None)):
        name = getattr(cause, "constraint_name", None)
        if name:
            return str(name)
    return (str(error.orig) or type(error.orig).__name__).splitlines()[0]


def database_reason(error: BaseException, url: str | None = None) -> str | None:
    """What a failed database call means in plain, translated words, or None when `error`
    is not the database's (a bug, a refused input: say that error's own text instead).

    Args:
        error: what the write raised.
        url: the database's URL, to say where it is (`settings.database_url`); without it,
            the address is taken from the error when it names one.
    """
    if isinstance(error, DatabaseLocked):  # it names the holder and how long it waited
        return str(error)
    if is_locked(error):
        path = sqlite_file(url) if url else None
        holders = sqlite_lock_holders(path) if path else []
        if holders:
            return _("the database is locked by {holders}").format(holders=", ".join(holders))
        return _("the database is locked by another program")
    if isinstance(error, IntegrityError):
        return _("the database refused the change: {constraint}").format(
            constraint=_constraint(error)
        )
    text = str(getattr(error, "orig", None) or error).lower()
    if "readonly database" in text or "read-only" in text:
        return _("the database cannot be written to (read-only)")
    if "disk is full" in text or "no space left" in text:
        return _("the disk holding the database is full")
    if "unable to open database file" in text:
        return _("the database cannot be opened ({where})").format(where=_where(error, url))
    orig = getattr(error, "orig", None)
    if type(orig).__module__ == "sqlite3" and not isinstance(orig, OSError):
        first = (str(orig) or type(orig).__name__).splitlines()[0]
        return _("the database could not do it: {reason}").format(reason=first)
    if is_database_down(error):
        return _("the database cannot be reached ({where})").format(where=_where(error, url))
    return None


def plain_reason(error: BaseException, url: str | None = None) -> str:
    """`database_reason`, or the error's own text when it is not the database's."""
    return database_reason(error, url) or str(error) or type(error).__name__


__all__ = [
    "CustomerNotFound",
    "DatabaseUnavailable",
    "database_reason",
    "is_database_down",
    "is_locked",
    "plain_reason",
]
