"""The contact policy is one list of checks: a call's decision, its explanation and the
whole-base simulation agree on who is blocked and why, over random customers and offers."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np

from core.rules.engine import CallFacts, CustomerHistory, OfferHistory, decide
from core.rules.loader import parse_rules
from core.rules.policy import CHECKS, Batch, blocked_column
from core.rules.ruleset import RuleSet
from core.rules.schema import CUSTOMER

DAY = date(2026, 11, 23)


def random_rules(rng: random.Random) -> RuleSet:
    consent = rng.choice(["true", "false"])
    policy = (
        f"marketing_requires_consent = {consent}\n"
        f"decline_cooldown_days = {rng.choice([0, 7, 30])}\n"
        f"max_impressions_per_offer = {rng.randint(1, 3)}\n"
        f"max_impressions_per_customer = {rng.randint(2, 8)}\n"
    )
    offers = []
    for i in range(12):
        extra = [f'kind = "{rng.choice(["marketing", "service"])}"']
        valid = []
        if rng.random() < 0.3:
            valid.append(f"from = {DAY + timedelta(days=rng.randint(-3, 2))}")
        if rng.random() < 0.3:
            valid.append(f"until = {DAY + timedelta(days=rng.randint(3, 6))}")
        if rng.random() < 0.3:
            valid.append(f'hours = "{rng.randint(8, 12):02d}:00-{rng.randint(13, 20):02d}:00"')
        if valid:
            extra.append(f"valid = {{ {', '.join(valid)} }}")
        if rng.random() < 0.3:
            extra.append(f"cooldown_days = {rng.choice([0, 3, 60])}")
        if rng.random() < 0.3:
            extra.append(f"max_impressions = {rng.randint(1, 4)}")
        offers.append(
            f'[[offer]]\nid = "o{i}"\ntitle = "Offer {i}"\nscript = "Hello"\n' + "\n".join(extra)
        )
    return parse_rules("[policy]\n" + policy + "\n" + "\n".join(offers))


def random_customer(rng: random.Random) -> dict[str, object]:
    customer: dict[str, object] = {name: None for name in CUSTOMER}
    customer.update(do_not_call=rng.random() < 0.15, consent=rng.random() < 0.7)
    return customer


def random_history(rng: random.Random, rules: RuleSet, at: datetime) -> CustomerHistory:
    if rng.random() < 0.4:
        return CustomerHistory()
    offers = {}
    for offer in rng.sample(rules.offers, rng.randint(0, 6)):
        declined = at - timedelta(days=rng.randint(0, 90)) if rng.random() < 0.6 else None
        offers[offer.id] = OfferHistory(
            shown=rng.randint(1, 6), declined=int(declined is not None),
            last_declined=declined, shown_in_window=rng.randint(0, 4),
        )  # fmt: skip
    return CustomerHistory(offers, shown_in_window=rng.randint(0, 9))


def test_decide_explain_and_simulate_block_the_same_customers_for_the_same_reason() -> None:
    rng = random.Random(11)
    reasons: Counter[str] = Counter()
    for _ in range(8):
        rules = random_rules(rng)
        at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(
            days=rng.randint(-4, 7), hours=rng.randint(7, 21), minutes=rng.choice([0, 30])
        )
        call = CallFacts(at=at, reason="billing")
        customers = [random_customer(rng) for _ in range(150)]
        histories = [random_history(rng, rules, at) for _ in customers]
        batch = Batch.of(
            np.array([c["do_not_call"] for c in customers], dtype=np.bool_),
            np.array([c["consent"] for c in customers], dtype=np.bool_),
            histories,
            at,
        )
        bulk = {o.id: blocked_column(o, rules.policy, batch).tolist() for o in rules.offers}
        for i, (customer, history) in enumerate(zip(customers, histories, strict=True)):
            decided = decide(rules, customer, call, history)
            explained = decide(rules, customer, call, history, explain_all=True)
            for fast, slow in zip(decided, explained, strict=True):
                assert fast.blocked == slow.blocked == bulk[fast.offer.id][i], (
                    fast.offer,
                    customer,
                    history,
                    at,
                )
                reasons[fast.blocked] += 1
            eligible = [d.offer.id for d in decided if d.eligible]
            only = decide(rules, customer, call, history, only_eligible=True)
            assert [d.offer.id for d in only] == eligible
    # every check blocked someone, so each was compared on both sides
    assert set(reasons) == {"", *(c.name for c in CHECKS)}


def test_a_do_not_call_customer_is_told_first_what_the_offer_dates_say() -> None:
    rules = parse_rules(
        '[[offer]]\nid = "old"\ntitle = "Old"\nscript = "Hi"\nvalid = { until = 2026-11-01 }\n'
    )
    customer = random_customer(random.Random(1)) | {"do_not_call": True, "consent": True}
    call = CallFacts(at=datetime(2026, 11, 23, 10, tzinfo=UTC))
    [decision] = decide(rules, customer, call, CustomerHistory())
    [explained] = decide(rules, customer, call, CustomerHistory(), explain_all=True)
    assert decision.blocked == explained.blocked == "valid"
    assert [c.name for c in explained.clauses if not c.passed] == ["valid", "policy: do not call"]
