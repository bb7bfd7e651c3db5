"""Arbitration: which of a customer's eligible offers to make, best first.

`arbitrate` ranks for one customer on a call, `arbitrate_batch` a batch of customers at once
(the simulation) in the same order; a test over random batches holds them equal.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.rules.engine import Decision
from core.rules.history import CustomerHistory
from core.rules.ruleset import Offer, Policy

Bools = NDArray[np.bool_]


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


def arbitrate_batch(
    eligible: Bools,
    offers: Sequence[Offer],
    policy: Policy,
    counts: Mapping[str, tuple[int, int]],
    shown_in_window: Sequence[int],
    rng: np.random.Generator,
) -> Bools:
    """`arbitrate` for a batch of customers at once (the simulation), in the same order.

    Args:
        eligible: customers × offers, whether each offer is eligible for each customer.
        offers: the offers, one per column.
        policy: the contact policy.
        counts: offer id -> (accepted, declined) answers recorded so far.
        shown_in_window: each customer's offers shown within the impression window.
        rng: the random source for Thompson sampling.

    Returns:
        customers × offers, whether each offer is shown to each customer.
    """
    n, m = eligible.shape
    accepts = np.array([counts.get(o.id, (0, 0))[0] for o in offers], dtype=np.float64)
    declines = np.array([counts.get(o.id, (0, 0))[1] for o in offers], dtype=np.float64)
    values = np.array([o.value for o in offers], dtype=np.float64)
    priority = np.array([o.priority for o in offers], dtype=np.float64)
    if policy.arbitration == "thompson":
        alpha = np.array([o.prior.rate * o.prior.weight for o in offers]) + accepts
        beta = np.array([(1 - o.prior.rate) * o.prior.weight for o in offers]) + declines
        score = rng.beta(alpha, beta, size=(n, m)) * values
    else:
        rates = np.array([acceptance_rate(o, *counts.get(o.id, (0, 0))) for o in offers])
        score = np.broadcast_to(rates * values, (n, m))
    # the order of `arbitrate`: (-priority, -score) or
    # (-score, -priority), then offer id; lexsort sorts by its last key first
    ids = np.broadcast_to(np.argsort(np.argsort([o.id for o in offers])), (n, m))
    prio = np.broadcast_to(-priority, (n, m))
    keys = (ids, -score, prio) if policy.arbitration == "priority" else (ids, prio, -score)
    order = np.lexsort(keys, axis=1)
    ranked = np.take_along_axis(eligible, order, axis=1)
    room = np.maximum(0, policy.max_impressions_per_customer - np.asarray(shown_in_window))
    limit = np.minimum(policy.max_offers_per_call, room)[:, None]
    shown_ranked = ranked & (np.cumsum(ranked, axis=1) <= limit)
    shown = np.zeros_like(eligible)
    np.put_along_axis(shown, order, shown_ranked, axis=1)
    return shown
