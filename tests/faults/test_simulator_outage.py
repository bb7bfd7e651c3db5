"""`frontline simulate` through a database outage: the API answers 503 with Retry-After for
longer than the simulator's old ~4 s of retries; the simulator waits what Retry-After says and
keeps trying within its budget, so no call is left unfinished."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from console.commands.simulate import SimConfig, Simulator, retry_wait

OUTAGE_TRIES = 8
"""503s each event gets before the database is back (8 × Retry-After: 1 = 8 s of outage)."""


def outage_api(tries: Counter[str]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        tries[key] += 1
        if tries[key] <= OUTAGE_TRIES:
            return httpx.Response(
                503, headers={"Retry-After": "1"}, json={"detail": "database unavailable"}
            )
        return httpx.Response(201, json={"event_id": tries.total()})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://127.0.0.1")


def simulator(client: httpx.AsyncClient, waits: list[float], **config: float) -> Simulator:
    sim = Simulator(SimConfig(url="http://127.0.0.1", token="t", **config), client)  # type: ignore[arg-type]

    async def pause(seconds: float) -> None:  # the test does not wait the seconds out
        waits.append(seconds)

    sim._pause = pause  # type: ignore[method-assign]
    return sim


def test_an_event_during_an_outage_waits_retry_after_and_is_applied_once_it_ends() -> None:
    tries: Counter[str] = Counter()
    waits: list[float] = []

    async def run() -> bool:
        async with outage_api(tries) as client:
            sim = simulator(client, waits)
            applied = await sim.send("/v1/calls/queued", {"external_id": "sim-1"})
            assert sim.summary.errors == 0 and sim.summary.events_applied == 1
            return applied

    assert asyncio.run(run())
    assert waits == [1.0] * OUTAGE_TRIES  # what the API asked for, each time
    assert list(tries.values()) == [OUTAGE_TRIES + 1]  # one key: the same event, applied once


def test_an_outage_longer_than_the_budget_is_an_error_that_says_so() -> None:
    tries: Counter[str] = Counter()
    waits: list[float] = []

    async def run() -> list[str]:
        async with outage_api(tries) as client:
            sim = simulator(client, waits, retry_budget=0.5)
            assert not await sim.send("/v1/calls/queued", {"external_id": "sim-1"})
            assert sim.summary.errors == 1
            return sim.summary.error_samples

    (said,) = asyncio.run(run())
    assert "503" in said and "gave up after 0.5 s of retries" in said


def test_the_wait_is_retry_after_capped_or_a_doubling_back_off() -> None:
    assert retry_wait("3", 0) == 3.0
    assert retry_wait("3600", 0) == 10.0  # capped: the next try is never far off
    assert retry_wait(None, 0) == 0.2 and retry_wait(None, 2) == 0.8 and retry_wait(None, 9) == 5.0
    assert retry_wait("Wed, 21 Oct 2026 07:28:00 GMT", 1) == 0.4
