"""Judge every offer for one customer on one call: validity, contact policy, conditions, then
arbitration. Pure: the facts come in, decisions with their explanations go out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import cel

from core.rules.expressions import OFFERS_MAP, Condition
from core.rules.ruleset import Offer, Policy, RuleSet

MAX_SEEN_LENGTH = 300


class Clause(NamedTuple):
    """One line of an offer's explanation: a check, and what it saw."""

    name: str
    expression: str
    passed: bool
    seen: str


@dataclass(frozen=True)
class OfferHistory:
    """One offer's past with one customer."""

    shown: int = 0
    accepted: int = 0
    declined: int = 0
    last_response: str = ""
    last_shown: datetime | None = None
    last_declined: datetime | None = None
    shown_in_window: int = 0


@dataclass(frozen=True)
class CustomerHistory:
    """Every offer shown to one customer, by offer id."""

    offers: Mapping[str, OfferHistory] = field(default_factory=dict)
    shown_in_window: int = 0
    """Offers of any kind shown within the policy's impression window."""
    last_offer_at: datetime | None = None


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


@dataclass(frozen=True)
class Choice:
    """An eligible offer picked by arbitration, with the rate and score it was ranked by."""

    decision: Decision
    rate: float
    score: float


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


def _validity(offer: Offer, at: datetime) -> Clause | None:
    if offer.valid_from is None and offer.valid_until is None and offer.hours is None:
        return None
    parts, ok = [], True
    if offer.valid_from or offer.valid_until:
        start = offer.valid_from.isoformat() if offer.valid_from else "…"
        end = offer.valid_until.isoformat() if offer.valid_until else "…"
        parts.append(f"{start} to {end}")
        ok &= offer.valid_from is None or at.date() >= offer.valid_from
        ok &= offer.valid_until is None or at.date() <= offer.valid_until
    if offer.hours:
        low, high = offer.hours
        parts.append(f"{low // 60:02d}:{low % 60:02d}-{high // 60:02d}:{high % 60:02d}")
        minute = at.hour * 60 + at.minute
        ok &= low <= minute < high
    return Clause("valid", " ".join(parts), ok, f"now = {at:%Y-%m-%d %H:%M}")


def _policy(
    offer: Offer,
    policy: Policy,
    customer: Mapping[str, object],
    history: CustomerHistory,
    at: datetime,
) -> list[Clause]:
    own = history.offers.get(offer.id, OfferHistory())
    clauses = [
        Clause(
            "policy: do not call",
            "!customer.do_not_call",
            not customer["do_not_call"],
            f"customer.do_not_call = {json.dumps(customer['do_not_call'])}",
        ),
    ]
    if offer.kind == "marketing" and policy.marketing_requires_consent:
        clauses.append(
            Clause(
                "policy: consent",
                "customer.consent",
                bool(customer["consent"]),
                f"customer.consent = {json.dumps(customer['consent'])}",
            )
        )
    cooldown = policy.decline_cooldown_days if offer.cooldown_days is None else offer.cooldown_days
    if cooldown:
        last = own.last_declined
        recent = last is not None and last >= at - timedelta(days=cooldown)
        seen = "never declined" if last is None else f"last declined {last:%Y-%m-%d}"
        clauses.append(
            Clause(
                "policy: decline cooldown",
                f"no decline in the last {cooldown} days",
                not recent,
                seen,
            )
        )
    window = policy.impression_window_days
    cap = (
        policy.max_impressions_per_offer if offer.max_impressions is None else offer.max_impressions
    )
    clauses.append(
        Clause(
            "policy: offer impressions",
            f"shown fewer than {cap} times in {window} days",
            own.shown_in_window < cap,
            f"shown {own.shown_in_window}",
        )
    )
    total = policy.max_impressions_per_customer
    clauses.append(
        Clause(
            "policy: customer impressions",
            f"fewer than {total} offers in {window} days",
            history.shown_in_window < total,
            f"shown {history.shown_in_window}",
        )
    )
    return clauses


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


def valid_at(offer: Offer, at: datetime) -> bool:
    """The offer's dates and hours allow it at `at` (local time)."""
    if offer.valid_from and at.date() < offer.valid_from:
        return False
    if offer.valid_until and at.date() > offer.valid_until:
        return False
    if offer.hours:
        minute = at.hour * 60 + at.minute
        return offer.hours[0] <= minute < offer.hours[1]
    return True


def history_block(offer: Offer, policy: Policy, history: CustomerHistory, at: datetime) -> str:
    """The policy rule the customer's offer history breaks, or ""."""
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


def policy_block(
    offer: Offer, policy: Policy, customer: Mapping[str, object], history: CustomerHistory,
    at: datetime,
) -> str:  # fmt: skip
    """The first validity or policy check the offer fails for this customer, or "".

    The same checks, in the same order, as the clauses `explain` lists.
    """
    if not valid_at(offer, at):
        return "valid"
    if customer["do_not_call"]:
        return "policy: do not call"
    if offer.kind == "marketing" and policy.marketing_requires_consent and not customer["consent"]:
        return "policy: consent"
    if history.offers or history.shown_in_window:
        return history_block(offer, policy, history, at)
    return ""


def _offers_namespaces(
    offers: Iterable[Offer], history: CustomerHistory, today: date, reads: frozenset[str]
) -> dict[str, dict[str, object]]:
    return {
        offer.id: offer_namespace(offer, history.offers.get(offer.id, OfferHistory()), today)
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
) -> list[Decision]:
    """Judge every offer of `rules` for one customer.

    Policy and validity are checked first; an offer's conditions stop at the first that does
    not hold. Explanations cost more than the judging, so they are built only for the offers
    chosen (`explain`), or for all with `explain_all`.

    Args:
        rules: the loaded rules.
        customer: the `customer` namespace (see core.rules.schema.CUSTOMER).
        call: the call.
        history: the customer's past offers.
        explain_all: give every decision its clauses (and every failed condition).
        only_eligible: leave out the offers that are not eligible (what a call needs).

    Returns:
        One decision per offer, in file order.
    """
    if explain_all:
        out = []
        for offer in rules.offers:
            clauses = explain(offer, rules.policy, customer, call, history)
            blocked = next((c.name for c in clauses if not c.passed), "")
            names = {c.name for c in offer.conditions}
            failures = tuple(c.name for c in clauses if not c.passed and c.name in names)
            out.append(Decision(offer, clauses, blocked, failures))
        return out
    policy = rules.policy
    if customer["do_not_call"]:  # never: nothing else to judge
        return (
            [] if only_eligible else [Decision(o, (), "policy: do not call") for o in rules.offers]
        )
    consent = bool(customer["consent"]) or not policy.marketing_requires_consent
    with_history = bool(history.offers or history.shown_in_window)
    valid = _valid_mask(rules, call.at)
    env: Any = None
    decisions = []
    for k, offer in enumerate(rules.offers):
        if not valid[k]:
            blocked = "valid"
        elif not consent and offer.kind == "marketing":
            blocked = "policy: consent"
        elif with_history:
            blocked = history_block(offer, policy, history, call.at)
        else:
            blocked = ""
        failed: tuple[str, ...] = ()
        if not blocked:
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
                    blocked, failed = condition.name, (condition.name,)
                    break
        if not (only_eligible and blocked):
            decisions.append(Decision(offer, (), blocked, failed))
    return decisions


_VALID: dict[tuple[int, str, date, int], list[bool]] = {}


def _valid_mask(rules: RuleSet, at: datetime) -> list[bool]:
    """valid_at for every offer, remembered for the minute (the same for every customer)."""
    key = (id(rules), rules.version, at.date(), at.hour * 60 + at.minute)
    mask = _VALID.get(key)
    if mask is None:
        if len(_VALID) > 64:
            _VALID.clear()
        mask = _VALID[key] = [valid_at(offer, at) for offer in rules.offers]
    return mask


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
    clauses: list[Clause] = []
    validity = _validity(offer, call.at)
    if validity is not None:
        clauses.append(validity)
    clauses.extend(_policy(offer, policy, customer, history, call.at))
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
