"""Who would get what: every offer judged for every customer, counted by segment and tier.

The simulation runs the same checks, conditions and arbitration as a live call, a batch of
customers at a time: validity and the contact policy are the columns of core.rules.policy's
checks, each condition is a column from core.rules.evaluator, and eligibility, arbitration and
the counts are array operations.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncEngine

from core.analytics.config import AnalyticsConfig
from core.analytics.store import load_population
from core.rules.arbitration import arbitrate_batch
from core.rules.bulk import CustomerFacts, count_customers, stream_facts
from core.rules.engine import CallFacts
from core.rules.evaluator import Bools, Evaluator
from core.rules.facts import customer_namespace, response_counts
from core.rules.policy import Batch, blocked_column
from core.rules.ruleset import RuleSet

Progress = Callable[[int, int], None]
"""progress(done, total) after each batch."""


@dataclass
class OfferTally:
    eligible: int = 0
    shown: int = 0
    by_segment: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    sole_blocker: Counter[str] = field(default_factory=Counter)
    policy: Counter[str] = field(default_factory=Counter)


@dataclass
class _Run:
    rules: RuleSet
    call: CallFacts
    counts: Mapping[str, tuple[int, int]]
    rng: np.random.Generator
    evaluator: Evaluator
    tallies: dict[str, OfferTally]
    segments: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    reached: int = 0

    def batch(self, facts: Sequence[CustomerFacts]) -> None:
        n = len(facts)
        day = self.call.at.date()
        policy = self.rules.policy
        customers = [
            customer_namespace(f.record, f.profile, f.history, f.open_complaints, day)
            for f in facts
        ]
        who = Batch.of(
            np.array([f.record.do_not_call for f in facts], dtype=np.bool_),
            np.array([f.record.consent for f in facts], dtype=np.bool_),
            [f.history for f in facts],
            self.call.at,
        )
        segment = np.array([f.profile.rfm_segment for f in facts], dtype=object)
        tier = np.array([f.profile.tier or "none" for f in facts], dtype=object)
        self.segments.update(segment.tolist())
        self.tiers.update(tier.tolist())
        cache: dict[object, Any] = {}
        eligible = np.zeros((n, len(self.rules.offers)), dtype=np.bool_)
        for k, offer in enumerate(self.rules.offers):
            tally = self.tallies[offer.id]
            reasons = blocked_column(offer, policy, who)
            blocked = reasons != ""
            for reason, count in Counter(reasons[blocked].tolist()).items():
                tally.policy[reason] += count
            failures = np.zeros(n, dtype=np.int64)
            passed_all = ~blocked
            results = []
            for condition in offer.conditions:
                ok = self.evaluator.results(condition, offer, customers, facts, cache)
                results.append(ok)
                tally.failed[condition.name] += int((~ok).sum())
                failures += ~ok
                passed_all &= ok
            single = ~blocked & (failures == 1)
            for condition, ok in zip(offer.conditions, results, strict=True):
                tally.sole_blocker[condition.name] += int((single & ~ok).sum())
            eligible[:, k] = passed_all
            tally.eligible += int(passed_all.sum())
        self._arbitrate(facts, eligible, segment, tier)

    def _arbitrate(
        self,
        facts: Sequence[CustomerFacts],
        eligible: Bools,
        segment: NDArray[np.object_],
        tier: NDArray[np.object_],
    ) -> None:
        offers = self.rules.offers
        if not offers:
            return
        rooms = [f.history.shown_in_window for f in facts]
        shown = arbitrate_batch(eligible, offers, self.rules.policy, self.counts, rooms, self.rng)
        self.reached += int(shown.any(axis=1).sum())
        for k, offer in enumerate(offers):
            mask = shown[:, k]
            tally = self.tallies[offer.id]
            tally.shown += int(mask.sum())
            tally.by_segment.update(segment[mask].tolist())
            tally.by_tier.update(tier[mask].tolist())


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
    call = CallFacts(at=at, reason=reason)
    total = await count_customers(engine)
    async with engine.connect() as connection:
        counts = await response_counts(connection)
        population = await load_population(connection)
    run = _Run(
        rules,
        call,
        counts,
        np.random.default_rng(seed),
        Evaluator(rules, call),
        {o.id: OfferTally() for o in rules.offers},
    )
    done = 0
    window = rules.policy.impression_window_days
    async for batch in stream_facts(engine, at.date(), at, config, window):
        run.batch(batch)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    report = _report(rules, at, reason, done, run)
    report["analytics_as_of"] = population.as_of.isoformat() if population else None
    return report


def _report(rules: RuleSet, at: datetime, reason: str, customers: int, run: _Run) -> dict[str, Any]:
    offers = []
    cuts: list[dict[str, Any]] = []
    for offer in rules.offers:
        t = run.tallies[offer.id]
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
        "customers_with_offers": run.reached,
        "segments": dict(run.segments.most_common()),
        "tiers": dict(run.tiers.most_common()),
        "offers": offers,
        "cuts": cuts,
    }


def report_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)
