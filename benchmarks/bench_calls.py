"""Calls through `frontline api`: a burst of requests, and the simulator with many consoles.

    .venv/bin/python -m benchmarks.bench_calls burst [--db sqlite|postgresql] [--requests 1000]
        [--lifecycle]
    .venv/bin/python -m benchmarks.bench_calls load  [--db sqlite|postgresql] [--consoles 50]
        [--duration 600] [--rate 2] [--processes 5] [--warmup 30] [--api-workers 1]
        [--floor-seconds 60]

Both start a real `frontline api` (uvicorn, one process) on loopback, on a fresh database:
a SQLite file in a temporary directory, or a new PostgreSQL database created next to
FRONTLINE_TEST_PG_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres).

burst: N `queued` events, each due at its own instant spread evenly over one second, each
with an Idempotency-Key and retried with it on 503 or a dropped connection. Latency runs from
the instant a request was due to its answer. Afterwards the database must hold exactly N
calls and N events: "lost" is N minus what is stored. With --lifecycle each call then goes
through offered, answered, ended and completed (in order, with their times), one agent per
call: the general path of the state machine, not only the new-call fast path; latency is then
per event and the database must hold 5 events per call.

load: `frontline simulate` traffic (Poisson arrivals at --rate calls/s, impatient callers,
log-normal handle times, one simulated agent per console) while --consoles agent consoles
follow the change feed in --processes worker processes, each running the console's own screen
pop code (console.screen_pop.OfferWatcher over core.db.ChangeFeed) and the caller look-up
(SearchService.by_phone) for every call offered to its agents; one worker also recomputes
the supervisor's queue and team figures (QueueService) on every change. The consoles of one
process share one change-feed connection (the test PostgreSQL allows 100 connections; a
deployment of 200 separate console processes needs max_connections of about 450, or a
pooler). Checks: every event the API stored is in call_event, every offer popped exactly
once at its agent, zero errors anywhere; reports API p99 and pop latency, and "steady": the
latency after the first --warmup seconds of arrivals and before the wind-down (when the
simulator hangs up every waiting caller and signs every agent out at once: that burst is
reported apart, as "wind_down"), the API's own time (Server-Timing) and the CPU
seconds of the API's processes per request, each beside the floor's in the same run
(`steady_p99_to_floor`, `cpu_to_floor`). BENCH_API_ROOT=DIR runs the API of another checkout
(e.g. `git archive` of the parent commit) for a before/after in one session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.postgres import drop_database, recreate_database
from console.commands.simulate import SimConfig
from core.db import make_engine, make_sessions, upgrade_database
from core.models import Call, CallEvent, CallReference

ROOT = Path(__file__).resolve().parent.parent
API_ROOT = Path(os.environ.get("BENCH_API_ROOT", ROOT))
"""Where `frontline api` is run from: BENCH_API_ROOT, to time another checkout's API."""
TOKEN = "bench-" + uuid.uuid4().hex[:12]
PG_ADMIN_URL = os.environ.get(
    "FRONTLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A new, migrated database URL of this kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-calls-") as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'frontline.db'}"
            upgrade_database(url)
            yield url
        return
    name = f"frontline_bench_calls_{os.getpid()}"
    url = asyncio.run(recreate_database(PG_ADMIN_URL, name))
    try:
        upgrade_database(url)
        yield url
    finally:
        asyncio.run(drop_database(PG_ADMIN_URL, name))


_PIDS: dict[str, int] = {}
"""The server process behind each base URL api_server yielded (for its CPU time)."""


@contextmanager
def api_server(url: str, floor: bool = False, workers: int = 1) -> Iterator[str]:
    """`frontline api` (or, with `floor`, the bare insert route of benchmarks.floor_api) on a
    free loopback port, with `workers` processes; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_API_TOKENS": TOKEN,
        "FRONTLINE_ENV_FILE": "/nonexistent",
    }
    command = ["-m", "console.cli", "api", "--port", str(port)]
    command += ["--workers", str(workers)] if workers > 1 else []
    if floor:
        command = ["-m", "benchmarks.floor_api", "--url", url, "--port", str(port)]
        command += ["--workers", str(workers)]
    # Its log goes to a file: a pipe nobody reads fills up and blocks the server mid-run.
    log = tempfile.TemporaryFile()
    # API_ROOT: another checkout's API (a before/after comparison in one run); the floor's own.
    cwd = ROOT if floor else API_ROOT
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(cwd)},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    _PIDS[base] = process.pid
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{command[1]} did not start: {log.read()[-2000:]!r}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        errors = log.read()
        log.close()
        if errors.strip():
            sys.stderr.write(f"{command[1]} logged:\n{errors[-4000:].decode(errors='replace')}\n")


async def _open_calls(url: str, external_prefix: str) -> int:
    """Calls of the run not finished (waiting, ringing, talking or in wrap-up) at the end."""
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            ids = select(CallReference.call_id).where(
                CallReference.external_id.like(f"{external_prefix}%")  # type: ignore[attr-defined]
            )
            open_calls = await session.execute(
                select(func.count())
                .select_from(Call)
                .where(Call.id.in_(ids), Call.state.not_in(["completed", "abandoned"]))  # type: ignore[union-attr,attr-defined]
            )
            return int(open_calls.scalar_one())
    finally:
        await engine.dispose()


async def _count(url: str, external_prefix: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            ids = select(CallReference.call_id).where(
                CallReference.external_id.like(f"{external_prefix}%")  # type: ignore[attr-defined]
            )
            calls = (
                await session.execute(
                    select(func.count()).select_from(Call).where(Call.id.in_(ids))
                )  # type: ignore[union-attr]
            ).scalar_one()
            events = (
                await session.execute(
                    select(func.count()).select_from(CallEvent).where(CallEvent.call_id.in_(ids))  # type: ignore[attr-defined]
                )
            ).scalar_one()
        return int(calls), int(events)
    finally:
        await engine.dispose()


# --- burst --------------------------------------------------------------------------------


async def _ready_agents(base: str, prefix: str, count: int) -> None:
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    ) as client:
        for i in range(count):
            body = {"state": "available"}
            response = await client.post(f"/v1/agents/{prefix}a{i}/state", json=body)
            response.raise_for_status()


_RUN_STARTED = time.time()


def _steps(prefix: str, i: int, lifecycle: bool) -> list[tuple[str, dict[str, Any]]]:
    """The events of call `i`: its queued event, then (lifecycle) the rest of its life."""
    queued = {"caller_number": f"+3460{i:07d}", "queue": "burst", "external_id": f"{prefix}{i}"}
    if not lifecycle:
        return [("queued", queued)]
    # Recent times: a call hours old would be closed by the API's stale-call sweep mid-run.
    base = _RUN_STARTED - 600 + i * 0.5
    ref = {"external_id": f"{prefix}{i}"}

    def at(step: int) -> str:
        return datetime.fromtimestamp(base + step * 0.1, UTC).isoformat()

    return [
        ("queued", {**queued, "at": at(0)}),
        ("offered", {**ref, "agent": f"{prefix}a{i}", "at": at(1)}),
        ("answered", {**ref, "at": at(2)}),
        ("ended", {**ref, "at": at(3)}),
        ("completed", {**ref, "at": at(4)}),
    ]


async def _burst(base: str, requests: int, lifecycle: bool = False) -> dict[str, Any]:
    prefix = f"burst-{uuid.uuid4().hex[:8]}-"
    if lifecycle:
        await _ready_agents(base, prefix, requests)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    retries = 0
    failed: list[str] = []
    # At most 100 requests in flight, like a phone system's pool of 100 workers, each with
    # its own keep-alive connection; the others wait their turn here, and that wait counts in
    # their latency. (One httpx client with a 100-connection pool spends more CPU choosing a
    # connection than the API spends on the request: the client, not the API, was measured.)
    lanes: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(100):
            lanes.put_nowait(
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=base,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=60,
                        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    )
                )
            )
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            due = start + i / requests
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            for kind, body in _steps(prefix, i, lifecycle):
                if not await send(i, kind, body, due):
                    return
                due = time.perf_counter()

        async def send(i: int, kind: str, body: dict[str, Any], due: float) -> bool:
            nonlocal retries
            headers = {"Idempotency-Key": f"{prefix}{i}-{kind}"}
            for attempt in range(10):
                client = await lanes.get()
                try:
                    response = await client.post(f"/v1/calls/{kind}", json=body, headers=headers)
                except httpx.TransportError as error:
                    problem = repr(error)
                else:
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code < 300:
                        latencies.append((time.perf_counter() - due) * 1000)
                        return True
                    problem = f"{response.status_code} {response.text[:100]}"
                    if response.status_code != 503:
                        break
                finally:
                    lanes.put_nowait(client)
                retries += 1
                await asyncio.sleep(0.1 * (attempt + 1))
            failed.append(problem)
            return False

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.perf_counter() - began
    return {
        "prefix": prefix,
        "requests": requests,
        "events_per_call": 5 if lifecycle else 1,
        "answered_ok": len(latencies),
        "failed": len(failed),
        "failures": failed[:5],
        "retries": retries,
        "statuses": statuses,
        "drain_seconds": round(elapsed, 2),
        "latency_ms": {
            f"p{p}": round(v, 1) if (v := percentile(latencies, p)) is not None else None
            for p in (50, 95, 99)
        },
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def run_burst(
    kind: str, requests: int, lifecycle: bool = False, floor: bool = True
) -> dict[str, Any]:
    with fresh_database(kind) as url:
        with api_server(url) as base:
            result = asyncio.run(_burst(base, requests, lifecycle))
            calls, events = asyncio.run(_count(url, result["prefix"]))
        if floor:
            with api_server(url, floor=True) as base:
                floor_result = asyncio.run(_burst(base, requests, lifecycle))
    per_call = result["events_per_call"]
    result.update(db=kind, calls_stored=calls, events_stored=events, lost=requests - calls)
    result["events_per_second"] = round(requests * per_call / result["drain_seconds"], 1)
    result["duplicates"] = events - calls * per_call
    if floor:
        rate = round(requests * per_call / floor_result["drain_seconds"], 1)
        result["floor"] = {
            "what": "bare ASGI route, one insert per request, same client (benchmarks.floor_api)",
            "events_per_second": rate,
            "latency_ms": floor_result["latency_ms"],
            "failed": floor_result["failed"],
        }
        result["api_to_floor_rate"] = round(result["events_per_second"] / rate, 2)
    result["load_average"] = os.getloadavg()
    return result


# --- load ---------------------------------------------------------------------------------


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its live descendants
    (the API's worker processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    return sum(used.get(p, 0.0) for p in tree)


class _Timed(httpx.AsyncBaseTransport):
    """The simulator's transport, timed: (seconds since the start, round trip ms, the
    API's own ms from Server-Timing) per answer, so the warm-up can be left out."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.started = time.perf_counter()
        self.samples: list[tuple[float, float, float | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        took = (time.perf_counter() - sent) * 1000
        server = None
        for part in response.headers.get("server-timing", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "dur":
                with contextlib.suppress(ValueError):
                    server = float(value)
        self.samples.append((sent - self.started, took, server))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _simulate(config: SimConfig, pid: int) -> tuple[Any, _Timed, float]:
    """`run_simulation` with a timed transport: the summary, the samples, and the CPU
    seconds the server process tree used meanwhile."""
    from console.commands.simulate import Simulator

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    timed = _Timed(httpx.AsyncHTTPTransport(limits=limits))
    cpu_before = _tree_cpu(pid)
    async with httpx.AsyncClient(
        base_url=config.url.rstrip("/"),
        headers={"Authorization": f"Bearer {config.token}"},
        timeout=30,
        transport=timed,
    ) as client:
        summary = await Simulator(config, client).run()
    return summary, timed, _tree_cpu(pid) - cpu_before


def _window(summary: Any, timed: _Timed, warmup: float) -> tuple[float, float]:
    """The steady part of a run, in seconds since the timed transport began: from `warmup`
    seconds after the first caller arrived until the wind-down (when every waiting caller
    hangs up and every agent signs out at once: a burst, reported apart)."""
    start = summary.traffic_started - timed.started + warmup
    end = summary.wind_down_started - timed.started
    return start, end


def _figures(values: list[float]) -> dict[str, float | None]:
    def pct(p: float) -> float | None:
        v = percentile(values, p)
        return None if v is None else round(v, 1)

    return {f"p{p}": pct(p) for p in (50, 95, 99)}


def _steady(timed: _Timed, cpu: float, window: tuple[float, float]) -> dict[str, Any]:
    """Latency in the steady window, the wind-down burst apart, and the server's CPU per
    request (over the whole run)."""
    start, end = window
    steady = [s for s in timed.samples if start <= s[0] < end]
    trips = [s[1] for s in steady]
    server = [s[2] for s in steady if s[2] is not None]
    burst = [s for s in timed.samples if s[0] >= end]
    return {
        "window_s": [round(start, 1), round(end, 1)],
        "requests": len(steady),
        "latency_ms": _figures(trips),
        "server_ms": _figures(server),
        "max_ms": round(max(trips), 1) if trips else None,
        "cpu_ms_per_request": round(cpu * 1000 / len(timed.samples), 2) if timed.samples else None,
        "wind_down": {
            "requests": len(burst),
            "seconds": round(max(s[0] for s in burst) - end, 1) if burst else None,
            "latency_ms": _figures([s[1] for s in burst]),
        },
    }


async def _console_worker(
    db_url: str, agents: list[str], duration: float, supervisor: bool
) -> dict[str, Any]:
    from console.screen_pop import OfferWatcher
    from core.calls.queue import QueueService
    from core.config import Settings
    from core.db import ChangeFeed
    from core.search.service import SearchService

    engine = make_engine(db_url, **({} if db_url.startswith("sqlite") else {"pool_size": 3}))
    sessions = make_sessions(engine)
    queue = QueueService(sessions, Settings())
    search = SearchService(sessions)
    watchers = [OfferWatcher(queue, name) for name in agents]
    pops: list[tuple[str, int]] = []
    pop_ms: list[tuple[float, float]] = []  # (when offered, epoch seconds; ms to the pop)
    supervisor_ms: list[float] = []
    errors: list[str] = []
    busy = False

    async def refresh_supervisor() -> None:
        nonlocal busy
        busy = True
        started = time.perf_counter()
        try:
            await queue.snapshot()
            await queue.team()
            supervisor_ms.append((time.perf_counter() - started) * 1000)
        except Exception as error:  # noqa: BLE001 - counted and reported
            errors.append(f"supervisor: {error!r}")
        finally:
            busy = False

    async def follow() -> None:
        async with ChangeFeed(engine) as feed:
            async for batch in feed.changes():
                for watcher in watchers:
                    if not watcher.concerns_me(batch):
                        continue
                    try:
                        for call in await watcher.new_offers():
                            await search.by_phone(call.caller_number)
                            pops.append((watcher.agent_name, call.call_id))
                            if call.offered_at is not None:
                                lag = datetime.now(UTC) - call.offered_at
                                pop_ms.append(
                                    (call.offered_at.timestamp(), lag.total_seconds() * 1000)
                                )
                    except Exception as error:  # noqa: BLE001 - counted and reported
                        errors.append(f"{watcher.agent_name}: {error!r}")
                if supervisor and not busy:
                    asyncio.get_running_loop().create_task(refresh_supervisor())

    task = asyncio.get_running_loop().create_task(follow())
    try:
        await asyncio.wait({task}, timeout=duration)
        # Cancel until it stops: a cancellation can be lost in a wait inside (Python 3.11).
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        if not task.cancelled() and (error := task.exception()) is not None:
            errors.append(f"feed: {error!r}")
    finally:
        await search.close()
        await engine.dispose()
    return {
        "pops": pops,
        "pop_ms": pop_ms,
        "supervisor_ms": supervisor_ms,
        "errors": errors,
    }


async def _fates(url: str, call_ids: list[int]) -> list[str]:
    """What became of calls offered but never popped: state and seconds from offer to end."""
    if not call_ids:
        return []
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            calls = (await session.execute(select(Call).where(Call.id.in_(call_ids)))).scalars()  # type: ignore[union-attr]
            fates = []
            for call in calls:
                end = call.abandoned_at or call.answered_at
                gap = (end - call.offered_at).total_seconds() if end and call.offered_at else None
                fates.append(f"call {call.id}: {call.state}, {gap} s after the offer")
            return fates
    finally:
        await engine.dispose()


def _offers_made(db_url: str, prefix: str) -> list[tuple[str, int]]:
    async def read() -> list[tuple[str, int]]:
        engine = make_engine(db_url)
        try:
            async with make_sessions(engine)() as session:
                ids = select(CallReference.call_id).where(
                    CallReference.external_id.like(f"{prefix}%")  # type: ignore[attr-defined]
                )
                rows = await session.execute(
                    select(CallEvent.payload, CallEvent.call_id).where(
                        CallEvent.call_id.in_(ids),
                        CallEvent.kind == "offered",  # type: ignore[attr-defined]
                    )
                )
                return [(json.loads(p)["agent"], c) for p, c in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def run_load(
    kind: str,
    consoles: int,
    duration: float,
    rate: float,
    processes: int,
    handle: float,
    floor_seconds: float = 60.0,
    warmup: float = 30.0,
    api_workers: int = 1,
) -> dict[str, Any]:
    load_before = os.getloadavg()
    agents = [f"sim-{i + 1:03d}" for i in range(consoles)]
    groups = [agents[i::processes] for i in range(processes)]
    with (
        fresh_database(kind) as url,
        api_server(url, workers=api_workers) as base,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workers = []
        for n, group in enumerate(groups):
            out = Path(tmp) / f"worker-{n}.json"
            workers.append(
                (
                    out,
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "benchmarks.bench_calls",
                            "console-worker",
                            "--url",
                            url,
                            "--agents",
                            ",".join(group),
                            "--duration",
                            str(duration + 25),
                            "--out",
                            str(out),
                            *(["--supervisor"] if n == 0 else []),
                        ],
                        cwd=ROOT,
                    ),
                )
            )
        time.sleep(5)  # let the consoles open their change feeds
        config = SimConfig(
            url=base,
            token=TOKEN,
            rate=rate,
            agents=consoles,
            patience=45.0,
            handle=handle,
            wrap_up=handle / 6,
            ring=1.5,
            speed=1.0,
            duration=duration,
            seed=7,
            prefix="sim",
        )
        summary, timed, cpu = asyncio.run(_simulate(config, _PIDS[base]))
        steady = _steady(timed, cpu, _window(summary, timed, warmup))
        # The same window in epoch seconds, for the offers' times.
        epoch = time.time() - time.perf_counter()
        pop_window = (summary.traffic_started + warmup + epoch, summary.wind_down_started + epoch)
        for _, process in workers:
            process.wait()
        results = [json.loads(out.read_text()) for out, _ in workers]
        prefix = f"sim-{summary.run}-"
        calls, events = asyncio.run(_count(url, prefix))
        left_open = asyncio.run(_open_calls(url, prefix))
        offers = _offers_made(url, prefix)
        pops_seen = {
            tuple(p) for r in (json.loads(o.read_text()) for o, _ in workers) for p in r["pops"]
        }
        missed = asyncio.run(_fates(url, [c for a, c in offers if (a, c) not in pops_seen]))
    floor: dict[str, Any] | None = None
    if floor_seconds > 0:
        # The same traffic (same client, rate and seed) against the bare insert route, on a
        # fresh database of the same kind, once the consoles are gone.
        with fresh_database(kind) as url, api_server(url, floor=True, workers=api_workers) as base:
            floor_config = dataclasses.replace(config, url=base, duration=floor_seconds)
            floor_summary, floor_timed, floor_cpu = asyncio.run(
                _simulate(floor_config, _PIDS[base])
            )
            run = floor_summary.as_json()
        floor = {
            "what": "bare ASGI route, one insert per request, same simulator traffic "
            "(benchmarks.floor_api), no consoles",
            "duration_s": floor_seconds,
            "requests_per_second": run["requests_per_second"],
            "latency_ms": run["latency_ms"],
            "errors": run["errors"],
            "steady": _steady(
                floor_timed,
                floor_cpu,
                _window(floor_summary, floor_timed, min(warmup, floor_seconds / 3)),
            ),
        }
    pops = [tuple(p) for r in results for p in r["pops"]]
    pop_ms = [v for r in results for _, v in r["pop_ms"]]
    pop_steady = [
        v for r in results for at, v in r["pop_ms"] if pop_window[0] <= at < pop_window[1]
    ]
    supervisor_ms = [v for r in results for v in r["supervisor_ms"]]
    console_errors = [e for r in results for e in r["errors"]]
    sim = summary.as_json()
    return {
        "db": kind,
        "consoles": consoles,
        "processes": processes,
        "duration_s": duration,
        "rate_per_s": rate,
        "simulator": sim,
        "calls_stored": calls,
        "events_stored_in_db": events,
        "events_lost": summary.events_stored - events,
        "calls_left_open": left_open,
        "offers": len(offers),
        "pops": len(pops),
        "offers_not_popped": len(set(offers) - set(pops)),
        "not_popped_fates": missed[:10],
        "double_pops": len(pops) - len(set(pops)),
        "pop_latency_ms": {
            f"p{p}": round(v, 1) if (v := percentile(pop_ms, p)) is not None else None
            for p in (50, 99)
        },
        "pop_latency_steady_ms": {
            f"p{p}": round(v, 1) if (v := percentile(pop_steady, p)) is not None else None
            for p in (50, 99)
        },
        "api_workers": api_workers,
        "steady": steady,
        "steady_p99_to_floor": round(
            steady["latency_ms"]["p99"] / floor["steady"]["latency_ms"]["p99"], 2
        )
        if floor and steady["latency_ms"]["p99"] and floor["steady"]["latency_ms"]["p99"]
        else None,
        "cpu_to_floor": round(
            steady["cpu_ms_per_request"] / floor["steady"]["cpu_ms_per_request"], 2
        )
        if floor and steady["cpu_ms_per_request"] and floor["steady"]["cpu_ms_per_request"]
        else None,
        "supervisor_refresh_ms": {
            f"p{p}": round(v, 1) if (v := percentile(supervisor_ms, p)) is not None else None
            for p in (50, 99)
        },
        "errors": sim["errors"] + len(console_errors),
        "console_errors": console_errors[:5],
        "floor": floor,
        "api_p99_to_floor_p99": round(sim["latency_ms"]["p99"] / floor["latency_ms"]["p99"], 2)
        if floor and sim["latency_ms"]["p99"] and floor["latency_ms"]["p99"]
        else None,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    burst = sub.add_parser("burst")
    burst.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    burst.add_argument("--requests", type=int, default=1000)
    burst.add_argument("--lifecycle", action="store_true", help="whole calls, 5 events each")
    burst.add_argument("--no-floor", action="store_true", help="skip the bare-insert floor")
    load = sub.add_parser("load")
    load.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    load.add_argument("--consoles", type=int, default=50)
    load.add_argument("--duration", type=float, default=600.0, help="seconds of traffic")
    load.add_argument("--rate", type=float, default=2.0, help="calls per second")
    load.add_argument("--processes", type=int, default=5, help="console worker processes")
    load.add_argument(
        "--floor-seconds",
        type=float,
        default=60.0,
        help="seconds of the same traffic against the bare-insert floor afterwards (0: none)",
    )
    load.add_argument(
        "--warmup", type=float, default=30.0, help="seconds left out of the steady figures"
    )
    load.add_argument("--api-workers", type=int, default=1, help="API worker processes")
    load.add_argument(
        "--handle",
        type=float,
        default=0.0,
        help="typical talk seconds (default: what the agents can carry)",
    )
    worker = sub.add_parser("console-worker")
    worker.add_argument("--url", required=True)
    worker.add_argument("--agents", required=True)
    worker.add_argument("--duration", type=float, required=True)
    worker.add_argument("--out", required=True)
    worker.add_argument("--supervisor", action="store_true")
    args = parser.parse_args()

    if args.mode == "console-worker":
        result = asyncio.run(
            _console_worker(args.url, args.agents.split(","), args.duration, args.supervisor)
        )
        Path(args.out).write_text(json.dumps(result))
        return
    if args.mode == "burst":
        result = run_burst(args.db, args.requests, args.lifecycle, floor=not args.no_floor)
    else:
        # Agents carry about 90 % of the offered load: talk + wrap-up (handle/6) + ring.
        handle = args.handle or max(5.0, (0.9 * args.consoles / args.rate - 1.5) * 6 / 7)
        result = run_load(
            args.db,
            args.consoles,
            args.duration,
            args.rate,
            args.processes,
            handle,
            args.floor_seconds,
            args.warmup,
            args.api_workers,
        )
        result["handle_s"] = round(handle, 1)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
