"""`frontline simulate`: realistic call traffic through the HTTP API, for demos and load tests.

Callers arrive as a Poisson process (exponential gaps at `--rate` calls per simulated
second), wait in one first-come-first-served queue, and hang up when their patience
(exponential, mean `--patience`) runs out before an agent answers — while waiting or while
ringing. Free simulated agents get the oldest waiting call: it rings for `--ring` seconds,
talk time is log-normal around `--handle` (some calls include a hold), then wrap-up around
`--wrap-up`. Everything is sent to a running `frontline api` with httpx, each event with its
own Idempotency-Key and retried on 503 (after the API's Retry-After) or a dropped connection
for up to `--retry-budget` seconds (a database restart or failover), so none is lost. `--speed 60`
runs one simulated minute per real second. The run stops after `--duration` real seconds:
callers still waiting hang up, calls in progress end, agents sign out.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import click

from console.commands.i18n import N_, _
from core.config import Settings


@dataclass(frozen=True)
class SimConfig:
    url: str
    token: str
    rate: float = 0.1
    """Arrivals per simulated second."""
    agents: int = 5
    patience: float = 90.0
    handle: float = 180.0
    wrap_up: float = 30.0
    ring: float = 3.0
    hold_share: float = 0.2
    speed: float = 1.0
    duration: float = 60.0
    """Real seconds before the run winds down."""
    max_calls: int | None = None
    seed: int | None = None
    prefix: str = "sim"
    queue: str = "simulated"
    retry_budget: float = 120.0
    """Real seconds an event is retried for (503, dropped connections) before it counts as an
    error: long enough for a database restart or failover."""


MAX_RETRY_WAIT = 10.0
"""The longest wait between two tries, whatever Retry-After says."""


def retry_wait(retry_after: str | None, attempt: int) -> float:
    """Seconds to wait before trying an event again: the API's Retry-After when it gives one
    in seconds (capped at MAX_RETRY_WAIT), else a doubling back-off from 0.2 s up to 5 s."""
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_RETRY_WAIT)
        except ValueError:  # the HTTP-date form: not what our API sends
            pass
    return min(0.2 * 2**attempt, 5.0)


@dataclass
class Summary:
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    completed: int = 0
    events_sent: int = 0
    events_applied: int = 0
    events_stored: int = 0
    """Applied events the API says it stored (not no-ops): the call_event rows to expect."""
    errors: int = 0
    retries: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    """The API's own time per answer, from its Server-Timing header (when it sends one)."""
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    run: str = ""
    traffic_started: float = 0.0
    wind_down_started: float = 0.0
    """time.perf_counter() when callers began to arrive, and when the run began to wind down
    (every caller still waiting hangs up at once: a burst, not the traffic asked for)."""

    def percentile(self, p: float, values: list[float] | None = None) -> float | None:
        values = self.latencies_ms if values is None else values
        if not values:
            return None
        ordered = sorted(values)
        index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "calls": self.calls,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "completed": self.completed,
            "events_sent": self.events_sent,
            "events_applied": self.events_applied,
            "events_stored": self.events_stored,
            "errors": self.errors,
            "retries": self.retries,
            "seconds": round(self.seconds, 1),
            "requests_per_second": round(len(self.latencies_ms) / self.seconds, 1)
            if self.seconds
            else 0,
            "latency_ms": {
                f"p{p}": round(v, 1) if (v := self.percentile(p)) is not None else None
                for p in (50, 95, 99)
            },
            "server_ms": {
                f"p{p}": round(v, 1)
                if (v := self.percentile(p, self.server_ms)) is not None
                else None
                for p in (50, 95, 99)
            },
            "error_samples": self.error_samples[:5],
        }


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_ms(header: str) -> float | None:
    """The `app;dur=12.3` of a Server-Timing header, in milliseconds."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "dur":
            try:
                return float(value)
            except ValueError:
                return None
    return None


@dataclass
class _Call:
    n: int
    external_id: str
    number: str
    status: str = "waiting"  # waiting, ringing, talking, done, gone
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    agent: str = ""


class Simulator:
    def __init__(self, config: SimConfig, client: Any) -> None:
        self.c = config
        self.client = client
        self.rng = random.Random(config.seed)
        self.summary = Summary(run=uuid.uuid4().hex[:8])
        self.waiting: deque[_Call] = deque()
        self.free: deque[str] = deque(f"{config.prefix}-{i + 1:03d}" for i in range(config.agents))
        self.tasks: set[asyncio.Task[None]] = set()
        self.calls: list[_Call] = []
        self.stopping = False
        self._stop = asyncio.Event()
        self._pause = asyncio.sleep
        """How the simulator waits between tries (a test watches it)."""

    async def _sleep(self, simulated: float) -> None:
        """Wait simulated seconds; returns at once when the run winds down."""
        try:
            await asyncio.wait_for(self._stop.wait(), max(0.0, simulated) / self.c.speed)
        except TimeoutError:
            pass

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send(self, path: str, body: dict[str, Any]) -> bool:
        """One event, retried with the same key until applied or refused, or until the retry
        budget is spent (waiting what each 503's Retry-After says); True if applied."""
        key = f"{self.summary.run}-{uuid.uuid4().hex}"
        self.summary.events_sent += 1
        deadline = time.monotonic() + self.c.retry_budget
        attempt = 0
        while True:
            started = time.perf_counter()
            retry_after: str | None = None
            try:
                response = await self.client.post(path, json=body, headers={"Idempotency-Key": key})
            except Exception as error:  # noqa: BLE001 - a dropped connection: retry
                problem = f"{path}: {type(error).__name__}: {error}"
            else:
                self.summary.latencies_ms.append((time.perf_counter() - started) * 1000)
                if (took := _server_ms(response.headers.get("server-timing", ""))) is not None:
                    self.summary.server_ms.append(took)
                if response.status_code < 300:
                    self.summary.events_applied += 1
                    if path.startswith("/v1/calls/") and response.json().get("event_id"):
                        self.summary.events_stored += 1
                    return True
                problem = f"{path}: {response.status_code} {response.text[:200]}"
                if response.status_code != 503:
                    break
                retry_after = response.headers.get("retry-after")
            wait = retry_wait(retry_after, attempt)
            if time.monotonic() + wait > deadline:
                problem += f" (gave up after {self.c.retry_budget:g} s of retries)"
                break
            self.summary.retries += 1
            await self._pause(wait)
            attempt += 1
        self.summary.errors += 1
        if len(self.summary.error_samples) < 20:
            self.summary.error_samples.append(problem)
        return False

    async def event(self, call: _Call, kind: str, **extra: Any) -> bool:
        async with call.lock:  # one call's events arrive in order
            return await self.send(f"/v1/calls/{kind}", {"external_id": call.external_id, **extra})

    async def run(self) -> Summary:
        started = time.perf_counter()
        await asyncio.gather(
            *(self.send(f"/v1/agents/{a}/state", {"state": "available"}) for a in self.free)
        )
        self.summary.traffic_started = time.perf_counter()
        self._spawn(self._arrivals())
        await asyncio.sleep(self.c.duration)
        self.summary.wind_down_started = time.perf_counter()
        await self._wind_down()
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    async def _arrivals(self) -> None:
        # Each arrival is due at its own instant of the Poisson process, counted from the
        # start: a loop that wakes late (a busy machine) catches up instead of thinning the
        # traffic, as sleeping gap after gap would.
        n = 0
        started = time.perf_counter()
        due = 0.0  # simulated seconds since the start
        while self.c.max_calls is None or n < self.c.max_calls:
            due += self.rng.expovariate(self.c.rate)
            if (wait := due - (time.perf_counter() - started) * self.c.speed) > 0:
                await self._sleep(wait)
            if self.stopping:
                return
            n += 1
            number = f"+3460{self.rng.randrange(10_000_000):07d}"
            call = _Call(n, f"{self.c.prefix}-{self.summary.run}-{n}", number)
            self.calls.append(call)
            self.summary.calls += 1
            self._spawn(self._life(call))

    async def _life(self, call: _Call) -> None:
        ok = await self.event(call, "queued", caller_number=call.number, queue=self.c.queue)
        if not ok:
            call.status = "gone"
            return
        if self.stopping:  # queued just as the run ended: the caller hangs up too
            await self._abandon(call)
            return
        self.waiting.append(call)
        self._spawn(self._patience(call))
        self._dispatch()

    async def _patience(self, call: _Call) -> None:
        await self._sleep(self.rng.expovariate(1 / self.c.patience))
        if call.status in ("waiting", "ringing") and not self.stopping:
            await self._abandon(call)

    async def _abandon(self, call: _Call) -> None:
        was = call.status
        call.status = "gone"
        if was == "waiting" and call in self.waiting:
            self.waiting.remove(call)
        if await self.event(call, "abandoned"):
            self.summary.abandoned += 1
        if was == "ringing":
            self._release(call.agent)

    def _release(self, agent: str) -> None:
        if agent and agent not in self.free:
            self.free.append(agent)
        self._dispatch()

    def _dispatch(self) -> None:
        while self.waiting and self.free and not self.stopping:
            call = self.waiting.popleft()
            agent = self.free.popleft()
            call.status = "ringing"
            call.agent = agent
            self._spawn(self._serve(call, agent))

    async def _serve(self, call: _Call, agent: str) -> None:
        if not await self.event(call, "offered", agent=agent):
            if call.status == "ringing":
                call.status = "gone"
            self._release(agent)
            return
        await self._sleep(self.rng.uniform(0.5, 1.5) * self.c.ring)
        if call.status != "ringing":  # hung up while it rang (the abandon frees the agent)
            return
        call.status = "talking"
        if not await self.event(call, "answered"):
            call.status = "gone"
            self._release(agent)
            return
        self.summary.answered += 1
        talk = self.rng.lognormvariate(math.log(self.c.handle), 0.5)
        if self.rng.random() < self.c.hold_share:
            await self._sleep(talk * 0.4)
            await self.event(call, "held")
            await self._sleep(talk * 0.3)
            await self.event(call, "unheld")
            await self._sleep(talk * 0.3)
        else:
            await self._sleep(talk)
        await self._finish(call, agent, wrap=self.rng.lognormvariate(math.log(self.c.wrap_up), 0.4))

    async def _finish(self, call: _Call, agent: str, wrap: float) -> None:
        if call.status != "talking":
            return
        call.status = "done"
        await self.event(call, "ended")
        await self._sleep(wrap)
        if await self.event(call, "completed"):
            self.summary.completed += 1
        self._release(agent)

    async def _wind_down(self) -> None:
        """Callers still waiting hang up, calls in progress end, agents sign out.

        Nothing in flight is cancelled: every coroutine wakes from its wait, finishes its
        call quickly and sends its last events, so what was sent is what was applied.
        """
        self.stopping = True
        hang_ups = [self._abandon(c) for c in self.calls if c.status in ("waiting", "ringing")]
        self._stop.set()
        await asyncio.gather(*hang_ups)
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        for i in range(self.c.agents):
            await self.send(f"/v1/agents/{self.c.prefix}-{i + 1:03d}/state", {"state": "offline"})


async def run_simulation(config: SimConfig) -> Summary:
    """Run the traffic against the API at `config.url` and count what happened.

    Args:
        config: rates, times, agents, speed and the API's address and token.

    Returns:
        What was sent, applied and refused, and the API's latency.
    """
    import httpx

    if not is_loopback(config.url):
        raise ValueError(
            _("the simulator only talks to an API on this machine, not {url}").format(
                url=config.url
            )
        )
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=config.url.rstrip("/"),
        headers={"Authorization": f"Bearer {config.token}"},
        timeout=30,
        limits=limits,
    ) as client:
        return await Simulator(config, client).run()


@click.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help=N_("A loopback `frontline api`."),
)
@click.option(
    "--token", default="", help=N_("Bearer token (default: the first of FRONTLINE_API_TOKENS).")
)
@click.option(
    "--rate",
    default=0.1,
    show_default=True,
    type=click.FloatRange(min=0.0001),
    help=N_("Calls per simulated second."),
)
@click.option(
    "--agents",
    default=5,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help=N_("Simulated agents."),
)
@click.option(
    "--patience",
    default=90.0,
    show_default=True,
    help=N_("Mean seconds a caller waits before hanging up."),
)
@click.option(
    "--handle",
    default=180.0,
    show_default=True,
    help=N_("Typical talk time, seconds (log-normal)."),
)
@click.option("--wrap-up", default=30.0, show_default=True, help=N_("Typical wrap-up, seconds."))
@click.option(
    "--ring",
    default=3.0,
    show_default=True,
    help=N_("Seconds a call rings before the agent answers."),
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help=N_("60 = one simulated minute per second."),
)
@click.option(
    "--duration",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help=N_("Real seconds to run."),
)
@click.option(
    "--max-calls", default=None, type=int, help=N_("Stop arriving after this many calls.")
)
@click.option("--seed", default=None, type=int, help=N_("Random seed, for a repeatable run."))
@click.option(
    "--prefix", default="sim", show_default=True, help=N_("Simulated agents are PREFIX-001…")
)
@click.option(
    "--retry-budget",
    default=120.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help=N_(
        "Seconds an event is retried (503 with Retry-After, dropped connections) before it "
        "counts as an error."
    ),
)
@click.pass_obj
def simulate(settings: Settings, /, url: str, token: str, **options: Any) -> None:
    """Send realistic call traffic through a running `frontline api` (loopback only).

    Prints a JSON summary: calls, answered, abandoned, events sent and applied, errors and
    the API's latency percentiles.
    """
    token = token or next(iter(settings.api_tokens), "")
    if not token:
        raise click.ClickException(_("no token: pass --token or set FRONTLINE_API_TOKENS"))
    if not is_loopback(url):
        raise click.ClickException(
            _("the simulator only talks to an API on this machine, not {url}").format(url=url)
        )
    config = SimConfig(url=url, token=token, wrap_up=options.pop("wrap_up"), **options)
    click.echo(
        _(
            "simulating {rate} calls/s (simulated) at {speed}× for {duration} s with {agents} "
            "agents against {url}"
        ).format(
            rate=f"{config.rate:g}",
            speed=f"{config.speed:g}",
            duration=f"{config.duration:g}",
            agents=config.agents,
            url=url,
        ),
        err=True,
    )
    summary = asyncio.run(run_simulation(config))
    click.echo(json.dumps(summary.as_json()))
    if summary.errors:
        raise SystemExit(1)
