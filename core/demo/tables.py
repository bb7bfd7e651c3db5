"""The shape of generated demo data: columns of one table, the plan, weighted picks.

Timestamps are int64 seconds since the Unix epoch (UTC) and dates int64 days; `NULL` marks a
missing value. Writers (core.demo.writer) turn the columns into their database's types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

NULL = np.iinfo(np.int64).min
"""The missing value in timestamp, date and id columns."""

DAY = 86_400
YEAR_DAYS = 365.25
HISTORY_YEARS = 3
CHUNK_SIZE = 20_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]
T = TypeVar("T")


@dataclass
class TableRows:
    """Rows for one table, column by column. `kinds` says how to store each column:
    int, str, bool, money, ts (seconds), date (days); a `?` suffix allows NULL."""

    table: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    data: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0


@dataclass(frozen=True)
class DemoPlan:
    """What to build: how many customers, from which seed, with history up to which day."""

    customers: int
    seed: int = 42
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())
    chunk_size: int = CHUNK_SIZE
    language: str = "es"
    """The language the contact centre writes its history in: `es` (default) or `en`."""

    @property
    def end_ts(self) -> int:
        """Midnight UTC at the start of `as_of`: every generated event is before it."""
        return int(
            datetime(self.as_of.year, self.as_of.month, self.as_of.day, tzinfo=UTC).timestamp()
        )

    @property
    def chunks(self) -> int:
        return (self.customers + self.chunk_size - 1) // self.chunk_size


def weights(weighted: Sequence[tuple[Any, float]]) -> FloatArray:
    w = np.array([weight for _, weight in weighted], dtype=np.float64)
    normalised: FloatArray = w / w.sum()
    return normalised


def pick(rng: np.random.Generator, weighted: Sequence[tuple[Any, float]], size: int) -> IntArray:
    return rng.choice(len(weighted), size=size, p=weights(weighted)).astype(np.int64)


def labels(weighted: Sequence[tuple[T, float]]) -> ObjArray:
    out = np.empty(len(weighted), dtype=object)
    out[:] = [label for label, _ in weighted]
    return out
