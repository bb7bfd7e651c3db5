"""Arbitration: which of a customer's eligible offers to make, best first.

`arbitrate` ranks for one customer on a call; `core.rules.simulate` ranks a batch of customers
at once in the same order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.rules.engine import Decision
from core.rules.policy import CustomerHistory
from core.rules.ruleset import Offer, Policy


@dataclass(frozen=True)
class Choice:
    """An eligible offer picked by arbitration, with the rate and score it was ranked by."""

    decision: Decision
    rate: float
    score: float


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
        if decision.blocked:
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
