"""OfferService: the best offers for the customer on the line, and what they answered.

Every offer shown is recorded as an `offer_presentation` row with the rules version, so that
the answers agents record teach the acceptance rates that arbitration ranks by.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from core.analytics.service import AnalyticsService
from core.config import Settings
from core.db import publish_change
from core.errors import CustomerNotFound as CustomerNotFound  # re-exported: callers import it here
from core.models import Call, Customer, OfferPresentation, OfferResponse
from core.rules.arbitration import Choice, acceptance_rate, arbitrate
from core.rules.engine import OUT_OF_TIME, CallFacts, decide, explain, offer_namespace
from core.rules.facts import (
    CustomerRecord,
    customer_namespace,
    offer_histories,
    open_complaints,
    response_counts,
)
from core.rules.history import CustomerHistory, OfferHistory
from core.rules.policy import Clause
from core.rules.ruleset import RuleSet
from core.rules.store import RulesStore

COUNTS_TTL_SECONDS = 30.0
"""Rates learnt from other consoles' answers are at most this old."""
EVALUATION_BUDGET_SECONDS = 0.5
"""How long one customer's conditions may run; past it the customer gets no offer."""

log = logging.getLogger(__name__)


class PresentationNotFound(LookupError):
    """No offer presentation has that id."""


class InvalidResponse(ValueError):
    """The response is not accepted, declined or not_offered."""


@dataclass(frozen=True)
class OfferProposal:
    """An offer to make now, with the script filled in and why it was chosen."""

    presentation_id: int | None
    """The offer_presentation row recording it; None for a preview that recorded nothing."""
    offer_id: str
    title: str
    script: str
    value: float
    rules_version: str
    explanation: list[Clause]
    """(clause name, expression, passed, value seen): validity, policy, then each condition."""
    rate: float
    """The acceptance rate it was ranked by (a sampled one under Thompson sampling)."""
    score: float
    """rate × value."""
    kind: str = "marketing"


@dataclass(frozen=True)
class OfferRate:
    """How an offer has done: the supervisor's view."""

    offer_id: str
    title: str
    shown: int
    accepted: int
    declined: int
    not_offered: int
    rate: float
    """Learnt acceptance rate (prior and answers)."""


class OfferService:
    """Next best offers for the console, the command line and the HTTP API."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings | None,
        analytics: AnalyticsService,
        store: RulesStore | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings or Settings()
        self.store = store or RulesStore(self._settings.rules_file or None)
        self._analytics = analytics  # the configured one (make_services), shared
        self._rng = rng or random.Random()
        zone = ZoneInfo(self._settings.timezone) if self._settings.timezone else None
        self._clock = clock or (lambda: datetime.now(zone) if zone else datetime.now().astimezone())
        self._counts: Mapping[str, tuple[int, int]] = {}
        self._counts_at = float("-inf")

    def _now_utc(self) -> datetime:
        # What is written is stamped by the same clock that decides (cooldowns, caps), so
        # a service given a clock never mixes it with the wall clock.
        return self._clock().astimezone(UTC)

    @property
    def decline_reasons(self) -> tuple[str, ...]:
        return self.store.rules.policy.decline_reasons

    async def _response_counts(self, session: AsyncSession) -> Mapping[str, tuple[int, int]]:
        if time.monotonic() - self._counts_at > COUNTS_TTL_SECONDS:
            self._counts = await response_counts(session)
            self._counts_at = time.monotonic()
        return self._counts

    async def best_offers(
        self,
        customer_id: int,
        call_reason: str = "",
        call_id: int | None = None,
        agent_id: int | None = None,
        record: bool = True,
    ) -> list[OfferProposal]:
        """The offers to make to this customer now, best first, each recorded as shown.

        Args:
            customer_id: the customer's database id.
            call_reason: the call's reason code, if the agent has chosen one.
            call_id: the call, whose queue (and reason, when not given) the rules may read.
            agent_id: the agent shown the offers.
            record: store each offer as an offer_presentation (False: a preview).

        Returns:
            At most the policy's offers per call. Raises CustomerNotFound.
        """
        await asyncio.to_thread(self.store.check)  # a changed file is read and compiled
        rules = self.store.rules
        now = self._clock()
        day = now.date()
        async with self._sessions() as session:
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise CustomerNotFound(f"no customer with id {customer_id}")
            queue = ""
            if call_id is not None:
                call = await session.get(Call, call_id)
                if call is not None:
                    queue = call.queue
                    call_reason = call_reason or call.reason
            histories = await offer_histories(
                session, [customer_id], now, rules.policy.impression_window_days,
                exclude_call=call_id,
            )  # fmt: skip
            answered: set[str] = set()
            if call_id is not None:  # answered on this call: not again, and they use up room
                answered = set(
                    (
                        await session.execute(
                            select(col(OfferPresentation.offer_id)).where(
                                col(OfferPresentation.call_id) == call_id,
                                col(OfferPresentation.customer_id) == customer_id,
                                col(OfferPresentation.response).is_not(None),
                                col(OfferPresentation.response) != OfferResponse.NOT_OFFERED,
                            )
                        )
                    ).scalars()
                )
            complaints = await open_complaints(session, [customer_id], day)
            counts = await self._response_counts(session)
        profile = await self._analytics.profile(customer_id, as_of=day)
        history = histories.get(customer_id) or CustomerHistory()
        record_ = CustomerRecord.of(customer)
        namespace = customer_namespace(
            record_, profile, history, complaints.get(customer_id, 0), day
        )
        call_facts = CallFacts(at=now, reason=call_reason, queue=queue)
        # CEL holds the GIL, so a worker thread alone would not keep the console responsive:
        # each condition's cost is bounded at load, and the deadline bounds them all.
        proposals = await asyncio.to_thread(
            self._choose, rules, namespace, call_facts, history, answered, counts
        )
        if record and proposals:
            proposals = await self._record(proposals, customer_id, call_id, agent_id)
        return proposals

    def _choose(
        self, rules: RuleSet, namespace: dict[str, object], call_facts: CallFacts,
        history: CustomerHistory, answered: set[str], counts: Mapping[str, tuple[int, int]],
    ) -> list[OfferProposal]:  # fmt: skip
        deadline = time.monotonic() + EVALUATION_BUDGET_SECONDS
        decisions = decide(
            rules, namespace, call_facts, history, only_eligible=True, deadline=deadline
        )
        if any(d.blocked == OUT_OF_TIME for d in decisions):
            # half-judged rules would favour the offers early in the file: none rather
            log.warning(
                "no offer: the rules %s took longer than %.1f s for customer %s",
                rules.version, EVALUATION_BUDGET_SECONDS, namespace.get("id", "?"),
            )  # fmt: skip
            return []
        decisions = [d for d in decisions if d.offer.id not in answered]
        policy = rules.policy
        if answered:
            room = max(0, policy.max_offers_per_call - len(answered))
            policy = replace(policy, max_offers_per_call=room)
        chosen = arbitrate(decisions, policy, counts, history, self._rng)
        return [self._proposal(c, namespace, call_facts, history, rules.version) for c in chosen]

    def _proposal(self, choice: Choice, customer: dict[str, object], call: CallFacts,
                  history: CustomerHistory, version: str) -> OfferProposal:  # fmt: skip
        offer = choice.decision.offer
        past = history.offers.get(offer.id, OfferHistory())
        context = {
            "customer": customer,
            "call": call.namespace(),
            "offer": offer_namespace(offer, past, call.at.date()),
        }
        return OfferProposal(
            presentation_id=None, offer_id=offer.id, title=offer.title,
            script=offer.script.fill(context), value=offer.value, rules_version=version,
            explanation=list(
                choice.decision.clauses
                or explain(offer, self.store.rules.policy, customer, call, history)
            ), rate=choice.rate, score=choice.score,
            kind=offer.kind,
        )  # fmt: skip

    async def _record(
        self, proposals: list[OfferProposal], customer_id: int, call_id: int | None,
        agent_id: int | None,
    ) -> list[OfferProposal]:  # fmt: skip
        async with self._sessions() as session, session.begin():
            shown: dict[str, OfferPresentation] = {}
            if call_id is not None:  # asked again during the same call: the same rows
                earlier = await session.execute(
                    select(OfferPresentation).where(
                        col(OfferPresentation.call_id) == call_id,
                        col(OfferPresentation.customer_id) == customer_id,
                        col(OfferPresentation.response).is_(None),
                    )
                )
                shown = {row.offer_id: row for row in earlier.scalars()}
            shown_at = self._now_utc()
            rows = [
                shown.get(p.offer_id)
                or OfferPresentation(
                    customer_id=customer_id, call_id=call_id, agent_id=agent_id,
                    offer_id=p.offer_id, rules_version=p.rules_version, presented_at=shown_at,
                )
                for p in proposals
            ]  # fmt: skip
            session.add_all(rows)
            await session.flush()
            await publish_change(session, "offer", str(customer_id))
        return [
            OfferProposal(**{**p.__dict__, "presentation_id": row.id})
            for p, row in zip(proposals, rows, strict=True)
        ]

    async def record_response(
        self, presentation_id: int, response: str, decline_reason: str = ""
    ) -> None:
        """Store the customer's answer to an offer shown.

        Args:
            presentation_id: the offer_presentation row (OfferProposal.presentation_id).
            response: accepted, declined, or not_offered (the agent did not make the offer).
            decline_reason: why it was declined (one of the policy's decline reasons, or text).

        Raises:
            InvalidResponse, PresentationNotFound.
        """
        if response not in {r.value for r in OfferResponse}:
            raise InvalidResponse(
                f"response must be accepted, declined or not_offered: {response!r}"
            )
        async with self._sessions() as session, session.begin():
            row = await session.get(OfferPresentation, presentation_id)
            if row is None:
                raise PresentationNotFound(f"no offer presentation {presentation_id}")
            row.response = response
            row.decline_reason = decline_reason.strip()[:100] if response == "declined" else ""
            row.responded_at = self._now_utc()
            await publish_change(session, "offer", str(row.customer_id))
        self._counts_at = float("-inf")  # learn from it at the next offer

    async def unanswered(self, call_id: int) -> list[OfferPresentation]:
        """Offers shown on this call with no answer recorded yet (wrap-up warns about them)."""
        async with self._sessions() as session:
            result = await session.execute(
                select(OfferPresentation).where(
                    col(OfferPresentation.call_id) == call_id,
                    col(OfferPresentation.response).is_(None),
                )
            )
            return list(result.scalars())

    async def rates(self) -> list[OfferRate]:
        """Each offer of the rules in use with its answers so far and its learnt rate."""
        await asyncio.to_thread(self.store.check)
        query = select(
            col(OfferPresentation.offer_id), col(OfferPresentation.response), func.count()
        ).group_by(col(OfferPresentation.offer_id), col(OfferPresentation.response))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        tally: dict[str, dict[str | None, int]] = {}
        for offer_id, response, count in rows:
            tally.setdefault(offer_id, {})[response] = int(count)
        out = []
        for offer in self.store.rules.offers:
            t = tally.get(offer.id, {})
            accepted, declined = t.get("accepted", 0), t.get("declined", 0)
            out.append(
                OfferRate(
                    offer.id, offer.title, sum(t.values()), accepted, declined,
                    t.get("not_offered", 0), acceptance_rate(offer, accepted, declined),
                )
            )  # fmt: skip
        return out
