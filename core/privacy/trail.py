"""What one audit event says, built the same way by every writer of the trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    LOOKUP = "lookup"
    SEARCH = "search"
    """One row per customer listed (rank in the detail); one without a customer if none."""
    VIEW = "view"
    """A customer opened (console, `frontline offers`)."""
    REVEAL = "reveal"
    EXPORT = "export"
    UPDATE = "update"
    ERASE = "erase"
    CREATE = "create"
    """A customer created (the console's new customer for an unknown caller)."""
    MERGE = "merge"
    """Two customers merged into one (the kept one's id; the merged number in the detail)."""
    UNMERGE = "unmerge"
    ROLE = "role"
    """An agent added, re-roled or removed."""


@dataclass(frozen=True)
class Entry:
    """One audit event to write."""

    actor: str
    action: str
    customer_id: int | None = None
    detail: str = ""
    place: str = ""

    def row(self, at: datetime) -> dict[str, Any]:
        return {
            "at": at,
            "actor": self.actor[:100],
            "action": self.action[:40],
            "customer_id": self.customer_id,
            "detail": self.detail[:1000],
            "place": self.place[:100],
        }


def listed(
    actor: str, action: str, query: str, customer_ids: Sequence[int], place: str = ""
) -> list[Entry]:
    """The entries for a list shown: one per customer with its rank, or one saying none.

    Args:
        actor: who searched.
        action: "search", "lookup", …
        query: what they typed.
        customer_ids: the customers listed, best first.
        place: where from.
    """
    if not customer_ids:
        return [Entry(actor, action, None, f"query={query!r}; listed=0", place)]
    total = len(customer_ids)
    return [
        Entry(actor, action, cid, f"query={query!r}; rank={rank}/{total}", place)
        for rank, cid in enumerate(customer_ids, start=1)
    ]
