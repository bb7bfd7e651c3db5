"""The rules in use: loaded from the configured file, reloaded when it changes, and kept when a
new version is broken (its errors are kept too, for the supervisor to read).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.rules.loader import EXAMPLE_RULES, load_rules
from core.rules.ruleset import RuleError, RuleSet, RulesInvalid

EMPTY_RULES = RuleSet(version="none", path=None, offers=())


@dataclass(frozen=True)
class Reload:
    """What one check of the file found."""

    changed: bool
    """The file changed since the last look (whether or not it loaded)."""
    loaded: bool
    """The new file is valid and now in use."""
    errors: tuple[RuleError, ...] = ()


class RulesStore:
    """Holds the last good rules of one file and reloads it when its modification time or
    size changes; polling a stat is cheap, so callers may check on every use.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path else EXAMPLE_RULES
        self.rules: RuleSet = EMPTY_RULES
        self.errors: tuple[RuleError, ...] = ()
        """Errors of the newest version of the file; empty when it is the one in use."""
        self.loaded_at: float | None = None
        self._stamp: tuple[int, int] | None = None
        self._min_interval = min_interval
        self._clock = clock
        self._last_check = float("-inf")
        self._lock = threading.Lock()  # the console checks from a worker thread
        self.reload()

    def _stat(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size)

    def reload(self) -> Reload:
        """Read the file now, whatever its time stamp.

        Returns:
            What happened; on errors the previous rules stay in use.
        """
        with self._lock:
            return self._reload()

    def _reload(self) -> Reload:
        self._stamp = self._stat()
        self._last_check = self._clock()
        try:
            rules = load_rules(self.path)
        except RulesInvalid as invalid:
            self.errors = tuple(invalid.errors)
            return Reload(changed=True, loaded=False, errors=self.errors)
        changed = rules.version != self.rules.version
        self.rules, self.errors, self.loaded_at = rules, (), self._clock()
        return Reload(changed=changed, loaded=True)

    def check(self, force: bool = False) -> Reload:
        """Reload when the file changed since the last look (at most once per interval).

        Args:
            force: look now even if the last look was less than an interval ago.

        Returns:
            What happened; `changed` is False when the file did not change.
        """
        with self._lock:
            if not force and self._clock() - self._last_check < self._min_interval:
                return Reload(changed=False, loaded=False)
            self._last_check = self._clock()
            if self._stat() == self._stamp:
                return Reload(changed=False, loaded=False)
            return self._reload()

    @property
    def broken(self) -> bool:
        """The file on disk has errors (the rules in use are an older, good version)."""
        return bool(self.errors)
