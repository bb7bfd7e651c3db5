"""A realistic, deterministic demo customer base, generated in chunks with numpy.

Customers differ the way real ones do: each has a purchase rate (a gamma mixture of Poisson
processes) and a lifetime after which they stop buying (exponential, with a gamma-distributed
dropout rate), so recency, frequency and value really vary. Loyalty points are the sum of the
generated spend (1 point per 1.00) and the tier follows from them.

The customers are core.demo.people, their history core.demo.history, the shapes of the rows
core.demo.tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from core.demo import names
from core.demo.history import CustomerChunk
from core.demo.tables import DAY, DemoPlan, TableRows
from core.reference.catalogue import CATALOGUE

__all__ = ["DemoPlan", "TableRows", "agents", "generate", "products"]


def products() -> TableRows:
    """The agreed catalogue, with ids 1..16 in catalogue order."""
    rows = TableRows("product", ("id", "code", "name", "line", "price"),
                     ("int", "str", "str", "str", "money"))  # fmt: skip
    rows.data = [
        np.arange(1, len(CATALOGUE) + 1, dtype=np.int64),
        [p.code for p in CATALOGUE],
        [p.name for p in CATALOGUE],
        [p.line for p in CATALOGUE],
        np.array([float(p.price) for p in CATALOGUE]),
    ]
    return rows


def agents(plan: DemoPlan) -> TableRows:
    """A team of agents and one supervisor, all offline until they open the console."""
    rows = TableRows(
        "agent",
        ("id", "user_name", "display_name", "role", "state", "state_reason", "state_since",
         "created_at"),
        ("int", "str", "str", "str", "str", "str", "ts", "ts"),
    )  # fmt: skip
    n = len(names.AGENTS)
    joined = plan.end_ts - 400 * DAY
    rows.data = [
        np.arange(1, n + 1, dtype=np.int64),
        [a[0] for a in names.AGENTS],
        [a[1] for a in names.AGENTS],
        [a[2] for a in names.AGENTS],
        ["offline"] * n,
        [""] * n,
        np.full(n, plan.end_ts, dtype=np.int64),
        np.full(n, joined, dtype=np.int64),
    ]
    return rows


def generate(plan: DemoPlan) -> Iterator[tuple[int, list[TableRows]]]:
    """Every chunk of customers with everything they own, as (customers in chunk, tables)."""
    for index in range(plan.chunks):
        start = index * plan.chunk_size
        stop = min(plan.customers, start + plan.chunk_size)
        yield stop - start, CustomerChunk(plan, index, start, stop).tables()
