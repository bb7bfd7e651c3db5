"""Judge every offer for one customer on one call: validity, contact policy, conditions, then
arbitration. Pure: the facts come in, decisions with their explanations go out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import cel

from core.rules.expressions import OFFERS_MAP, Condition
from core.rules.ruleset import Offer, Policy, RuleSet

MAX_SEEN_LENGTH = 300


class Clause(NamedTuple):
    """One line of an offer's explanation: a check, and what it saw."""

    name: str
    expression: str
    passed: bool
    seen: str


@dataclass(frozen=True)
class OfferHistory:
    """One offer's past with one customer."""

    shown: int = 0
    accepted: int = 0
    declined: int = 0
    last_response: str = ""
    last_shown: datetime | None = None
    last_declined: datetime | None = None
    shown_in_window: int = 0


@dataclass(frozen=True)
class CustomerHistory:
    """Every offer shown to one customer, by offer id."""

    offers: Mapping[str, OfferHistory] = field(default_factory=dict)
    shown_in_window: int = 0
    """Offers of any kind shown within the policy's impression window."""
    last_offer_at: datetime | None = None


@dataclass(frozen=True)
class CallFacts:
    """The call as conditions see it; `at` is local time."""

    at: datetime
    reason: str = ""
    queue: str = ""

    def namespace(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "queue": self.queue,
            "hour": self.at.hour,
            "weekday": self.at.strftime("%A").lower(),
            "date": self.at.date().isoformat(),
        }


@dataclass(frozen=True)
class Decision:
    """What the engine thought of one offer for this customer."""

    offer: Offer
    clauses: tuple[Clause, ...]
    blocked: str = ""
    """Empty when eligible; else the first failing check (policy name or condition name)."""
    failed: tuple[str, ...] = ()
    """Names of the offer's own conditions that did not hold."""

    @property
    def eligible(self) -> bool:
        return not self.blocked


@dataclass(frozen=True)
class Choice:
    """An eligible offer picked by arbitration, with the rate and score it was ranked by."""

    decision: Decision
    rate: float
    score: float


def _seen(context: Mapping[str, Mapping[str, object]], paths: Sequence[str]) -> str:
    parts = []
    for path in paths:
        namespace, _, name = path.partition(".")
        value = context[namespace].get(name)
        parts.append(f"{path} = {json.dumps(value, ensure_ascii=False, default=str)}")
    text = "; ".join(parts)
    return text if len(text) <= MAX_SEEN_LENGTH else text[: MAX_SEEN_LENGTH - 1] + "…"


def offer_namespace(offer: Offer, history: OfferHistory, today: date) -> dict[str, object]:
    """The `offer` fields a condition or script of this offer sees."""
    days = None if history.last_shown is None else (today - history.last_shown.date()).days
    return {
        "id": offer.id,
        "title": offer.title,
        "value": offer.value,
        "valid_until": offer.valid_until.isoformat() if offer.valid_until else None,
        "times_shown": history.shown,
        "times_accepted": history.accepted,
        "times_declined": history.declined,
        "last_response": history.last_response,
        "days_since_last_shown": days,
    }


def _validity(offer: Offer, at: datetime) -> Clause | None:
    if offer.valid_from is None and offer.valid_until is None and offer.hours is None:
        return None
    parts, ok = [], True
    if offer.valid_from or offer.valid_until:
        start = offer.valid_from.isoformat() if offer.valid_from else "…"
        end = offer.valid_until.isoformat() if offer.valid_until else "…"
        parts.append(f"{start} to {end}")
        ok &= offer.valid_from is None or at.date() >= offer.valid_from
        ok &= offer.valid_until is None or at.date() <= offer.valid_until
    if offer.hours:
        low, high = offer.hours
        parts.append(f"{low // 60:02d}:{low % 60:02d}-{high // 60:02d}:{high % 60:02d}")
        minute = at.hour * 60 + at.minute
        ok &= low <= minute < high
    return Clause("valid", " ".join(parts), ok, f"now = {at:%Y-%m-%d %H:%M}")


def _policy(
    offer: Offer,
    policy: Policy,
    customer: Mapping[str, object],
    history: CustomerHistory,
    at: datetime,
) -> list[Clause]:
    own = history.offers.get(offer.id, OfferHistory())
    clauses = [
        Clause(
            "policy: do not call",
            "!customer.do_not_call",
            not customer["do_not_call"],
            f"customer.do_not_call = {json.dumps(customer['do_not_call'])}",
        ),
    ]
    if offer.kind == "marketing" and policy.marketing_requires_consent:
        clauses.append(
            Clause(
                "policy: consent",
                "customer.consent",
                bool(customer["consent"]),
                f"customer.consent = {json.dumps(customer['consent'])}",
            )
        )
    cooldown = policy.decline_cooldown_days if offer.cooldown_days is None else offer.cooldown_days
    if cooldown:
        last = own.last_declined
        recent = last is not None and last >= at - timedelta(days=cooldown)
        seen = "never declined" if last is None else f"last declined {last:%Y-%m-%d}"
        clauses.append(
            Clause(
                "policy: decline cooldown",
                f"no decline in the last {cooldown} days",
                not recent,
                seen,
            )
        )
    window = policy.impression_window_days
    cap = (
        policy.max_impressions_per_offer if offer.max_impressions is None else offer.max_impressions
    )
    clauses.append(
        Clause(
            "policy: offer impressions",
            f"shown fewer than {cap} times in {window} days",
            own.shown_in_window < cap,
            f"shown {own.shown_in_window}",
        )
    )
    total = policy.max_impressions_per_customer
    clauses.append(
        Clause(
            "policy: customer impressions",
            f"fewer than {total} offers in {window} days",
            history.shown_in_window < total,
            f"shown {history.shown_in_window}",
        )
    )
    return clauses


def cel_variables(
    paths: Iterable[str],
    customer: Mapping[str, object],
    call: Mapping[str, object],
    offers: Mapping[str, Mapping[str, object]],
) -> dict[str, object]:
    """The CEL variables for these field paths: only the fields named, nothing else.

    Args:
        paths: `namespace.field` paths the conditions to run read.
        customer: the customer namespace.
        call: the call namespace.
        offers: offer id -> that offer's namespace (for offers whose conditions read `offer.`).

    Returns:
        Variables for `cel.Context`: customer, call, and the offers map.
    """
    wanted: dict[str, list[str]] = {"customer": [], "call": [], "offer": []}
    for path in paths:
        namespace, _, name = path.partition(".")
        wanted[namespace].append(name)
    return {
        "customer": {name: customer[name] for name in wanted["customer"]},
        "call": {name: call[name] for name in wanted["call"]},
        OFFERS_MAP: {
            offer_id: {name: ns[name] for name in wanted["offer"]}
            for offer_id, ns in offers.items()
        },
    }


def _run(condition: Condition, env: Any) -> tuple[bool, str]:
    try:
        result = condition.program.execute(env)
    except Exception as error:  # noqa: BLE001 - a clause that cannot be judged does not hold
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return False, f"could not be evaluated ({first[:80]})"
    return result is True, ""


def decide(
    rules: RuleSet,
    customer: Mapping[str, object],
    call: CallFacts,
    history: CustomerHistory,
    every_condition: bool = False,
) -> list[Decision]:
    """Judge every offer of `rules` for one customer.

    Args:
        rules: the loaded rules.
        customer: the `customer` namespace (see core.rules.schema.CUSTOMER).
        call: the call.
        history: the customer's past offers.
        every_condition: evaluate the conditions even of offers the policy already blocks
            (the simulation counts which conditions cut the most).

    Returns:
        One decision per offer, in file order.
    """
    today = call.at.date()
    call_ns = call.namespace()
    offers_ns = {
        offer.id: offer_namespace(offer, history.offers.get(offer.id, OfferHistory()), today)
        for offer in rules.offers
        if any(path.startswith("offer.") for c in offer.conditions for path in c.paths)
    }
    env = cel.Context(cel_variables(rules.paths, customer, call_ns, offers_ns))
    decisions = []
    for offer in rules.offers:
        clauses: list[Clause] = []
        validity = _validity(offer, call.at)
        if validity is not None:
            clauses.append(validity)
        clauses.extend(_policy(offer, rules.policy, customer, history, call.at))
        blocked = next((c.name for c in clauses if not c.passed), "")
        failed: list[str] = []
        if not blocked or every_condition:
            view = {"customer": customer, "call": call_ns, "offer": offers_ns.get(offer.id) or {}}
            for condition in offer.conditions:
                passed, problem = _run(condition, env)
                seen = _seen(view, condition.paths)
                clauses.append(
                    Clause(
                        condition.name,
                        condition.source,
                        passed,
                        f"{seen} ({problem})" if problem else seen,
                    )
                )
                if not passed:
                    failed.append(condition.name)
            blocked = blocked or (failed[0] if failed else "")
        decisions.append(Decision(offer, tuple(clauses), blocked, tuple(failed)))
    return decisions


def acceptance_rate(offer: Offer, accepts: int, declines: int) -> float:
    """The posterior mean acceptance rate: the prior counts as `weight` earlier answers."""
    prior = offer.prior
    return (prior.rate * prior.weight + accepts) / (prior.weight + accepts + declines)


def arbitrate(
    decisions: Sequence[Decision],
    policy: Policy,
    counts: Mapping[str, tuple[int, int]],
    history: CustomerHistory,
    rng: random.Random | None = None,
    mode: str | None = None,
) -> list[Choice]:
    """The best eligible offers, best first, at most as many as the policy allows.

    Args:
        decisions: the engine's decisions for one customer.
        policy: the contact policy (arbitration mode, offers per call, impression cap).
        counts: offer id -> (accepted, declined) answers recorded so far, over all customers.
        history: the customer's past offers (the per-customer impression cap).
        rng: the random source for Thompson sampling (seeded in tests).
        mode: overrides the policy's arbitration mode.

    Returns:
        The chosen offers with the rate and score they were ranked by.
    """
    mode = mode or policy.arbitration
    rng = rng or random.Random()
    ranked = []
    for decision in decisions:
        if not decision.eligible:
            continue
        offer = decision.offer
        accepts, declines = counts.get(offer.id, (0, 0))
        rate = acceptance_rate(offer, accepts, declines)
        if mode == "thompson":
            alpha = offer.prior.rate * offer.prior.weight + accepts
            beta = (1 - offer.prior.rate) * offer.prior.weight + declines
            rate = rng.betavariate(alpha, beta)
        score = rate * offer.value
        key = (-offer.priority, -score) if mode == "priority" else (-score, -offer.priority)
        ranked.append((key, offer.id, Choice(decision, rate, score)))
    ranked.sort(key=lambda item: (item[0], item[1]))
    room = max(0, policy.max_impressions_per_customer - history.shown_in_window)
    return [choice for _, _, choice in ranked[: min(policy.max_offers_per_call, room)]]
