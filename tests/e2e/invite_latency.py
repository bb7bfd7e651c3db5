"""How long a SIP INVITE to a queue takes to ring an agent, or to pop the caller on the agent's
console, through Kamailio and Frontline.

    python -m tests.e2e.invite_latency [CALLS] [--pop] [--customers N]

Each call is an INVITE sent to Kamailio (the generated config); Kamailio asks
`POST /v1/route`, Frontline queues the call, chooses the agent and stores the offer.

Without --pop the time is taken when the chosen agent's phone receives the INVITE.

With --pop the database first gets N demo customers (`frontline demo`), each INVITE comes from
one of their phone numbers, and the time is taken when the agent's console has shown that
customer: the console's own screen-pop code (console.screen_pop.OfferWatcher over the change
feed, one watcher per agent, in this process) saw the offer and the caller look-up
(SearchService.by_phone, as the agent screen does) found the customer. Not a test: a figure
for benchmarks/RESULTS.md and docs/kamailio.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.sip_stack import CALLER, SipStack, sip_stack


def _invite(
    sip_port: int, local: int, n: int, caller: str = CALLER, cancel: bool = False, ns: int = 0
) -> bytes:
    """INVITE number `n` (or, with `cancel` and the INVITE's `ns`, its CANCEL)."""
    ns = ns or time.time_ns()
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    sdp += "m=audio 6000 RTP/AVP 0\r\n"
    method, body = ("CANCEL", "") if cancel else ("INVITE", sdp)
    kind = "" if cancel else "Content-Type: application/sdp\r\n"
    return (
        f"{method} sip:bench@127.0.0.1:{sip_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-lat-{n}-{ns}\r\n"
        f"From: <sip:{caller}@127.0.0.1:{local}>;tag=lat{n}\r\n"
        f"To: <sip:bench@127.0.0.1:{sip_port}>\r\nCall-ID: latency-{n}-{ns}\r\n"
        f"CSeq: 1 {method}\r\nContact: <sip:{caller}@127.0.0.1:{local}>\r\nMax-Forwards: 70\r\n"
        f"{kind}Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def _figures(what: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)))]
    return (
        f"{len(ms)} INVITEs, {what}: median {statistics.median(ms):.1f} ms, "
        f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (load average "
        + " ".join(f"{v:.1f}" for v in os.getloadavg())
        + ")\n"
    )


def _phones(stack: SipStack, calls: int) -> list[socket.socket]:
    """One available agent per call, each with a phone: a UDP socket that lets it ring."""
    phones = []
    for n in range(calls):
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", 0))
        phone.settimeout(5)
        stack.agent(f"bench{n:03d}", phone.getsockname()[1], "bench")
        phones.append(phone)
    return phones


def ring(calls: int) -> None:
    with tempfile.TemporaryDirectory() as workdir, sip_stack(Path(workdir)) as stack:
        phones = _phones(stack, calls)
        caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        caller.bind(("127.0.0.1", 0))
        seconds = []
        for n in range(calls):
            started = time.perf_counter()
            caller.sendto(
                _invite(stack.sip_port, caller.getsockname()[1], n), ("127.0.0.1", stack.sip_port)
            )
            phones[n].recv(65535)  # the agents are rung in the order they became ready
            seconds.append(time.perf_counter() - started)
        sys.stdout.write(_figures("INVITE -> agent's phone rings", [s * 1000 for s in seconds]))


def _demo(database: Path, customers: int) -> None:
    """N demo customers in a new database, before the API opens it (the demo writes a new
    file: an API already running would keep writing to the old one)."""
    env = {**os.environ, "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    env["FRONTLINE_ENV_FILE"] = "/nonexistent"
    subprocess.run(
        [sys.executable, "-m", "console.cli", "demo", "--customers", str(customers), "--no-open"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _numbers(stack: SipStack) -> list[str]:
    """The demo customers' international phone numbers."""
    # International numbers as a phone system sends them in From: '+' and digits.
    rows = stack.rows(
        "SELECT MIN(value) FROM contact_point WHERE kind = 'phone' AND value LIKE '+%' "
        "GROUP BY customer_id ORDER BY customer_id"
    )
    return ["+" + "".join(ch for ch in str(value) if ch.isdigit()) for (value,) in rows]


async def _pops(stack: SipStack, calls: int, numbers: list[str]) -> list[float]:
    from console.screen_pop import OfferWatcher
    from core.calls.queue import QueueService
    from core.config import Settings
    from core.db import ChangeFeed, make_engine, make_sessions
    from core.search.service import SearchService

    engine = make_engine(f"sqlite+aiosqlite:///{stack.database}")
    sessions = make_sessions(engine)
    queue = QueueService(sessions, Settings())
    search = SearchService(sessions)
    watchers = [OfferWatcher(queue, f"bench{n:03d}") for n in range(calls)]
    shown: dict[str, float] = {}  # caller number -> when its customer was on screen
    arrived = asyncio.Event()

    async def follow() -> None:
        async with ChangeFeed(engine) as feed:
            async for batch in feed.changes():
                for watcher in watchers:
                    if not watcher.concerns_me(batch):
                        continue
                    for call in await watcher.new_offers():
                        if await search.by_phone(call.caller_number):  # the customer shows
                            shown.setdefault(call.caller_number, time.perf_counter())
                            arrived.set()

    follower = asyncio.get_running_loop().create_task(follow())
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    try:
        await asyncio.sleep(1.0)  # the feed is open
        took = []
        for n in range(calls):
            number = numbers[n % len(numbers)]
            started, ns = time.perf_counter(), time.time_ns()
            message = _invite(stack.sip_port, caller.getsockname()[1], n, number, ns=ns)
            caller.sendto(message, ("127.0.0.1", stack.sip_port))
            deadline = started + 10
            while number not in shown and time.perf_counter() < deadline:
                arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), deadline - time.perf_counter())
            if number not in shown:
                calls_now = stack.rows("SELECT state, caller_number, agent_id FROM call")
                found = await search.by_phone(number)
                raise RuntimeError(
                    f"INVITE {n} from {number}: no screen pop within 10 s "
                    f"(calls: {calls_now[-3:]}; look-up: {len(found)} customers)"
                )
            took.append((shown[number] - started) * 1000)
            # The caller gives up once popped: the agent is free again for a later INVITE
            # (a phone left ringing would be put on a break for not answering).
            message = _invite(stack.sip_port, caller.getsockname()[1], n, number, True, ns)
            caller.sendto(message, ("127.0.0.1", stack.sip_port))
        return took
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        caller.close()
        await search.close()
        await engine.dispose()


def pop(calls: int, customers: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        _demo(Path(workdir) / "frontline.db", customers)
        with sip_stack(Path(workdir)) as stack:
            _pop_through(stack, calls, customers)


def _pop_through(stack: SipStack, calls: int, customers: int) -> None:
    numbers = _numbers(stack)[:calls]
    phones = _phones(stack, calls)  # kept open: a closed port makes Kamailio try the next
    took = asyncio.run(_pops(stack, calls, numbers))
    for phone in phones:
        phone.close()
    sys.stdout.write(
        _figures(
            f"INVITE -> the caller's customer on the agent's console ({customers:,} customers)",
            took,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("calls", type=int, nargs="?", default=30)
    parser.add_argument("--pop", action="store_true", help="time to the screen pop")
    parser.add_argument("--customers", type=int, default=20_000, help="demo customers (--pop)")
    args = parser.parse_args()
    if args.pop:
        pop(args.calls, args.customers)
    else:
        ring(args.calls)


if __name__ == "__main__":
    main()
