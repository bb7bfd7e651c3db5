"""Every write a user or a phone system makes, as the fault-injection suite drives it.

Each `Write` runs through the real services (`make_services`) or the real `frontline`
command, so a fault hits the code a user's keystroke or a phone system's request reaches:

- `prepare` puts in what the write needs (an agent, a customer, calls to score…);
- `once(n)` makes write number n and returns when it is *acknowledged* (the service
  returned, the command said it committed, the API answered 2xx); a write that is not
  acknowledged raises `Refused` with the message the user is given;
- `check(acked)` looks at the database: every acknowledged write must be there (else it is
  *lost*) and nothing may be *half-written* (a call without its interaction, a score without
  its points, a field changed without its history, a customer without its phone…).

The same table drives the tests (tests/faults/test_*.py), the writer process that is killed
mid-write (tests/faults/writer.py) and `python -m benchmarks.fault_suite`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from core.calls.drafts import CallDraft
from core.config import Settings
from core.models import Call, Customer, OfferPresentation, Role
from core.services import Services

FRONTLINE = str(Path(sys.executable).with_name("frontline"))
TOKEN = "fault-token"
AGENT = "fault-agent"
SLOTS = 400
"""Calls to score and offers to answer prepared up front: more than any run writes."""
IMPORT_ROWS = 2_000
"""Rows per import file: enough for a kill to land in the middle of the work."""


class Refused(Exception):
    """The write was not acknowledged; the message is what the user is told."""


@dataclass
class Target:
    """The database under test and where its local files live."""

    url: str
    data_dir: Path
    api_url: str = ""
    """The API's base URL, for the API event (an API in a thread or a `frontline api`)."""
    extra_env: dict[str, str] = field(default_factory=dict)

    def settings(self) -> Settings:
        return Settings(database_url=self.url, data_dir=self.data_dir, api_tokens=(TOKEN,))

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("FRONTLINE_") or key == "FRONTLINE_TEST_PG_URL"
        }
        env.update(
            FRONTLINE_DATABASE_URL=self.url,
            FRONTLINE_DATA_DIR=str(self.data_dir),
            FRONTLINE_API_TOKENS=TOKEN,
            FRONTLINE_TRUST_AGENT_ENV="1",
            FRONTLINE_AGENT="fault-boss",
            FRONTLINE_ADMINS="fault-boss",
            FRONTLINE_LANGUAGE="en",  # the words the suite looks for are English
            **self.extra_env,
        )
        return env


@dataclass
class Verdict:
    """What `check` found: acknowledged writes missing, and rows half-written."""

    lost: list[str] = field(default_factory=list)
    half: list[str] = field(default_factory=list)


async def rows(services: Services, sql: str, **params: Any) -> list[Any]:
    async with services.sessions() as session:
        return list((await session.execute(text(sql), params)).all())


async def _agent(services: Services, name: str = AGENT) -> int:
    """The agent's id, looked up once per services (a console knows its agent from start)."""
    known: dict[str, int] = services.__dict__.setdefault("fault_agents", {})
    if name not in known:
        agent = await services.agents.ensure(name)
        if agent.role != Role.AGENT:
            agent = await services.agents.set_role(name, Role.AGENT)
        assert agent.id is not None
        known[name] = agent.id
    return known[name]


async def _customer(services: Services) -> int:
    found = await rows(services, "SELECT id FROM customer WHERE first_name = 'Zebedee'")
    if found:
        return int(found[0][0])
    customer = await services.customers.create(
        "Zebedee", "Quattrocchi", phones=["+34 600 000 111"], city="Lugo"
    )
    assert customer.id is not None
    return customer.id


def _refused(error: BaseException) -> Refused:
    return Refused(str(error) or type(error).__name__)


class Write:
    """One kind of write; subclasses fill in the three steps."""

    name = ""
    console = False
    """A console write: the terminal closing (SIGHUP) applies to it."""
    command = False
    """A `frontline` command of its own (seconds to start): the suite runs it fewer times."""

    async def prepare(self, target: Target, services: Services) -> None:
        return None

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        """Make write n; returns what the user is told of an acknowledged write kept
        another way (a draft in the local file), if anything."""
        raise NotImplementedError

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        raise NotImplementedError


DRAFT_KEPT_LOCALLY = "kept in the local file"


class DraftWrite(Write):
    """What an agent types, saved as they type (the database, else the local file)."""

    name = "draft"
    console = True

    def draft(self, n: int) -> CallDraft:
        return CallDraft(
            call_id=None,
            customer_id=None,
            caller="Unknown caller",
            caller_number="600000111",
            started_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
            notes=f"note {n} [b]kept[/b]",
            version=n,
        )

    async def prepare(self, target: Target, services: Services) -> None:
        await _agent(services)

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        agent_id = await _agent(services)
        if await services.drafts.save(agent_id, self.draft(n)):
            return None
        # Still acknowledged: the local file has it, and the console says so.
        return DRAFT_KEPT_LOCALLY

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        agent_id = await _agent(services)
        saved = await services.drafts.load(agent_id)
        if not acked:
            return verdict
        if saved is None:
            verdict.lost.append(f"draft: none kept, {max(acked)} acknowledged")
            return verdict
        version = saved.draft.version
        if version < max(acked):
            verdict.lost.append(f"draft: version {version} kept, {max(acked)} acknowledged")
        if saved.draft.notes != self.draft(version).notes:
            verdict.half.append(f"draft {version}: notes {saved.draft.notes!r}")
        return verdict


class SaveCallWrite(Write):
    """The agent's F8: the call's codes and notes, its interaction, the agent available."""

    name = "save call"
    console = True

    async def prepare(self, target: Target, services: Services) -> None:
        agent_id = await _agent(services)
        await services.calls.sign_in(agent_id)
        await _customer(services)

    async def wrap_up(self, services: Services, n: int) -> int:
        """The agent's call in wrap-up, taken if there is none (a restarted console resumes
        the one it had)."""
        agent_id = await _agent(services)
        call = await services.calls.active_call(agent_id)
        if call is None:
            call = await services.calls.start(agent_id, await _customer(services), f"61{n:07}")
        assert call.id is not None
        if call.state != "wrap_up":
            await services.calls.end(call.id)
        return call.id

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        call_id = await self.wrap_up(services, n)
        await services.calls.complete(call_id, "billing", "resolved", f"call {n}")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        calls = await rows(
            services,
            "SELECT c.id, c.state, c.notes, i.notes, "
            "(SELECT count(*) FROM call_event e WHERE e.call_id = c.id) "
            "FROM call c LEFT JOIN interaction i ON i.call_id = c.id",
        )
        completed = {notes for _, state, notes, _, _ in calls if state == "completed"}
        for n in acked:
            if f"call {n}" not in completed:
                verdict.lost.append(f"call {n}")
        for call_id, state, notes, logged, events in calls:
            if state == "completed" and logged != notes:
                verdict.half.append(f"call {call_id} completed, interaction {logged!r}")
            if state != "completed" and logged is not None:
                verdict.half.append(f"call {call_id} {state} with an interaction")
            if not events:
                verdict.half.append(f"call {call_id} without its events")
        return verdict


class OfferAnswerWrite(Write):
    """The customer's answer to an offer shown on the call (accepted or declined)."""

    name = "offer answer"
    console = True

    async def prepare(self, target: Target, services: Services) -> None:
        customer_id = await _customer(services)
        async with services.sessions() as session, session.begin():
            for _ in range(SLOTS):
                session.add(
                    OfferPresentation(customer_id=customer_id, offer_id="fibre", rules_version="1")
                )

    async def slot(self, services: Services, n: int) -> int:
        ids = await rows(services, "SELECT id FROM offer_presentation ORDER BY id")
        return int(ids[n % len(ids)][0])

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        response = "accepted" if n % 2 else "declined"
        await services.offers.record_response(await self.slot(services, n), response, "price")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        shown = await rows(
            services, "SELECT id, response, responded_at FROM offer_presentation ORDER BY id"
        )
        for n in acked:
            _, response, _ = shown[n % len(shown)]
            if response != ("accepted" if n % 2 else "declined"):
                verdict.lost.append(f"offer answer {n}: {response!r}")
        for row_id, response, responded_at in shown:
            if (response is None) != (responded_at is None):
                verdict.half.append(f"offer {row_id}: response {response!r} at {responded_at}")
        return verdict


class QualityScoreWrite(Write):
    """A supervisor's quality score of a logged call."""

    name = "quality score"
    console = True

    async def prepare(self, target: Target, services: Services) -> None:
        agent_id = await _agent(services, "scored-agent")
        now = datetime.now(UTC) - timedelta(hours=1)
        async with services.sessions() as session, session.begin():
            for _ in range(SLOTS):
                session.add(
                    Call(
                        state="completed",
                        agent_id=agent_id,
                        answered_at=now,
                        ended_at=now,
                        wrap_up_ended_at=now,
                    )  # fmt: skip
                )

    def points(self, services: Services, n: int) -> dict[str, int]:
        return {c.name: (n + i) % 2 for i, c in enumerate(services.reviews.criteria)}

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        ids = await rows(services, "SELECT id FROM call WHERE state = 'completed' ORDER BY id")
        call_id = int(ids[n % len(ids)][0])
        await services.reviews.score(call_id, "fault-boss", self.points(services, n), f"q {n}")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        scored = {
            note: (scores, percent)
            for note, scores, percent in await rows(
                services, "SELECT coaching_note, scores, percent FROM quality_score"
            )
        }
        limits = {c.name: c.max_points for c in services.reviews.criteria}
        for n in acked:
            if f"q {n}" not in scored:
                verdict.lost.append(f"score {n}")
        for note, (scores, percent) in scored.items():
            points = json.loads(scores)
            if (
                set(points) != set(limits)
                or abs(percent - 100.0 * sum(points.values()) / sum(limits.values())) > 1e-6
            ):
                verdict.half.append(f"score {note}: {scores} {percent}")
        return verdict


class CustomerEditWrite(Write):
    """A customer's field changed by staff: the field, its history and the search index."""

    name = "customer edit"
    console = True

    async def prepare(self, target: Target, services: Services) -> None:
        await _customer(services)

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        customer_id = await _customer(services)
        await services.customers.update(customer_id, actor="fault-boss", city=f"City {n}")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        customer_id = await _customer(services)
        (city,) = (await rows(services, "SELECT city FROM customer WHERE id = :i", i=customer_id))[
            0
        ]
        history = [
            json.loads(new)
            for (new,) in await rows(
                services,
                "SELECT new FROM field_history WHERE customer_id = :i AND field = 'city' "
                "ORDER BY id",
                i=customer_id,
            )
        ]
        for n in acked:
            if f"City {n}" not in history:
                verdict.lost.append(f"edit {n}")
        if acked and (city or "").removeprefix("City ").isdigit():
            if int(city.removeprefix("City ")) < max(acked):
                verdict.lost.append(f"edit {max(acked)}: the customer still says {city}")
        if (history[-1] if history else "Lugo") != city:
            verdict.half.append(f"city {city!r} but the history's last change {history[-1:]}")
        return verdict


class ApiEventWrite(Write):
    """A phone system's event through the HTTP API (a call queued, with its key)."""

    name = "API event"

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        body = {"caller_number": f"62{n:07}", "external_id": f"api-{n}"}
        headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": f"api-{n}-queued"}
        try:
            async with httpx.AsyncClient(base_url=target.api_url, timeout=30) as client:
                answer = await client.post("/v1/calls/queued", json=body, headers=headers)
        except httpx.HTTPError as error:
            raise Refused(f"{type(error).__name__}: {error}") from error
        if answer.status_code not in (200, 201):
            retry = answer.headers.get("Retry-After", "")
            raise Refused(f"{answer.status_code} Retry-After={retry}: {answer.text}")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        found = await rows(
            services,
            "SELECT r.external_id, c.caller_number, "
            "(SELECT count(*) FROM call_event e WHERE e.call_id = c.id) "
            "FROM call_reference r JOIN call c ON c.id = r.call_id",
        )
        stored = {external: number for external, number, _ in found}
        for n in acked:
            if stored.get(f"api-{n}") != f"62{n:07}":
                verdict.lost.append(f"API event {n}")
        verdict.half += [f"{external}: no call_event" for external, _, count in found if not count]
        return verdict


def run_cli(target: Target, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FRONTLINE, *args], env=target.env(), capture_output=True, text=True, timeout=timeout
    )


def import_file(target: Target, n: int) -> Path:
    """The customers file of import number n (its own customer numbers)."""
    path = target.data_dir / f"import-{n}.csv"
    if not path.exists():
        lines = ["external_id,first_name,last_name,city,phone"]
        lines += [
            f"I{n:03}-{i:05},Nerea{i % 97},Ibarra{i % 89},Soria,+34 7{n:02}{i:06}"
            for i in range(IMPORT_ROWS)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class ImportBatchWrite(Write):
    """`frontline import customers FILE`: each batch whole, what it reports committed kept."""

    name = "import batch"
    command = True

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        done = run_cli(target, "import", "customers", str(import_file(target, n)))
        if done.returncode != 0:
            raise Refused(done.stderr.strip() or f"exit {done.returncode}")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        counts = {
            prefix: (customers, phones)
            for prefix, customers, phones in await rows(
                services,
                "SELECT substr(c.external_id, 1, 4), count(DISTINCT c.id), count(p.id) "
                "FROM customer c LEFT JOIN contact_point p "
                "ON p.customer_id = c.id AND p.kind = 'phone' "
                "WHERE c.external_id LIKE 'I%' GROUP BY substr(c.external_id, 1, 4)",
            )
        }
        for n in acked:
            if counts.get(f"I{n:03}", (0, 0))[0] != IMPORT_ROWS:
                verdict.lost.append(f"import {n}: {counts.get(f'I{n:03}')} of {IMPORT_ROWS}")
        for prefix, (customers, phones) in counts.items():
            if customers != phones:
                verdict.half.append(f"{prefix}: {customers} customers, {phones} phones")
        return verdict


class IndexRebuildWrite(Write):
    """`frontline search --reindex`: the index whole before, during and after."""

    name = "index rebuild"
    command = True

    async def prepare(self, target: Target, services: Services) -> None:
        await _customer(services)
        async with services.sessions() as session, session.begin():
            for i in range(300):
                session.add(Customer(external_id=f"R{i:05}", first_name=f"Olalla{i}",
                                     last_name="Rebollo"))  # fmt: skip

    async def once(self, target: Target, services: Services, n: int) -> str | None:
        done = run_cli(target, "search", "--reindex")
        if done.returncode != 0:
            raise Refused(done.stderr.strip() or f"exit {done.returncode}")

    async def check(self, target: Target, services: Services, acked: list[int]) -> Verdict:
        verdict = Verdict()
        hits = await services.search.search("zebedee quattrocchi", 5)
        if not any(hit.name.startswith("Zebedee") for hit in hits):
            verdict.half.append("the index lost Zebedee Quattrocchi")
        if acked:
            found = await services.search.search("olalla299 rebollo", 5)
            if not any(hit.name == "Olalla299 Rebollo" for hit in found):
                verdict.lost.append("a rebuild was acknowledged, its customers not found")
        return verdict


WRITES: dict[str, Write] = {
    write.name: write
    for write in (
        DraftWrite(),
        SaveCallWrite(),
        OfferAnswerWrite(),
        QualityScoreWrite(),
        CustomerEditWrite(),
        ImportBatchWrite(),
        ApiEventWrite(),
        IndexRebuildWrite(),
    )
}
"""Every write, by name: the rows of the suite's matrix."""

Step = Callable[[], Awaitable[None]]
