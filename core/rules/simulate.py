"""Who would get what: every offer judged for every customer, counted by segment and tier.

The simulation uses the same conditions, policy and arbitration as a live call, without the
explanations: each condition's result is memoised on the values it reads (most conditions
read a few fields with few distinct values: products, tier, segment), and a customer's CEL
context is built only when a condition meets values it has not seen.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import cel
from sqlalchemy.ext.asyncio import AsyncEngine

from core.analytics.config import AnalyticsConfig
from core.rules.bulk import CustomerFacts, count_customers, stream_facts
from core.rules.engine import (
    CallFacts,
    CustomerHistory,
    Decision,
    OfferHistory,
    arbitrate,
    cel_variables,
    offer_namespace,
)
from core.rules.expressions import Condition
from core.rules.facts import customer_namespace, response_counts
from core.rules.ruleset import Offer, RuleSet

Progress = Callable[[int, int], None]
"""progress(done, total) after each batch."""

MEMO_LIMIT = 200_000
"""Distinct value combinations remembered per condition (bounds memory on continuous fields)."""


def _split(path: str) -> tuple[str, str]:
    namespace, _, name = path.partition(".")
    return namespace, name


@dataclass
class OfferTally:
    eligible: int = 0
    shown: int = 0
    by_segment: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    sole_blocker: Counter[str] = field(default_factory=Counter)
    policy: Counter[str] = field(default_factory=Counter)


class _Screen:
    """Judges offers fast: policy as plain comparisons, conditions memoised."""

    def __init__(self, rules: RuleSet, call: CallFacts) -> None:
        self.rules = rules
        self.call = call
        self.call_ns = call.namespace()
        at = call.at
        self.valid = {o.id: _valid(o, at) for o in rules.offers}
        self.plans: list[list[tuple[Condition, list[tuple[str, str]], dict[object, bool]]]] = [
            [(c, [_split(p) for p in c.paths], {}) for c in o.conditions] for o in rules.offers
        ]
        self.uses_offer = {
            o.id
            for o in rules.offers
            if any(p.startswith("offer.") for c in o.conditions for p in c.paths)
        }

    def judge(
        self, customer: Mapping[str, object], history: CustomerHistory
    ) -> list[tuple[str, tuple[str, ...]]]:
        """(policy or validity block, failed condition names) for each offer."""
        policy = self.rules.policy
        at = self.call.at
        offers_ns = {
            o.id: offer_namespace(o, history.offers.get(o.id, OfferHistory()), at.date())
            for o in self.rules.offers
            if o.id in self.uses_offer
        }
        frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in customer.items()}
        out = []
        pending: list[tuple[str, list[bool | None]]] = []
        misses: list[tuple[int, int, Condition, dict[object, bool], object]] = []
        dnc = bool(customer["do_not_call"])
        consent = bool(customer["consent"])
        with_history = bool(history.offers or history.shown_in_window)
        for k, offer in enumerate(self.rules.offers):
            blocked = ""
            if not self.valid[offer.id]:
                blocked = "valid"
            elif dnc:
                blocked = "policy: do not call"
            elif offer.kind == "marketing" and policy.marketing_requires_consent and not consent:
                blocked = "policy: consent"
            elif with_history:
                blocked = _history_block(offer, policy, history, at)
            views = {"customer": frozen, "call": self.call_ns, "offer": offers_ns.get(offer.id)}
            results: list[bool | None] = []
            for condition, getters, memo in self.plans[k]:
                key = tuple([(views[ns] or {}).get(name) for ns, name in getters])
                passed = memo.get(key)
                if passed is None:
                    misses.append((k, len(results), condition, memo, key))
                results.append(passed)
            pending.append((blocked, results))
        if misses:
            # only the fields of the conditions not seen before go to CEL
            paths = {p for _, _, condition, _, _ in misses for p in condition.paths}
            env = cel.Context(cel_variables(paths, customer, self.call_ns, offers_ns))
            for k, j, condition, memo, seen in misses:
                try:
                    passed = condition.program.execute(env) is True
                except Exception:  # noqa: BLE001 - cannot be judged: does not hold
                    passed = False
                if len(memo) < MEMO_LIMIT:
                    memo[seen] = passed
                pending[k][1][j] = passed
        for k, (blocked, results) in enumerate(pending):
            conditions = self.rules.offers[k].conditions
            failed = [c.name for c, ok in zip(conditions, results, strict=True) if not ok]
            out.append((blocked, tuple(failed)))
        return out


def _valid(offer: Offer, at: datetime) -> bool:
    if offer.valid_from and at.date() < offer.valid_from:
        return False
    if offer.valid_until and at.date() > offer.valid_until:
        return False
    if offer.hours:
        minute = at.hour * 60 + at.minute
        return offer.hours[0] <= minute < offer.hours[1]
    return True


def _history_block(offer: Offer, policy: Any, history: CustomerHistory, at: datetime) -> str:
    own = history.offers.get(offer.id, OfferHistory())
    cooldown = policy.decline_cooldown_days if offer.cooldown_days is None else offer.cooldown_days
    if cooldown and own.last_declined and own.last_declined >= at - timedelta(days=cooldown):
        return "policy: decline cooldown"
    cap = (
        policy.max_impressions_per_offer if offer.max_impressions is None else offer.max_impressions
    )
    if own.shown_in_window >= cap:
        return "policy: offer impressions"
    if history.shown_in_window >= policy.max_impressions_per_customer:
        return "policy: customer impressions"
    return ""


async def simulate(
    engine: AsyncEngine,
    rules: RuleSet,
    at: datetime,
    reason: str = "",
    config: AnalyticsConfig | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Judge every offer for every customer as if each called at `at` for `reason`.

    Args:
        engine: the database.
        rules: the rules to try (need not be the ones in use).
        at: the local moment of the simulated calls (validity dates and hours, tenure, history).
        reason: the call reason the conditions see.
        config: the analytics configuration.
        progress: called with (customers done, total) after each batch.
        seed: the random seed for Thompson sampling, so that a run can be repeated.

    Returns:
        The report (see `frontline rules simulate --json` in the README).
    """
    config = config or AnalyticsConfig()
    day = at.date()
    call = CallFacts(at=at, reason=reason)
    screen = _Screen(rules, call)
    tallies = {o.id: OfferTally() for o in rules.offers}
    rng = random.Random(seed)
    total = await count_customers(engine)
    async with engine.connect() as connection:
        counts = await response_counts(connection)
    done = reached = 0
    segments: Counter[str] = Counter()
    tiers: Counter[str] = Counter()
    at_utc = at.astimezone()
    async for batch in stream_facts(
        engine, day, at_utc, config, rules.policy.impression_window_days
    ):
        for facts in batch:
            shown = _one(facts, rules, screen, tallies, counts, rng, day)
            segments[facts.profile.rfm_segment] += 1
            tiers[facts.profile.tier or "none"] += 1
            reached += bool(shown)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return _report(rules, at, reason, done, reached, tallies, segments, tiers)


def _one(
    facts: CustomerFacts, rules: RuleSet, screen: _Screen, tallies: dict[str, OfferTally],
    counts: Mapping[str, tuple[int, int]], rng: random.Random, day: date,
) -> int:  # fmt: skip
    customer = customer_namespace(
        facts.record, facts.profile, facts.history, facts.open_complaints, day
    )
    judged = screen.judge(customer, facts.history)
    decisions = []
    for offer, (blocked, failed) in zip(rules.offers, judged, strict=True):
        tally = tallies[offer.id]
        for name in failed:
            tally.failed[name] += 1
        if blocked:
            tally.policy[blocked] += 1
        elif len(failed) == 1:
            tally.sole_blocker[failed[0]] += 1
        if blocked or failed:
            continue
        tally.eligible += 1
        decisions.append(Decision(offer, (), ""))
    if not decisions:
        return 0
    chosen = arbitrate(decisions, rules.policy, counts, facts.history, rng)
    segment, tier = facts.profile.rfm_segment, facts.profile.tier or "none"
    for choice in chosen:
        tally = tallies[choice.decision.offer.id]
        tally.shown += 1
        tally.by_segment[segment] += 1
        tally.by_tier[tier] += 1
    return len(chosen)


def _report(
    rules: RuleSet, at: datetime, reason: str, customers: int, reached: int,
    tallies: dict[str, OfferTally], segments: Counter[str], tiers: Counter[str],
) -> dict[str, Any]:  # fmt: skip
    offers = []
    cuts: list[dict[str, Any]] = []
    for offer in rules.offers:
        t = tallies[offer.id]
        conditions = [
            {
                "name": c.name,
                "expression": c.source,
                "failed": t.failed[c.name],
                "sole_blocker": t.sole_blocker[c.name],
            }
            for c in offer.conditions
        ]
        cuts.extend({"offer": offer.id, **c} for c in conditions)
        offers.append(
            {
                "id": offer.id,
                "title": offer.title,
                "kind": offer.kind,
                "value": offer.value,
                "eligible": t.eligible,
                "shown": t.shown,
                "by_segment": dict(t.by_segment.most_common()),
                "by_tier": dict(t.by_tier.most_common()),
                "conditions": conditions,
                "policy": dict(t.policy.most_common()),
            }
        )
    cuts.sort(key=lambda c: (-int(c["failed"]), str(c["offer"]), str(c["name"])))
    return {
        "rules_file": str(rules.path) if rules.path else "",
        "rules_version": rules.version,
        "as_of": at.date().isoformat(),
        "at": at.isoformat(timespec="minutes"),
        "reason": reason,
        "arbitration": rules.policy.arbitration,
        "customers": customers,
        "customers_with_offers": reached,
        "segments": dict(segments.most_common()),
        "tiers": dict(tiers.most_common()),
        "offers": offers,
        "cuts": cuts,
    }


def report_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)
