"""Judging offers for one customer: contact policy, validity, arbitration, learning, scripts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from core.rules.arbitration import acceptance_rate, arbitrate
from core.rules.engine import CallFacts, CustomerHistory, OfferHistory, decide
from core.rules.loader import parse_rules
from core.rules.ruleset import RuleSet
from core.rules.schema import CUSTOMER
from core.rules.templates import format_value, parse_template

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # a Monday
CALL = CallFacts(at=NOW, reason="billing", queue="residential")


def customer(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {name: None for name in CUSTOMER}
    base.update(
        number="C00000001", first_name="Ana", last_name="García", city="Madrid", country="ES",
        consent=True, do_not_call=False, tier="Gold", points=7000, tenure_days=2000,
        tenure_years=5.48, scope=2, product_lines=["fibre", "tv"],
        products=["FIBRE_300", "TV_ESSENTIAL"], depth=0.3, spend_12m=1234.5, frequency=4,
        monetary=300.0, r_score=4, f_score=3, m_score=4, rfm_segment="Loyal Customers",
        expected_purchases=2.0, p_alive=0.9, churn_risk=0.1, expected_value=500.0,
        open_complaints=0,
    )  # fmt: skip
    base.update(fields)
    return base


def rules(offers: str, policy: str = "") -> RuleSet:
    return parse_rules(f"[policy]\n{policy}\n{offers}")


def offer(oid: str, value: float = 100.0, extra: str = "", when: str = "") -> str:
    return (
        f'[[offer]]\nid = "{oid}"\ntitle = "{oid}"\nvalue = {value}\n'
        f'script = "Hello {{customer.first_name}}"\n{extra}\n[offer.when]\n{when}\n'
    )


THREE = offer("a", 100.0, "priority = 1") + offer("b", 300.0) + offer("c", 200.0, "priority = 5")


def eligible(
    rs: RuleSet, who: dict[str, object], history: CustomerHistory | None = None
) -> list[str]:
    return [d.offer.id for d in decide(rs, who, CALL, history or CustomerHistory()) if d.eligible]


def test_conditions_must_all_hold_and_explain_what_they_saw() -> None:
    rs = rules(
        offer(
            "fibre",
            when="fibre = '\"FIBRE_300\" in customer.products'\n"
            'calm = \'call.reason in ["billing", "technical"]\'',
        )
    )
    [decision] = decide(rs, customer(), CALL, CustomerHistory(), explain_all=True)
    assert decision.eligible
    conditions = [c for c in decision.clauses if not c.name.startswith("policy")]
    assert conditions == [
        ("fibre", '"FIBRE_300" in customer.products', True,
         'customer.products = ["FIBRE_300", "TV_ESSENTIAL"]'),
        ("calm", 'call.reason in ["billing", "technical"]', True, 'call.reason = "billing"'),
    ]  # fmt: skip
    [blocked] = decide(
        rs, customer(products=["FIBRE_1G"]), CALL, CustomerHistory(), explain_all=True
    )
    assert blocked.blocked == "fibre" and blocked.failed == ("fibre",)


def test_a_clause_on_a_missing_value_does_not_hold_and_says_why() -> None:
    rs = rules(offer("nps", when="promoter = 'customer.nps_score >= 9'"))
    [decision] = decide(rs, customer(nps_score=None), CALL, CustomerHistory(), explain_all=True)
    assert not decision.eligible
    clause = decision.clauses[-1]
    assert clause.seen.startswith("customer.nps_score = null (could not be evaluated")
    assert eligible(rs, customer(nps_score=10)) == ["nps"]


def test_marketing_offers_need_consent_service_offers_do_not() -> None:
    rs = rules(offer("sell") + offer("keep", extra='kind = "service"'))
    assert eligible(rs, customer(consent=False)) == ["keep"]
    assert eligible(rs, customer(consent=True)) == ["sell", "keep"]
    relaxed = rules(offer("sell"), "marketing_requires_consent = false")
    assert eligible(relaxed, customer(consent=False)) == ["sell"]


def test_never_an_offer_to_a_do_not_call_customer() -> None:
    rs = rules(offer("sell") + offer("keep", extra='kind = "service"'))
    decisions = decide(rs, customer(do_not_call=True), CALL, CustomerHistory())
    assert [d.blocked for d in decisions] == ["policy: do not call"] * 2


def test_an_offer_declined_recently_is_not_shown_again() -> None:
    rs = rules(offer("a") + offer("b", extra="cooldown_days = 90"), "decline_cooldown_days = 30")
    declined = OfferHistory(shown=1, declined=1, last_response="declined",
                            last_shown=NOW - timedelta(days=40),
                            last_declined=NOW - timedelta(days=40))  # fmt: skip
    history = CustomerHistory({"a": declined, "b": declined})
    # 40 days ago: past the policy's 30 days, within b's own 90
    assert eligible(rs, customer(), history) == ["a"]
    recent = OfferHistory(declined=1, last_declined=NOW - timedelta(days=3))
    assert eligible(rs, customer(), CustomerHistory({"a": recent})) == ["b"]


def test_impression_caps_per_offer_and_per_customer() -> None:
    rs = rules(THREE, "max_impressions_per_offer = 2\nmax_impressions_per_customer = 3")
    twice = OfferHistory(shown=2, shown_in_window=2, last_shown=NOW - timedelta(days=1))
    assert eligible(rs, customer(), CustomerHistory({"a": twice}, shown_in_window=2)) == ["b", "c"]
    full = CustomerHistory({}, shown_in_window=3)
    assert eligible(rs, customer(), full) == []


def test_validity_dates_and_hours() -> None:
    rs = rules(
        offer("old", extra="valid = { until = 2026-11-22 }")
        + offer("now", extra="valid = { from = 2026-11-23, until = 2026-11-23 }")
        + offer("morning", extra='valid = { hours = "09:00-10:30" }')
        + offer("late", extra='valid = { hours = "10:30-21:00" }')
    )
    assert eligible(rs, customer()) == ["now", "late"]


def test_call_and_offer_history_fields() -> None:
    rs = rules(
        offer(
            "x",
            when="monday = 'call.weekday == \"monday\" && call.hour == 10'\n"
            "fresh = 'offer.times_shown == 0 || "
            "offer.days_since_last_shown > 14'",
        )
    )
    assert eligible(rs, customer()) == ["x"]
    seen = OfferHistory(shown=1, last_shown=NOW - timedelta(days=5))
    assert eligible(rs, customer(), CustomerHistory({"x": seen})) == []
    older = OfferHistory(shown=1, last_shown=NOW - timedelta(days=20))
    assert eligible(rs, customer(), CustomerHistory({"x": older})) == ["x"]


def test_at_most_k_offers_per_call() -> None:
    rs = rules(THREE, "max_offers_per_call = 2")
    chosen = arbitrate(
        decide(rs, customer(), CALL, CustomerHistory(), explain_all=True),
        rs.policy,
        {},
        CustomerHistory(),
    )
    assert len(chosen) == 2


def test_priority_mode_ranks_by_priority() -> None:
    rs = rules(THREE, 'arbitration = "priority"\nmax_offers_per_call = 3')
    chosen = arbitrate(
        decide(rs, customer(), CALL, CustomerHistory(), explain_all=True),
        rs.policy,
        {},
        CustomerHistory(),
    )
    assert [c.decision.offer.id for c in chosen] == ["c", "a", "b"]


def test_expected_value_mode_ranks_by_rate_times_value() -> None:
    rs = rules(THREE, 'arbitration = "expected_value"\nmax_offers_per_call = 3')
    decisions = decide(rs, customer(), CALL, CustomerHistory(), explain_all=True)
    chosen = arbitrate(decisions, rs.policy, {}, CustomerHistory())
    assert [c.decision.offer.id for c in chosen] == ["b", "c", "a"]  # same prior: by value
    # b declined 100 times, a accepted 50 of 60: a's learnt rate beats b's value
    counts = {"a": (50, 10), "b": (0, 100)}
    chosen = arbitrate(decisions, rs.policy, counts, CustomerHistory())
    assert [c.decision.offer.id for c in chosen] == ["a", "c", "b"]
    assert chosen[0].rate == acceptance_rate(rs.offers[0], 50, 10)
    assert chosen[0].score == chosen[0].rate * 100.0


def test_thompson_sampling_is_repeatable_with_a_seed_and_follows_the_evidence() -> None:
    rs = rules(
        offer("a", 100.0) + offer("b", 100.0), 'arbitration = "thompson"\nmax_offers_per_call = 1'
    )
    decisions = decide(rs, customer(), CALL, CustomerHistory(), explain_all=True)
    counts = {"a": (40, 60), "b": (10, 90)}

    def firsts(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            arbitrate(decisions, rs.policy, counts, CustomerHistory(), rng)[0].decision.offer.id
            for _ in range(200)
        ]

    assert firsts(7) == firsts(7)
    picks = firsts(7)
    assert picks.count("a") > 180  # Beta(42, 79) vs Beta(11, 108): a almost always
    even = {"a": (0, 0), "b": (0, 0)}
    rng = random.Random(3)
    tied = [arbitrate(decisions, rs.policy, even, CustomerHistory(), rng)[0].decision.offer.id
            for _ in range(400)]  # fmt: skip
    assert 120 < tied.count("a") < 280  # no evidence: both get explored


def test_the_learnt_rate_starts_at_the_prior_and_moves_with_answers() -> None:
    [o] = rules(offer("a", extra="prior = { rate = 0.10, weight = 50 }")).offers
    assert acceptance_rate(o, 0, 0) == 0.10
    assert acceptance_rate(o, 10, 0) == (5 + 10) / 60
    assert acceptance_rate(o, 0, 50) == 5 / 100


def test_scripts_are_filled_and_formatted() -> None:
    template, problems = parse_template(
        "{customer.first_name}, {customer.tenure_years} years, {customer.spend_12m} spent, "
        "{customer.churn_risk} risk, until {offer.valid_until}, {customer.points:int} points, "
        "{{literal}}"
    )
    assert problems == [] and template is not None
    context = {
        "customer": customer(),
        "offer": {"valid_until": "2026-12-31"},
        "call": {},
    }
    assert template.fill(context) == (
        "Ana, 5.5 years, 1,234.50 spent, 10% risk, until 31 Dec 2026, 7,000 points, {literal}"
    )
    assert format_value(None, "money") == ""
    assert format_value(True, "bool") == "yes"
