"""Conditions over a batch of customers: CEL once per distinct combination of the values a
condition reads (most read a few fields with few values: products, tier, segment), memoised
across batches; the batch's results become a numpy column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cel
import numpy as np
from numpy.typing import NDArray

from core.rules.bulk import CustomerFacts
from core.rules.engine import CallFacts, offer_namespace
from core.rules.expressions import OFFERS_MAP, Condition
from core.rules.history import NO_HISTORY
from core.rules.ruleset import Offer, RuleSet

Bools = NDArray[np.bool_]

MEMO_LIMIT = 500_000
"""Distinct value combinations remembered per condition (bounds memory on continuous fields)."""


def _freeze(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class Evaluator:
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
        default = offer_namespace(offer, NO_HISTORY, day)[name]
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
