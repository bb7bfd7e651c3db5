"""Importing transactions (purchases) and interactions for existing customers.

Each row gets an import key: a digest of its content and of how many identical rows came
before it in the file. Importing the same file again finds every key already stored and adds
nothing, while two genuinely identical purchases in one file are both kept.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from core.db import publish_change
from core.i18n import words as _
from core.i18n.codes import codes
from core.importing.base import Reject, Row, catalogue_ids, cell, chunks, customer_ids, table
from core.importing.bulk import executemany
from core.importing.fields import RowError, parse_amount, parse_datetime
from core.models import Channel, Direction, Interaction, Transaction
from core.reference.catalogue import CATALOGUE

if TYPE_CHECKING:  # handed in by the caller (make_services built it): numpy loads only then
    from core.analytics.service import AnalyticsService

CHANNEL_NAMES: dict[str, str] = {c.value: c.value for c in Channel} | {
    "sales visit": "sales_visit", "sales-visit": "sales_visit", "visit": "sales_visit",
    "telephone": "phone", "call": "phone", "teléfono": "phone", "telefono": "phone",
    "shop": "store", "tienda": "store", "online": "web", "e-mail": "email", "correo": "email",
    "visita comercial": "sales_visit",
}  # fmt: skip
DIRECTION_NAMES: dict[str, str] = {d.value: d.value for d in Direction} | {
    "in": "inbound", "out": "outbound", "entrante": "inbound", "saliente": "outbound",
}  # fmt: skip


def parse_channel(raw: str, column: str = "channel") -> str:
    name = CHANNEL_NAMES.get(raw.strip().lower())
    if name is None:
        allowed = ", ".join(c.value for c in Channel)
        raise RowError(
            _("unknown {column} {raw!r} (one of {allowed})").format(
                column=column, raw=raw, allowed=allowed
            )
        )
    return name


@dataclass
class Keyed:
    """Values of one row plus the import key that makes re-importing harmless."""

    external_id: str
    at: datetime
    values: dict[str, Any]
    key: str = ""


class _ActivityImport:
    model: type[SQLModel]
    name: str
    types: str
    """bulk.executemany types of customer_id, at, import_key and the values."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self._seen: Counter[str] = Counter()

    def _key(self, content: str) -> str:
        self._seen[content] += 1
        return hashlib.sha256(f"{content}#{self._seen[content]}".encode()).hexdigest()

    def _external_id(self, row: dict[str, str]) -> str:
        external_id = cell(row, "external_id")
        if not external_id:
            raise RowError(_("missing external_id (the customer number)"))
        return external_id

    async def _prepare(self, session: AsyncSession, values: list[Keyed]) -> None:
        """Fill in anything that needs the database (product ids)."""

    async def _after(self, session: AsyncSession, customer_ids: list[int]) -> None:
        """Bring whatever depends on the new rows up to date, in the same transaction."""

    async def write(self, session: AsyncSession, rows: list[Row]) -> list[Reject]:
        ids = await customer_ids(session, [r.values.external_id for r in rows])
        rejects = [
            Reject(r.line, r.fields, f"unknown customer {r.values.external_id!r}")
            for r in rows
            if r.values.external_id not in ids
        ]
        good: list[Keyed] = [r.values for r in rows if r.values.external_id in ids]
        await self._prepare(session, good)
        model = table(self.model)
        stored: set[str] = set()
        keys = [k.key for k in good]
        for part in chunks(keys):
            result = await session.execute(
                select(model.c.import_key).where(
                    model.c.import_key.in_(bindparam("keys", expanding=True))
                ),
                {"keys": list(part)},
            )
            stored.update(key for (key,) in result.all())
        fresh = [k for k in good if k.key not in stored]
        if fresh:
            await session.execute(
                model.insert(),
                [
                    {"customer_id": ids[k.external_id], "at": k.at, "import_key": k.key} | k.values
                    for k in fresh
                ],
            )
            touched = {ids[k.external_id]: k.at for k in sorted(fresh, key=_at)}
            await _touch(session, touched)
            await self._after(session, sorted(touched))
            await publish_change(session, "customer", "import")
        return rejects


def _at(keyed: Keyed) -> datetime:
    return keyed.at


async def _touch(session: AsyncSession, latest: dict[int, datetime]) -> None:
    """Move each customer's last activity forward to their newest imported row."""
    await executemany(
        session,
        "UPDATE customer SET last_activity_at = ? "
        "WHERE id = ? AND (last_activity_at IS NULL OR last_activity_at < ?)",
        "t.t",
        [(at, cid, at) for cid, at in latest.items()],
    )


class TransactionImport(_ActivityImport):
    model = Transaction
    name: str = "transactions"
    types = ".t.m.."
    required: tuple[str, ...] = ("external_id", "date", "amount")
    optional: tuple[str, ...] = ("product_code", "channel")
    codes = frozenset(p.code for p in CATALOGUE)

    def __init__(self, tz: tzinfo | None, analytics: AnalyticsService) -> None:
        super().__init__(tz)
        self.analytics = analytics
        """The configured analytics (`Services.analytics`): the figures follow its settings."""

    def parse(self, row: dict[str, str]) -> Keyed:
        external_id = self._external_id(row)
        raw_date = cell(row, "date")
        if not raw_date:
            raise RowError(_("missing date"))
        at = parse_datetime(raw_date, "date", self.tz)
        raw_amount = cell(row, "amount")
        if not raw_amount:
            raise RowError(_("missing amount"))
        amount = parse_amount(raw_amount, "amount")
        code = cell(row, "product_code").upper()
        if code and code not in self.codes:
            raise RowError(_("unknown product_code {code!r}").format(code=code))
        channel = parse_channel(cell(row, "channel")) if cell(row, "channel") else ""
        keyed = Keyed(external_id, at, {"amount": amount, "product_id": code, "channel": channel})
        keyed.key = self._key(f"t|{external_id}|{at.isoformat()}|{amount}|{code}|{channel}")
        return keyed

    async def _after(self, session: AsyncSession, customer_ids: list[int]) -> None:
        # The stored RFM and value figures of these customers follow their new purchases.
        await self.analytics.update_customers(session, customer_ids)

    async def _prepare(self, session: AsyncSession, values: list[Keyed]) -> None:
        products = await catalogue_ids(session)
        for keyed in values:
            code = keyed.values["product_id"]
            if isinstance(code, str):
                keyed.values["product_id"] = products[code] if code else None


class InteractionImport(_ActivityImport):
    model = Interaction
    name: str = "interactions"
    types = ".t......."
    required: tuple[str, ...] = ("external_id", "at", "channel", "direction", "subject")
    optional: tuple[str, ...] = ("outcome", "agent", "notes", "reason")

    def parse(self, row: dict[str, str]) -> Keyed:
        external_id = self._external_id(row)
        raw_at = cell(row, "at")
        if not raw_at:
            raise RowError(_("missing at (when it happened)"))
        at = parse_datetime(raw_at, "at", self.tz)
        channel = parse_channel(cell(row, "channel"))
        raw_direction = cell(row, "direction")
        direction = DIRECTION_NAMES.get(raw_direction.lower())
        if direction is None:
            raise RowError(
                _("unknown direction {raw_direction!r} (inbound or outbound)").format(
                    raw_direction=raw_direction
                )
            )
        subject = cell(row, "subject")
        if not subject:
            raise RowError(_("missing subject"))
        if len(subject) > 300:
            raise RowError(_("subject longer than 300 characters"))
        outcome, agent = cell(row, "outcome"), cell(row, "agent")
        if len(outcome) > 100 or len(agent) > 100:
            raise RowError(_("outcome or agent longer than 100 characters"))
        notes = row.get("notes", "").strip()
        # The reason code (an id or a label in any language, `Reclamación`): what flags read.
        typed_reason = cell(row, "reason")
        reason = codes().to_id("reason", typed_reason) or typed_reason.lower()
        if len(reason) > 60:
            raise RowError(_("reason longer than 60 characters"))
        values = {
            "channel": channel,
            "direction": direction,
            "subject": subject,
            "outcome": outcome,
            "agent": agent,
            "notes": notes,
            "reason": reason,
        }
        keyed = Keyed(external_id, at, values)
        digest_notes = hashlib.sha256(notes.encode()).hexdigest()
        keyed.key = self._key(
            f"i|{external_id}|{at.isoformat()}|{channel}|{direction}|{subject}|{outcome}|"
            f"{agent}|{digest_notes}" + (f"|{reason}" if reason else "")
        )
        return keyed
