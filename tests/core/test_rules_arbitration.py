"""Arbitration for one customer on a call and for a batch in the simulation pick the same
offers, over random offers, answers and eligibility."""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.rules.arbitration import arbitrate, arbitrate_batch
from core.rules.engine import CustomerHistory, Decision
from core.rules.loader import parse_rules


@pytest.mark.parametrize("mode", ["priority", "expected_value"])
def test_a_call_and_the_simulation_choose_the_same_offers(mode: str) -> None:
    rng = random.Random(5)
    offers = "".join(
        f'[[offer]]\nid = "o{i:02d}"\ntitle = "O"\nscript = "Hi"\n'
        f"value = {rng.choice([50, 100, 100, 250])}.0\npriority = {rng.randint(0, 3)}\n"
        f"prior = {{ rate = 0.{rng.randint(1, 9)}, weight = {rng.choice([10, 30])} }}\n"
        for i in range(15)
    )
    rules = parse_rules(
        f'[policy]\narbitration = "{mode}"\nmax_offers_per_call = 3\n'
        f"max_impressions_per_customer = 5\n{offers}"
    )
    counts = {o.id: (rng.randint(0, 40), rng.randint(0, 200)) for o in rules.offers[::2]}
    eligible = np.array([[rng.random() < 0.4 for _ in rules.offers] for _ in range(300)])
    shown_before = [rng.randint(0, 6) for _ in range(len(eligible))]
    shown = arbitrate_batch(
        eligible, rules.offers, rules.policy, counts, shown_before, np.random.default_rng(0)
    )
    picked = 0
    for row, before, chosen_row in zip(eligible, shown_before, shown, strict=True):
        decisions = [
            Decision(offer, (), "" if ok else "no")
            for offer, ok in zip(rules.offers, row, strict=True)
        ]
        history = CustomerHistory(shown_in_window=before)
        chosen = arbitrate(decisions, rules.policy, counts, history, mode=mode)
        expected = {o.id for o, flag in zip(rules.offers, chosen_row, strict=True) if flag}
        assert {c.decision.offer.id for c in chosen} == expected
        picked += len(chosen)
    assert picked > 300  # most customers got offers: the comparison was not of empty lists
