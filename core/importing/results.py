"""What an import reports: rows imported and rejected, where the rejects went, how long."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.importing.base import Reject

ImportProgress = Callable[[int, int], None]
"""progress(lines done, lines in the file)."""


@dataclass
class ImportResult:
    imported: int = 0
    rejected: int = 0
    rejects_file: Path | None = None
    rejects: list[Reject] = field(default_factory=list)
    """The first rejects, for showing on screen (all of them are in the rejects file)."""
    seconds: float = 0.0
    committed_through: int = 0
    """The last line of the file whose rows are committed (0: none yet)."""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the import started: customers changed since are the ones it imported."""
    likely_duplicates: int | None = None
    """Likely duplicate pairs with an imported customer (customers only; None: not checked)."""


class ImportInterrupted(Exception):
    """The database failed part-way: what was committed before stays (`result` says how
    much), the rest of the file was not imported."""

    def __init__(self, result: ImportResult, error: BaseException) -> None:
        super().__init__(str(error))
        self.result = result
        self.error = error
