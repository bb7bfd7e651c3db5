"""The typed context a rule condition or a script may read: every field, its type and meaning.

Conditions see three namespaces: `customer` (who is calling, with their loyalty and value
figures from core.analytics), `call` (this call) and `offer` (the offer being judged and its
history with this customer). The table below is the single source of truth: the loader checks
every name against it, the README documents it, templates format values by its kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["string", "int", "double", "bool", "list"]
Display = Literal["", "money", "date", "percent"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of the context."""

    type: FieldType
    doc: str
    nullable: bool = False
    """None (CEL `null`) when unknown: compare only after `x != null`."""
    display: Display = ""
    """How a script formats it: money (1,234.50), date (31 Dec 2026), percent (12%)."""


def _f(type_: FieldType, doc: str, nullable: bool = False, display: Display = "") -> FieldSpec:
    return FieldSpec(type_, doc, nullable, display)


CUSTOMER: dict[str, FieldSpec] = {
    "number": _f("string", "customer number, e.g. C00012345"),
    "first_name": _f("string", "first name"),
    "last_name": _f("string", "surnames"),
    "city": _f("string", "city"),
    "country": _f("string", "ISO country code, e.g. ES"),
    "birth_year": _f("int", "year of birth", nullable=True),
    "age": _f("int", "age in years on the day", nullable=True),
    "consent": _f("bool", "agreed to be offered products (marketing consent)"),
    "do_not_call": _f("bool", "on the do-not-call list"),
    "tier": _f("string", "loyalty tier: Bronze, Silver, Gold, Platinum; empty if not a member"),
    "points": _f("int", "loyalty points"),
    "next_tier": _f("string", "the next tier up", nullable=True),
    "points_to_next_tier": _f("int", "points still needed for the next tier", nullable=True),
    "tier_since": _f("string", "date the tier was reached (YYYY-MM-DD)", True, "date"),
    "tenure_days": _f("int", "days since the customer joined"),
    "tenure_years": _f("double", "years since the customer joined"),
    "scope": _f("int", "number of product lines held"),
    "product_lines": _f(
        "list", "product lines held: mobile, fibre, tv, energy, insurance, devices"
    ),
    "products": _f("list", "product codes held, e.g. FIBRE_300"),
    "depth": _f("double", "share of wallet, 0 to 1", display="percent"),
    "spend_12m": _f("double", "spend in the last 12 months", display="money"),
    "nps_score": _f("int", "latest NPS answer, 0 to 10", nullable=True),
    "nps_category": _f("string", "promoter, passive or detractor", nullable=True),
    "recency_days": _f("int", "days since the last purchase", nullable=True),
    "frequency": _f("int", "purchase days in the RFM window"),
    "monetary": _f("double", "spend in the RFM window", display="money"),
    "r_score": _f("int", "recency score 1 to 5 (0: no purchases)"),
    "f_score": _f("int", "frequency score 1 to 5 (0: no purchases)"),
    "m_score": _f("int", "monetary score 1 to 5 (0: no purchases)"),
    "rfm_segment": _f("string", "RFM segment (Champions … Hibernating), No Purchases, Not Scored"),
    "expected_purchases": _f("double", "expected purchases over the value horizon"),
    "p_alive": _f("double", "probability the customer is still active", display="percent"),
    "churn_risk": _f("double", "1 - p_alive", display="percent"),
    "expected_value": _f("double", "expected spend over the value horizon", display="money"),
    "days_since_last_purchase": _f("int", "days since the last purchase", nullable=True),
    "days_since_last_contact": _f("int", "days since the last interaction", nullable=True),
    "days_since_last_offer": _f("int", "days since any offer was shown", nullable=True),
    "open_complaints": _f("int", "complaints not yet resolved"),
}

CALL: dict[str, FieldSpec] = {
    "reason": _f("string", "the call's reason code (billing, technical, …); empty if not set"),
    "queue": _f("string", "the queue the call came through; empty if none"),
    "hour": _f("int", "local hour of the call, 0 to 23"),
    "weekday": _f("string", "local day of the week: monday … sunday"),
    "date": _f("string", "local date of the call (YYYY-MM-DD)", display="date"),
}

OFFER: dict[str, FieldSpec] = {
    "id": _f("string", "the offer's id"),
    "title": _f("string", "the offer's title"),
    "value": _f("double", "margin if accepted", display="money"),
    "valid_until": _f("string", "last day of validity (YYYY-MM-DD)", True, "date"),
    "times_shown": _f("int", "times this offer was shown to this customer"),
    "times_accepted": _f("int", "times this customer accepted it"),
    "times_declined": _f("int", "times this customer declined it"),
    "last_response": _f("string", "accepted, declined, not_offered, or empty"),
    "days_since_last_shown": _f("int", "days since it was last shown", nullable=True),
}

NAMESPACES: dict[str, dict[str, FieldSpec]] = {
    "customer": CUSTOMER,
    "call": CALL,
    "offer": OFFER,
}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_PROBE: dict[FieldType, object] = {
    "string": "probe",
    "int": 3,
    "double": 3.5,
    "bool": True,
    "list": ["probe"],
}


def probe_context() -> dict[str, dict[str, object]]:
    """A context with a typical non-null value of the right type in every field.

    The loader runs each condition on it once, so that a type mistake (`customer.tier > 3`)
    is a load error rather than a clause that silently never holds.
    """
    return {
        name: {key: _PROBE[spec.type] for key, spec in fields.items()}
        for name, fields in NAMESPACES.items()
    }


def field(path: str) -> FieldSpec | None:
    """The spec of `namespace.field`, or None when there is no such field."""
    namespace, _, name = path.partition(".")
    return NAMESPACES.get(namespace, {}).get(name)
