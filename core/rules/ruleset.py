"""Loaded rules: offers, the contact policy, and the errors of a file that did not load."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.rules.expressions import Condition
from core.rules.templates import Template

ARBITRATION_MODES = ("priority", "expected_value", "thompson")
OFFER_KINDS = ("marketing", "service")
DEFAULT_DECLINE_REASONS = (
    "not interested",
    "too expensive",
    "already has it",
    "bad moment",
    "wants to think about it",
    "other",
)


@dataclass(frozen=True)
class RuleError:
    """One problem in a rules file, where it is."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RulesInvalid(Exception):
    """The rules file has errors; nothing of it is used."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Prior:
    """What we believe of the acceptance rate before any answer: `rate`, worth `weight` answers."""

    rate: float = 0.05
    weight: float = 20.0


@dataclass(frozen=True)
class Offer:
    """One offer: when it may be shown, what it is worth, and what the agent says."""

    id: str
    title: str
    script: Template
    conditions: tuple[Condition, ...] = ()
    kind: str = "marketing"
    """marketing offers need the customer's consent; service offers (retention, fixes) do not."""
    value: float = 0.0
    valid_from: date | None = None
    valid_until: date | None = None
    hours: tuple[int, int] | None = None
    """Minutes after midnight, [start, end), local time of the call."""
    priority: int = 0
    prior: Prior = field(default_factory=Prior)
    cooldown_days: int | None = None
    """Days after a decline before it is shown again; None: the policy's."""
    max_impressions: int | None = None
    """Times it may be shown to one customer within the impression window; None: the policy's."""
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Policy:
    """The contact policy, applied to every offer."""

    arbitration: str = "expected_value"
    marketing_requires_consent: bool = True
    decline_cooldown_days: int = 30
    max_offers_per_call: int = 2
    max_impressions_per_offer: int = 3
    max_impressions_per_customer: int = 10
    impression_window_days: int = 30
    decline_reasons: tuple[str, ...] = DEFAULT_DECLINE_REASONS


@dataclass(frozen=True)
class RuleSet:
    """A valid rules file, compiled."""

    version: str
    """A label and a short hash of the content, stored with every offer shown."""
    path: Path | None
    offers: tuple[Offer, ...]
    policy: Policy = field(default_factory=Policy)
    reads_history: frozenset[str] = frozenset()
    """Ids of the offers whose conditions read their own `offer.` history fields."""
    paths: frozenset[str] = frozenset()
    """Every field some condition reads: only these are handed to CEL (converting a value
    into CEL costs microseconds, so a customer's context holds just what the rules use)."""

    def offer(self, offer_id: str) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)
