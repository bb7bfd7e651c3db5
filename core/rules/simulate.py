"""Who would get what: every offer judged for every customer, counted by segment and tier.

The simulation runs the same conditions, policy and arbitration as a live call, a batch of
customers at a time and one condition at a time: a condition is evaluated by CEL once per
distinct combination of the values it reads (most read a few fields with few values:
products, tier, segment), and its results for the batch become a numpy column. Policy,
eligibility, arbitration and the counts are then array operations.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cel
import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncEngine

from core.analytics.config import AnalyticsConfig
from core.analytics.store import load_population
from core.rules.bulk import CustomerFacts, count_customers, stream_facts
from core.rules.engine import (
    CallFacts,
    OfferHistory,
    acceptance_rate,
    history_block,
    offer_namespace,
    valid_at,
)
from core.rules.expressions import OFFERS_MAP, Condition
from core.rules.facts import customer_namespace, response_counts
from core.rules.ruleset import Offer, RuleSet

Progress = Callable[[int, int], None]
"""progress(done, total) after each batch."""
Bools = NDArray[np.bool_]

MEMO_LIMIT = 500_000
"""Distinct value combinations remembered per condition (bounds memory on continuous fields)."""


def _freeze(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@dataclass
class OfferTally:
    eligible: int = 0
    shown: int = 0
    by_segment: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    sole_blocker: Counter[str] = field(default_factory=Counter)
    policy: Counter[str] = field(default_factory=Counter)


class _Evaluator:
    """Conditions over a batch: CEL once per distinct input, memoised across batches.

    Conditions that read the same fields (`customer.tenure_years >= 1.0` in one offer,
    `>= 5.0` in another) are evaluated together, as one CEL list, so that the customer's
    values are converted into CEL once for all of them.
    """

    def __init__(self, rules: RuleSet, call: CallFacts) -> None:
        self.rules = rules
        self.call = call
        self.call_ns = call.namespace()
        self.memo: dict[object, dict[object, object]] = {}
        groups: dict[tuple[str, ...], list[Condition]] = {}
        for offer in rules.offers:
            if offer.id in rules.reads_history:
                continue
            for condition in offer.conditions:
                groups.setdefault(condition.paths, []).append(condition)
        self.place: dict[int, tuple[tuple[str, ...], int]] = {}
        self.group_programs: dict[tuple[str, ...], Any] = {}
        for paths, members in groups.items():
            if len(members) < 2:
                continue
            for position, condition in enumerate(members):
                self.place[id(condition)] = (paths, position)
            self.group_programs[paths] = (
                cel.compile("[" + ", ".join(f"({c.source}) == true" for c in members) + "]"),
                members,
            )

    def column(
        self,
        path: str,
        offer: Offer,
        customers: Sequence[Mapping[str, object]],
        facts: Sequence[CustomerFacts],
    ) -> list[object]:
        namespace, _, name = path.partition(".")
        if namespace == "customer":
            return [_freeze(c[name]) for c in customers]
        if namespace == "call":
            return [self.call_ns[name]] * len(customers)
        day = self.call.at.date()
        default = offer_namespace(offer, OfferHistory(), day)[name]
        return [
            offer_namespace(offer, f.history.offers[offer.id], day)[name]
            if offer.id in f.history.offers
            else default
            for f in facts
        ]

    def _keys(
        self,
        condition: Condition,
        offer: Offer,
        customers: Sequence[Mapping[str, object]],
        facts: Sequence[CustomerFacts],
        cache: dict[object, Any],
    ) -> list[object]:
        """Each customer's values of the condition's fields, as one hashable key each."""
        own = offer.id if any(p.startswith("offer.") for p in condition.paths) else ""
        cached = ("keys", condition.paths, own)
        if cached in cache:
            return cache[cached]  # type: ignore[no-any-return]
        cols = []
        for path in condition.paths:
            key = ("column", path, offer.id if path.startswith("offer.") else "")
            if key not in cache:
                cache[key] = self.column(path, offer, customers, facts)
            cols.append(cache[key])
        keys: list[object] = list(zip(*cols, strict=True)) if cols else [()] * len(customers)
        cache[cached] = keys
        return keys

    def results(
        self,
        condition: Condition,
        offer: Offer,
        customers: Sequence[Mapping[str, object]],
        facts: Sequence[CustomerFacts],
        cache: dict[object, Any],
    ) -> Bools:
        """Whether the condition holds, for each customer of the batch.

        Args:
            condition: the condition.
            offer: its offer.
            customers: the batch's customer namespaces.
            facts: the batch's facts (offer histories).
            cache: per-batch values shared between conditions (columns, keys, group results).
        """
        keys = self._keys(condition, offer, customers, facts, cache)
        n = len(keys)
        placed = self.place.get(id(condition))
        if placed is not None:
            paths, position = placed
            table_key = ("group", paths)
            if table_key not in cache:
                memo = self.memo.setdefault(paths, {})
                self._fill(memo, keys, lambda key: self._evaluate_group(paths, offer, key))
                width = len(self.group_programs[paths][1])
                cache[table_key] = np.array([memo[k] for k in keys], dtype=np.bool_).reshape(
                    n, width
                )
            column: Bools = cache[table_key][:, position]
            return column
        memo = self.memo.setdefault(id(condition), {})
        self._fill(memo, keys, lambda key: self._evaluate(condition, offer, key))
        return np.fromiter((memo[k] for k in keys), dtype=np.bool_, count=n)

    @staticmethod
    def _fill(
        memo: dict[object, object], keys: list[object], evaluate: Callable[[object], object]
    ) -> None:
        missing = set(keys).difference(memo)
        if len(memo) + len(missing) > MEMO_LIMIT:  # bound memory on continuous fields
            memo.clear()
            missing = set(keys)
        for new in missing:
            memo[new] = evaluate(new)

    @staticmethod
    def _variables(paths: Sequence[str], offer: Offer, key: object) -> dict[str, Any]:
        variables: dict[str, Any] = {"customer": {}, "call": {}, OFFERS_MAP: {offer.id: {}}}
        assert isinstance(key, tuple)
        for path, value in zip(paths, key, strict=True):
            namespace, _, name = path.partition(".")
            target = (
                variables[OFFERS_MAP][offer.id] if namespace == "offer" else variables[namespace]
            )
            target[name] = list(value) if isinstance(value, tuple) else value
        return variables

    def _evaluate(self, condition: Condition, offer: Offer, key: object) -> bool:
        try:
            env = cel.Context(self._variables(condition.paths, offer, key))
            return condition.program.execute(env) is True
        except Exception:  # noqa: BLE001 - a clause that cannot be judged does not hold
            return False

    def _evaluate_group(
        self, paths: tuple[str, ...], offer: Offer, key: object
    ) -> tuple[bool, ...]:
        program, members = self.group_programs[paths]
        env = cel.Context(self._variables(paths, offer, key))
        try:
            return tuple(x is True for x in program.execute(env))
        except Exception:  # noqa: BLE001 - one member failed (a null, say): one at a time
            out = []
            for condition in members:
                try:
                    out.append(condition.program.execute(env) is True)
                except Exception:  # noqa: BLE001 - cannot be judged: does not hold
                    out.append(False)
            return tuple(out)


@dataclass
class _Run:
    rules: RuleSet
    call: CallFacts
    counts: Mapping[str, tuple[int, int]]
    rng: np.random.Generator
    evaluator: _Evaluator
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
        dnc = np.array([f.record.do_not_call for f in facts], dtype=np.bool_)
        no_consent = np.array([not f.record.consent for f in facts], dtype=np.bool_)
        with_history = [
            i for i, f in enumerate(facts) if f.history.offers or f.history.shown_in_window
        ]
        segment = np.array([f.profile.rfm_segment for f in facts], dtype=object)
        tier = np.array([f.profile.tier or "none" for f in facts], dtype=object)
        self.segments.update(segment.tolist())
        self.tiers.update(tier.tolist())
        cache: dict[object, Any] = {}
        eligible = np.zeros((n, len(self.rules.offers)), dtype=np.bool_)
        for k, offer in enumerate(self.rules.offers):
            tally = self.tallies[offer.id]
            reasons = np.full(n, "", dtype=object)
            if not valid_at(offer, self.call.at):
                reasons[:] = "valid"
            else:
                if offer.kind == "marketing" and policy.marketing_requires_consent:
                    reasons[no_consent] = "policy: consent"
                reasons[dnc] = "policy: do not call"
                for i in with_history:
                    if not reasons[i]:
                        reasons[i] = history_block(offer, policy, facts[i].history, self.call.at)
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
        policy = self.rules.policy
        n, m = eligible.shape
        if m == 0:
            return
        accepts = np.array([self.counts.get(o.id, (0, 0))[0] for o in offers], dtype=np.float64)
        declines = np.array([self.counts.get(o.id, (0, 0))[1] for o in offers], dtype=np.float64)
        values = np.array([o.value for o in offers], dtype=np.float64)
        priority = np.array([o.priority for o in offers], dtype=np.float64)
        if policy.arbitration == "thompson":
            alpha = np.array([o.prior.rate * o.prior.weight for o in offers]) + accepts
            beta = np.array([(1 - o.prior.rate) * o.prior.weight for o in offers]) + declines
            score = self.rng.beta(alpha, beta, size=(n, m)) * values
        else:
            rates = np.array([acceptance_rate(o, *self.counts.get(o.id, (0, 0))) for o in offers])
            score = np.broadcast_to(rates * values, (n, m))
        # the same order as core.rules.engine.arbitrate: (-priority, -score) or (-score, -priority),
        # then offer id; lexsort sorts by its last key first
        ids = np.broadcast_to(np.argsort(np.argsort([o.id for o in offers])), (n, m))
        prio = np.broadcast_to(-priority, (n, m))
        keys = (ids, -score, prio) if policy.arbitration == "priority" else (ids, prio, -score)
        order = np.lexsort(keys, axis=1)
        ranked = np.take_along_axis(eligible, order, axis=1)
        room = np.array(
            [max(0, policy.max_impressions_per_customer - f.history.shown_in_window) for f in facts]
        )
        limit = np.minimum(policy.max_offers_per_call, room)[:, None]
        shown_ranked = ranked & (np.cumsum(ranked, axis=1) <= limit)
        shown = np.zeros_like(eligible)
        np.put_along_axis(shown, order, shown_ranked, axis=1)
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
        _Evaluator(rules, call),
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
