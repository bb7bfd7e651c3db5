"""The agent console: start to ready, keystroke to results, opening a long history.

    .venv/bin/python -m benchmarks.bench_console --customers 1000000

On a copy of the demo database (benchmarks.demo_db; the copy is benchmarks/data/console-N.db)
with one extra customer, C99999999, who has 5,000 interactions:

- start to ready: `frontline --agent bench` is started in a 120×40 pseudo-terminal and timed
  from the spawn to the moment the focused search box is drawn (its placeholder reaches the
  terminal). Interpreter start, imports, database check and first paint are all included;
  console/ and core/ are byte-compiled first, as an installed console is (`compile_sources`).
- keystroke to results: the console runs headless (Textual's Pilot) at 120×40; real customer
  names are typed one key at a time, each key timed inside the console from the search box's
  change to the first screen refresh after the result list was updated (search included).
- open a customer with 5,000 interactions: from the request to the end of the first screen
  update that carries the customer (header, contact points, products, first page of the
  history, loyalty figures: the worker applies them all in one batch, so that frame is the
  fully drawn screen), alternating with another customer so that every open really redraws.
  Also printed: the time until the console is idle again, background work included (the
  audit-trail write of the opening, the change feed noticing it).

Targets (issue 5): start < 1.0 s; keystroke p95 < 50 ms; open p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import random
import shutil
import signal
import sqlite3
import statistics
import struct
import sys
import termios
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.demo_db import DATA_DIR, ensure_demo_db

BENCH_CUSTOMER = "C99999999"
HISTORY = 5000
LOADED_MARK = b"available"
start_cpu: list[float] = []
CPU: dict[str, float] = {}
"""CPU seconds (all threads of the process) — what the figures cost without waiting for a core."""
READY_MARK = b"ame, phone, email or customer number"  # the N is under the cursor


def compile_sources() -> None:
    """Bytecode for Frontline's own modules, as an installed console has it. With
    PYTHONDONTWRITEBYTECODE set (as on the project's machine) Python never keeps any for an
    editable install, and every start compiled console/ and core/ again: about 60 ms of CPU."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("console", "core"):
        compileall.compile_dir(root / package, quiet=1)


def prepare(customers: int) -> Path:
    """A private copy of the demo database with the 5,000-interaction customer added."""
    compile_sources()
    source = ensure_demo_db(customers)
    target = DATA_DIR / f"console-{customers}.db"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        print(f"copying {source.name} -> {target.name}", file=sys.stderr)
        temp = target.with_suffix(".tmp")
        shutil.copyfile(source, temp)
        os.replace(temp, target)
    asyncio.run(_add_long_history(f"sqlite+aiosqlite:///{target}"))
    return target


async def _add_long_history(url: str) -> None:
    from sqlalchemy import select
    from sqlmodel import col

    from core.db import make_engine, make_sessions, upgrade_database
    from core.models import ContactPoint, Customer, Interaction, LoyaltyAccount
    from core.search.indexer import index_customers

    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    async with sessions() as session, session.begin():
        found = (
            await session.execute(
                select(Customer).where(col(Customer.external_id) == BENCH_CUSTOMER)
            )
        ).scalar_one_or_none()
        if found is None:
            now = datetime.now(UTC)
            customer = Customer(
                external_id=BENCH_CUSTOMER,
                first_name="Benedicta",
                last_name="Historia Larga",
                city="Zaragoza",
                country="ES",
                birth_date=date(1970, 5, 17),
                customer_since=date(2005, 1, 1),
                marketing_consent=True,
            )
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            session.add(
                ContactPoint(
                    customer_id=customer.id,
                    kind="phone",
                    value="+34 699 999 999",
                    normalized="34699999999",
                    label="mobile",
                    is_primary=True,
                )
            )
            session.add(LoyaltyAccount(customer_id=customer.id, tier="Gold", points=9000))
            channels = ["phone", "email", "web", "store", "sales_visit", "chat"]
            rng = random.Random(5)
            session.add_all(
                Interaction(
                    customer_id=customer.id,
                    at=now - timedelta(hours=7 * i + rng.randint(0, 6)),
                    channel=channels[rng.randrange(6)],
                    direction="inbound" if rng.random() < 0.7 else "outbound",
                    subject=f"Interaction {HISTORY - i} about the account",
                    outcome=rng.choice(["resolved", "follow-up", "sale", "escalated"]),
                    agent=f"agent{rng.randrange(40)}",
                    notes="Customer called about the invoice; explained the charges.",
                )
                for i in range(HISTORY)
            )
            await session.flush()
            await index_customers(session, [customer.id])
    # The console is measured as an agent sees it (unknown users get the look-up console).
    from core.models import Role
    from core.services.agents import AgentExists
    from core.services.agents import AgentService as Agents

    try:
        await Agents(sessions).add("bench", Role.AGENT)
    except AgentExists:
        await Agents(sessions).set_role("bench", Role.AGENT)
    await engine.dispose()


def _env(db: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "FRONTLINE_DATA_DIR": str(data_dir),
            "FRONTLINE_ENV_FILE": str(data_dir / "none.env"),
            "FRONTLINE_TRUST_AGENT_ENV": "1",  # for `--agent bench`
            "FRONTLINE_LANGUAGE": "en",  # the marks below are English words
            "TERM": "xterm-256color",
        }
    )
    return env


def start_to_ready(
    db: Path, runs: int, only_ready: bool = False
) -> tuple[list[float], list[float]]:
    """Seconds from spawning `frontline` in a pseudo-terminal to the search box on screen,
    and to the services loaded (the header says the agent is available: search answers)."""
    frontline = str(Path(sys.executable).with_name("frontline"))
    data_dir = DATA_DIR / "console-bench-home"
    env = _env(db, data_dir)
    times = []
    loaded = []
    for _ in range(runs):
        started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(frontline, [frontline, "--agent", "bench"], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        output = bytearray()
        ready = None
        while time.perf_counter() - started < 30:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            output.extend(chunk)
            if ready is None and READY_MARK in output:
                ready = time.perf_counter() - started
            if ready is not None and (only_ready or LOADED_MARK in output):
                loaded.append(time.perf_counter() - started)
                break
        os.kill(pid, signal.SIGKILL)
        _, _, usage = os.wait4(pid, 0)
        os.close(fd)
        start_cpu.append(usage.ru_utime + usage.ru_stime)
        if ready is None:
            raise RuntimeError("the console did not become ready within 30 s")
        times.append(ready)
    return times, loaded


def sample_names(db: Path, n: int, seed: int) -> list[str]:
    connection = sqlite3.connect(db)
    try:
        (top,) = connection.execute("SELECT max(id) FROM customer").fetchone()
        rng = random.Random(seed)
        names = []
        while len(names) < n:
            row = connection.execute(
                "SELECT first_name, last_name FROM customer WHERE id = ?", (rng.randint(1, top),)
            ).fetchone()
            if row:
                names.append(f"{row[0]} {row[1]}")
        return names
    finally:
        connection.close()


async def in_console(db: Path, names: list[str], opens: int) -> tuple[list[float], list[float]]:
    """(keystroke seconds, open seconds), measured in a headless console at 120×40."""
    from textual.screen import Screen

    from console.app import ConsoleApp
    from console.screens.agent import AgentScreen
    from console.widgets.customer_list import CustomerList
    from core.config import load_settings
    from core.services import make_services

    settings = load_settings(_env(db, DATA_DIR / "console-bench-home"))
    services = make_services(settings)
    app = ConsoleApp(services, agent_name="bench")
    keys: list[float] = []
    openings: list[float] = []
    open_cpu: list[float] = []
    settled: list[float] = []
    # Keystroke to results, measured inside the console: from the search box's change
    # (the key has been handled) to the first screen refresh after the result list changed.
    typed_at: dict[int, float] = {}
    original_search = AgentScreen.search
    original_show = CustomerList.show

    def search(self: AgentScreen, query: str, seq: int) -> object:
        typed_at[seq] = time.perf_counter()
        return original_search(self, query, seq)

    def show(self: CustomerList, hits: object, message: str = "") -> None:
        original_show(self, hits, message)  # type: ignore[arg-type]
        screen = self.screen
        started = typed_at.pop(getattr(screen, "search_seq", -1), None)
        if started is not None:
            self.call_after_refresh(lambda: keys.append(time.perf_counter() - started))

    AgentScreen.search = search  # type: ignore[method-assign,assignment]
    CustomerList.show = show  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        screen = app.screen
        assert isinstance(screen, AgentScreen)
        results = screen.query_one(CustomerList)
        cpu_typing = 0.0
        for name in names:
            await pilot.press("f2", "ctrl+a", "ctrl+k")
            await settle(app)
            for char in name:
                cpu = time.process_time()
                await pilot.press("space" if char == " " else char)
                await settle(app)
                await pilot.pause()
                cpu_typing += time.process_time() - cpu
            assert results.hits, f"nothing found for {name!r}"
        long_id = (await services.customers.by_external_id(BENCH_CUSTOMER)).id
        other = results.hits[0].customer_id
        # Drawn: the end of the first screen update that carries the opened customer (the
        # worker applies header, contacts, products, figures and history in one batch).
        drawn: list[float] = []
        original_refresh = Screen._compositor_refresh

        def compositor_refresh(self: Screen[object]) -> None:
            original_refresh(self)
            if not drawn and getattr(self, "customer_id", None) == long_id:
                drawn.append(time.perf_counter())

        Screen._compositor_refresh = compositor_refresh  # type: ignore[method-assign]
        for i in range(opens * 2):
            target = long_id if i % 2 == 0 else other
            drawn.clear()
            started = time.perf_counter()
            cpu = time.process_time()
            screen.open_customer(target)
            await settle(app)
            await pilot.pause()
            if target == long_id:
                assert drawn, "the customer was never drawn"
                openings.append(drawn[0] - started)
                settled.append(time.perf_counter() - started)
                open_cpu.append(time.process_time() - cpu)
                assert len(screen.query_one("#timeline").items) > 0
        Screen._compositor_refresh = original_refresh  # type: ignore[method-assign]
    CPU["per key"] = cpu_typing / max(1, len(keys))
    CPU["per open"] = statistics.median(open_cpu)
    CPU["open settled p95"] = p95(settled)
    CPU["open settled p50"] = statistics.median(settled)
    return keys, openings


async def settle(app: object) -> None:
    """Wait until no worker runs (a search cancelled by the next key counts as done)."""
    from textual.worker import WorkerCancelled

    while True:
        try:
            await app.workers.wait_for_complete()  # type: ignore[attr-defined]
            return
        except WorkerCancelled:
            continue


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=7)
    parser.add_argument("--names", type=int, default=40)
    parser.add_argument("--opens", type=int, default=30)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    db = prepare(args.customers)
    print(f"console benchmark on {db.name} ({args.customers:,} customers + {BENCH_CUSTOMER})")
    load = os.getloadavg()[0]
    starts, loaded = start_to_ready(db, args.starts)
    start_cpu.clear()
    start_to_ready(db, args.starts, only_ready=True)  # killed at once: CPU to ready
    names = sample_names(db, args.names, args.seed)
    keys, opens = asyncio.run(in_console(db, names, args.opens))
    ms = 1000.0
    print(
        f"start to ready: median {statistics.median(starts):.2f} s, best {min(starts):.2f} s, "
        f"worst {max(starts):.2f} s over {len(starts)} starts (target < 1.0 s)"
    )
    print(
        f"start to search answering: median {statistics.median(loaded):.2f} s, "
        f"best {min(loaded):.2f} s over {len(loaded)} starts (services load behind the screen)"
    )
    print(
        f"keystroke to results: p50 {statistics.median(keys) * ms:.1f} ms, "
        f"p95 {p95(keys) * ms:.1f} ms over {len(keys)} keys (target p95 < 50 ms)"
    )
    print(
        f"open {HISTORY:,}-interaction customer: p50 {statistics.median(opens) * ms:.1f} ms, "
        f"p95 {p95(opens) * ms:.1f} ms over {len(opens)} opens (target p95 < 100 ms)"
    )
    print(
        f"open, until idle (background work such as the audit-trail write done too): "
        f"p50 {CPU['open settled p50'] * ms:.1f} ms, p95 {CPU['open settled p95'] * ms:.1f} ms"
    )
    print("opens sorted (ms):", [round(x * 1000) for x in sorted(opens)])
    print(f"start to ready, CPU of the process: median {statistics.median(start_cpu):.2f} s")
    print(
        f"CPU: {CPU['per key'] * ms:.1f} ms per key (mean, including the test harness), "
        f"{CPU['per open'] * ms:.1f} ms per open (median)"
    )
    print(f"load average at start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
