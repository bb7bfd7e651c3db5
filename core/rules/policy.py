"""The checks every offer passes before its own conditions: validity, then the contact policy.

Each check is written once and read three ways: `clause` explains it (the offer panel,
`frontline offers CUSTOMER --json`), `holds` decides it for one customer on a call, and
`column` decides it for a batch of customers at once (`frontline rules simulate`). A check's
`column` is a different implementation of its `holds`, never a different rule; the
equivalence is tested over random customers (tests/core/test_rules_policy.py).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from core.rules.history import EMPTY_HISTORY, NO_HISTORY, CustomerHistory
from core.rules.ruleset import Offer, Policy, RuleSet

Bools = NDArray[np.bool_]


class Clause(NamedTuple):
    """One line of an offer's explanation: a check, and what it saw."""

    name: str
    expression: str
    passed: bool
    seen: str


@dataclass(frozen=True, slots=True)
class Subject:
    """What the checks read of one customer on a call at `at` (local time)."""

    do_not_call: bool
    consent: bool
    history: CustomerHistory
    at: datetime

    @classmethod
    def of(cls, customer: Mapping[str, object], history: CustomerHistory, at: datetime) -> Subject:
        return cls(bool(customer["do_not_call"]), bool(customer["consent"]), history, at)


@dataclass(frozen=True)
class Batch:
    """What the checks read of a batch of customers on calls at the same `at`."""

    do_not_call: Bools
    consent: Bools
    histories: Sequence[CustomerHistory]
    at: datetime
    with_history: tuple[int, ...] = ()
    """Rows whose history is not empty (most customers have none)."""

    @classmethod
    def of(
        cls, do_not_call: Bools, consent: Bools, histories: Sequence[CustomerHistory], at: datetime
    ) -> Batch:
        rows = tuple(i for i, h in enumerate(histories) if not h.empty)
        return cls(do_not_call, consent, histories, at, rows)

    def subject(self, row: int) -> Subject:
        return Subject(
            bool(self.do_not_call[row]), bool(self.consent[row]), self.histories[row], self.at
        )

    def __len__(self) -> int:
        return len(self.histories)


class Check(ABC):
    """One named check; `holds` is True wherever `applies` is False."""

    name: ClassVar[str]
    reads_history: ClassVar[bool] = True
    """False for a check whose answer does not depend on the customer's offer history."""

    def applies(self, offer: Offer, policy: Policy) -> bool:
        """Whether the explanation lists this check for the offer."""
        return True

    @abstractmethod
    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool: ...

    @abstractmethod
    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause: ...

    def column(self, offer: Offer, policy: Policy, batch: Batch) -> Bools:
        """`holds` for every customer of the batch. By default (for a check that reads only
        the history): the answer for a customer without history, and `holds` itself for the
        few who have one."""
        first = Subject(False, True, EMPTY_HISTORY, batch.at)
        out = np.full(len(batch), self.holds(offer, policy, first), dtype=np.bool_)
        for row in batch.with_history:
            out[row] = self.holds(offer, policy, batch.subject(row))
        return out


def valid_at(offer: Offer, at: datetime) -> bool:
    """The offer's dates and hours allow it at `at` (local time)."""
    if offer.valid_from and at.date() < offer.valid_from:
        return False
    if offer.valid_until and at.date() > offer.valid_until:
        return False
    if offer.hours:
        minute = at.hour * 60 + at.minute
        return offer.hours[0] <= minute < offer.hours[1]
    return True


class Validity(Check):
    """The offer's dates (valid from, until) and hours of the day."""

    name = "valid"
    reads_history = False

    def applies(self, offer: Offer, policy: Policy) -> bool:
        return not (offer.valid_from is None and offer.valid_until is None and offer.hours is None)

    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool:
        return valid_at(offer, who.at)

    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause:
        parts = []
        if offer.valid_from or offer.valid_until:
            start = offer.valid_from.isoformat() if offer.valid_from else "…"
            end = offer.valid_until.isoformat() if offer.valid_until else "…"
            parts.append(f"{start} to {end}")
        if offer.hours:
            low, high = offer.hours
            parts.append(f"{low // 60:02d}:{low % 60:02d}-{high // 60:02d}:{high % 60:02d}")
        passed = self.holds(offer, policy, who)
        return Clause(self.name, " ".join(parts), passed, f"now = {who.at:%Y-%m-%d %H:%M}")

    def column(self, offer: Offer, policy: Policy, batch: Batch) -> Bools:
        return np.full(len(batch), valid_at(offer, batch.at), dtype=np.bool_)


class DoNotCall(Check):
    name = "policy: do not call"
    reads_history = False

    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool:
        return not who.do_not_call

    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause:
        seen = f"customer.do_not_call = {json.dumps(who.do_not_call)}"
        return Clause(self.name, "!customer.do_not_call", not who.do_not_call, seen)

    def column(self, offer: Offer, policy: Policy, batch: Batch) -> Bools:
        return ~batch.do_not_call


class MarketingConsent(Check):
    """Marketing offers need the customer's consent (when the policy says so)."""

    name = "policy: consent"
    reads_history = False

    def applies(self, offer: Offer, policy: Policy) -> bool:
        return offer.kind == "marketing" and policy.marketing_requires_consent

    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool:
        return who.consent or not self.applies(offer, policy)

    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause:
        seen = f"customer.consent = {json.dumps(who.consent)}"
        return Clause(self.name, "customer.consent", self.holds(offer, policy, who), seen)

    def column(self, offer: Offer, policy: Policy, batch: Batch) -> Bools:
        if not self.applies(offer, policy):
            return np.ones(len(batch), dtype=np.bool_)
        return batch.consent.copy()


def cooldown_days(offer: Offer, policy: Policy) -> int:
    return policy.decline_cooldown_days if offer.cooldown_days is None else offer.cooldown_days


class DeclineCooldown(Check):
    """No offer again within its cooldown after the customer declined it."""

    name = "policy: decline cooldown"

    def applies(self, offer: Offer, policy: Policy) -> bool:
        return bool(cooldown_days(offer, policy))

    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool:
        days = cooldown_days(offer, policy)
        last = who.history.offers.get(offer.id, NO_HISTORY).last_declined
        return not (days and last is not None and last >= who.at - timedelta(days=days))

    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause:
        last = who.history.offers.get(offer.id, NO_HISTORY).last_declined
        seen = "never declined" if last is None else f"last declined {last:%Y-%m-%d}"
        expression = f"no decline in the last {cooldown_days(offer, policy)} days"
        return Clause(self.name, expression, self.holds(offer, policy, who), seen)


def impression_cap(offer: Offer, policy: Policy) -> int:
    own = offer.max_impressions
    return policy.max_impressions_per_offer if own is None else own


class OfferImpressionCap(Check):
    """One offer is shown to one customer at most so often within the impression window."""

    name = "policy: offer impressions"

    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool:
        shown = who.history.offers.get(offer.id, NO_HISTORY).shown_in_window
        return shown < impression_cap(offer, policy)

    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause:
        cap, window = impression_cap(offer, policy), policy.impression_window_days
        shown = who.history.offers.get(offer.id, NO_HISTORY).shown_in_window
        expression = f"shown fewer than {cap} times in {window} days"
        return Clause(self.name, expression, self.holds(offer, policy, who), f"shown {shown}")


class CustomerImpressionCap(Check):
    """One customer is shown offers of any kind at most so often within the window."""

    name = "policy: customer impressions"

    def holds(self, offer: Offer, policy: Policy, who: Subject) -> bool:
        return who.history.shown_in_window < policy.max_impressions_per_customer

    def clause(self, offer: Offer, policy: Policy, who: Subject) -> Clause:
        total, window = policy.max_impressions_per_customer, policy.impression_window_days
        expression = f"fewer than {total} offers in {window} days"
        seen = f"shown {who.history.shown_in_window}"
        return Clause(self.name, expression, self.holds(offer, policy, who), seen)


POLICY: tuple[Check, ...] = (
    DoNotCall(),
    MarketingConsent(),
    DeclineCooldown(),
    OfferImpressionCap(),
    CustomerImpressionCap(),
)
"""The contact policy, in the order the explanation lists it and the first failure blocks."""

CHECKS: tuple[Check, ...] = (Validity(), *POLICY)
"""Everything an offer passes before its own conditions, in order."""

_HISTORY_CHECKS = tuple(c for c in CHECKS if c.reads_history)
_READS_HISTORY = {c.name: c.reads_history for c in CHECKS}


def explain_checks(offer: Offer, policy: Policy, who: Subject) -> list[Clause]:
    """The clauses of the checks that apply to the offer, in order."""
    return [c.clause(offer, policy, who) for c in CHECKS if c.applies(offer, policy)]


def blocked(offer: Offer, policy: Policy, who: Subject) -> str:
    """The name of the first check the offer fails for this customer, or ""."""
    return next((c.name for c in CHECKS if not c.holds(offer, policy, who)), "")


_NO_HISTORY_BLOCKS: dict[tuple[object, ...], list[str]] = {}


def blocked_offers(rules: RuleSet, who: Subject) -> list[str]:
    """`blocked` for every offer of `rules`, in file order.

    A call judges hundreds of offers, so the answer for a customer without history (which
    depends only on the minute and the two flags) is worked out once and remembered; for a
    customer with history, an offer that passed every check without it is put to the checks
    that read history, and one blocked by a check that does not read history stays blocked.
    """
    at = who.at
    key = (id(rules), rules.version, at.date(), at.hour, at.minute, who.do_not_call, who.consent)
    base = _NO_HISTORY_BLOCKS.get(key)
    if base is None:
        if len(_NO_HISTORY_BLOCKS) > 256:
            _NO_HISTORY_BLOCKS.clear()
        fresh = Subject(who.do_not_call, who.consent, EMPTY_HISTORY, at)
        base = [blocked(offer, rules.policy, fresh) for offer in rules.offers]
        _NO_HISTORY_BLOCKS[key] = base
    if who.history.empty:
        return base
    out = []
    for offer, reason in zip(rules.offers, base, strict=True):
        if not reason:
            reason = next(
                (c.name for c in _HISTORY_CHECKS if not c.holds(offer, rules.policy, who)), ""
            )
        elif _READS_HISTORY[reason]:
            reason = blocked(offer, rules.policy, who)
        out.append(reason)
    return out


def blocked_column(offer: Offer, policy: Policy, batch: Batch) -> NDArray[np.object_]:
    """`blocked` for every customer of the batch: the first failing check's name, or ""."""
    reasons = np.full(len(batch), "", dtype=object)
    for check in reversed(CHECKS):  # the earlier check overwrites: the first failure wins
        reasons[~check.column(offer, policy, batch)] = check.name
    return reasons
