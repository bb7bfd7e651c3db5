"""What every kind of import shares: parsed rows, rejects, and small SQL helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from core.models import Customer, Product
from core.reference.catalogue import CATALOGUE

IN_CHUNK = 900
"""Keys per IN (...) list: well under every database's parameter limit."""


@dataclass
class Row:
    """A record that passed parsing, waiting to be written."""

    line: int
    fields: list[str]
    values: Any


@dataclass(frozen=True)
class Reject:
    line: int
    fields: list[str]
    reason: str


class ImportKind(Protocol):
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    def parse(self, row: dict[str, str]) -> Any:
        """The row's values, or RowError."""

    async def write(self, session: AsyncSession, rows: list[Row]) -> list[Reject]:
        """Write the rows inside the caller's transaction; rows refused for their content
        (an unknown customer) come back as rejects and are not written."""


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def customer_ids(session: AsyncSession, external_ids: Iterable[str]) -> dict[str, int]:
    """The ids of the customers with these customer numbers (those that exist)."""
    wanted = sorted(set(external_ids))
    found: dict[str, int] = {}
    statement = select(col(Customer.external_id), col(Customer.id)).where(
        col(Customer.external_id).in_(bindparam("keys", expanding=True))
    )
    for part in chunks(wanted):
        result = await session.execute(statement, {"keys": list(part)})
        found.update({external_id: cid for external_id, cid in result.all() if cid is not None})
    return found


async def catalogue_ids(session: AsyncSession) -> dict[str, int]:
    """Product code -> id, adding any product of the agreed catalogue that is missing."""
    rows = (await session.execute(select(col(Product.code), col(Product.id)))).all()
    found = {code: pid for code, pid in rows if pid is not None}
    missing = [p for p in CATALOGUE if p.code not in found]
    if missing:
        await session.execute(
            table(Product).insert(),
            [{"code": p.code, "name": p.name, "line": p.line, "price": p.price} for p in missing],
        )
        rows = (await session.execute(select(col(Product.code), col(Product.id)))).all()
        found = {code: pid for code, pid in rows if pid is not None}
    return found


def cell(row: dict[str, str], name: str) -> str:
    return row.get(name, "").strip()
