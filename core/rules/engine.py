"""Judge every offer for one customer on one call: validity and the contact policy (the checks
of core.rules.policy), then the offer's own conditions. Pure: the facts come in, decisions with
their explanations go out; core.rules.arbitration then picks among the eligible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import cel

from core.rules.expressions import OFFERS_MAP, Condition
from core.rules.history import NO_HISTORY, CustomerHistory, OfferHistory
from core.rules.policy import Clause, Subject, blocked_offers, explain_checks
from core.rules.ruleset import Offer, Policy, RuleSet

__all__ = ["CallFacts", "Clause", "CustomerHistory", "Decision", "OfferHistory", "decide"]

MAX_SEEN_LENGTH = 300
OUT_OF_TIME = "time budget"
"""The reason of offers not judged because the budget ran out (see `decide`'s deadline)."""
OUT_OF_TIME_TEXT = "not judged: the rules took longer than their time budget for this customer"


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


@dataclass(slots=True)
class Decision:
    """What the engine thought of one offer for this customer (slots, not frozen: the engine
    makes hundreds per call)."""

    offer: Offer
    clauses: tuple[Clause, ...]
    blocked: str = ""
    """Empty when eligible; else the first failing check (policy name or condition name)."""
    failed: tuple[str, ...] = ()
    """Names of the offer's own conditions that did not hold."""

    @property
    def eligible(self) -> bool:
        return not self.blocked


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


def _offers_namespaces(
    offers: Iterable[Offer], history: CustomerHistory, today: date, reads: frozenset[str]
) -> dict[str, dict[str, object]]:
    return {
        offer.id: offer_namespace(offer, history.offers.get(offer.id, NO_HISTORY), today)
        for offer in offers
        if offer.id in reads
    }


def decide(
    rules: RuleSet,
    customer: Mapping[str, object],
    call: CallFacts,
    history: CustomerHistory,
    explain_all: bool = False,
    only_eligible: bool = False,
    deadline: float | None = None,
) -> list[Decision]:
    """Judge every offer of `rules` for one customer.

    Validity and policy are checked first; an offer's conditions stop at the first that does
    not hold. Explanations cost more than the judging, so they are built only for the offers
    chosen (`explain`), or for all with `explain_all`.

    Args:
        rules: the loaded rules.
        customer: the `customer` namespace (see core.rules.schema.CUSTOMER).
        call: the call.
        history: the customer's past offers.
        explain_all: give every decision its clauses (and every failed condition).
        only_eligible: leave out the offers that are not eligible (what a call needs).
        deadline: a `time.monotonic()` after which no more conditions are run: the offers
            left are not eligible, blocked by OUT_OF_TIME (each condition's cost is bounded
            at load, so this bounds the whole).

    Returns:
        One decision per offer, in file order.
    """
    if explain_all:
        out = []
        for offer in rules.offers:
            clauses = explain(offer, rules.policy, customer, call, history)
            first = next((c.name for c in clauses if not c.passed), "")
            names = {c.name for c in offer.conditions}
            failures = tuple(c.name for c in clauses if not c.passed and c.name in names)
            out.append(Decision(offer, clauses, first, failures))
        return out
    who = Subject.of(customer, history, call.at)
    env: Any = None
    decisions = []
    for offer, reason in zip(rules.offers, blocked_offers(rules, who), strict=True):
        failed: tuple[str, ...] = ()
        if not reason and deadline is not None and time.monotonic() > deadline:
            timed_out = Clause(OUT_OF_TIME, "", False, OUT_OF_TIME_TEXT)
            decisions.append(Decision(offer, (timed_out,), OUT_OF_TIME, ()))
            continue
        if not reason:
            for condition in offer.conditions:
                if env is None:
                    offers_ns = _offers_namespaces(
                        rules.offers, history, call.at.date(), rules.reads_history
                    )
                    variables = cel_variables(rules.paths, customer, call.namespace(), offers_ns)
                    env = cel.Context(variables)
                try:
                    passed = condition.program.execute(env) is True
                except Exception:  # noqa: BLE001 - a clause that cannot be judged does not hold
                    passed = False
                if not passed:
                    reason, failed = condition.name, (condition.name,)
                    break
        if not (only_eligible and reason):
            decisions.append(Decision(offer, (), reason, failed))
    return decisions


def explain(
    offer: Offer,
    policy: Policy,
    customer: Mapping[str, object],
    call: CallFacts,
    history: CustomerHistory,
) -> tuple[Clause, ...]:
    """Every check of one offer for this customer, with the values it saw.

    Returns:
        Validity (when the offer has dates or hours), the policy checks, then each condition.
    """
    clauses = explain_checks(offer, policy, Subject.of(customer, history, call.at))
    call_ns = call.namespace()
    reads = frozenset({offer.id})
    offers_ns = _offers_namespaces([offer], history, call.at.date(), reads)
    paths = {p for c in offer.conditions for p in c.paths}
    env = cel.Context(cel_variables(paths, customer, call_ns, offers_ns))
    view = {"customer": customer, "call": call_ns, "offer": offers_ns.get(offer.id) or {}}
    for condition in offer.conditions:
        passed, problem = _run(condition, env)
        seen = _seen(view, condition.paths)
        clauses.append(
            Clause(
                condition.name, condition.source, passed, f"{seen} ({problem})" if problem else seen
            )
        )
    return tuple(clauses)
