"""Analytics: a full refresh of every customer, and one customer's profile latency.

    .venv/bin/python -m benchmarks.bench_analytics --customers 1000000
    .venv/bin/python -m benchmarks.bench_analytics --customers 100000 --profiles 2000
    .venv/bin/python -m benchmarks.bench_analytics --customers 100000 \
        --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Uses the cached demo database (benchmarks.demo_db: three years of purchases, built if
missing), copied next to it so the shared file is left as it is, migrated to the newest
schema. With --postgres the same demo data is built (same seed) in a new PostgreSQL
database `frontline_bench_analytics` next to the admin URL instead, and dropped afterwards.
Measures `AnalyticsService.refresh` (read every purchase with one query, fit BG/NBD and
Gamma-Gamma, score RFM, write every customer's figures) and then `profile()` of random
customers, one at a time, after a few warm-up calls. Wall-clock and CPU time (of the whole
process, the database driver's thread included) are both printed: on a machine shared with
other work the wall clock mostly measures the wait for a core. Targets: refresh of 1,000,000
customers under 5 minutes; one customer's figures under 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

from benchmarks.demo_db import DATA_DIR, ensure_demo_db
from benchmarks.postgres import drop_database, recreate_database
from core.analytics.service import AnalyticsService
from core.config import Settings
from core.db import make_engine, make_sessions, upgrade_database

PG_NAME = "frontline_bench_analytics"


def _copy(source: Path, customers: int) -> Path:
    target = DATA_DIR / f"analytics-bench-{customers}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


async def _measure(url: str, profiles: int) -> dict[str, float | int]:
    engine = make_engine(url)
    service = AnalyticsService(make_sessions(engine), Settings())
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"  refresh: {done:,}/{total:,}", file=sys.stderr)

    cpu = time.process_time()
    result = await service.refresh(engine, None, progress)
    refresh_cpu = time.process_time() - cpu
    ids = list(range(1, result.customers + 1))
    rng = random.Random(42)
    for customer_id in rng.sample(ids, 20):  # warm-up: connections, caches, statements
        await service.profile(customer_id)
    times = []
    cpu = time.process_time()
    for customer_id in rng.sample(ids, min(profiles, len(ids))):
        started = time.perf_counter()
        await service.profile(customer_id)
        times.append((time.perf_counter() - started) * 1000)
    profile_cpu = (time.process_time() - cpu) * 1000 / len(times)
    await engine.dispose()
    times.sort()
    bg = result.population.bgnbd
    return {
        "customers": result.customers,
        "purchases": result.purchases,
        "refresh_seconds": round(result.seconds, 1),
        **{f"refresh_{name}_seconds": round(value, 1) for name, value in result.phases.items()},
        "refresh_cpu_seconds": round(refresh_cpu, 1),
        "profile_p50_ms": round(statistics.median(times), 2),
        "profile_p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "profile_cpu_ms": round(profile_cpu, 2),
        "profiles": len(times),
        "bgnbd_customers": bg.customers if bg else 0,
    }


async def _postgres(admin_url: str, customers: int) -> str:
    from core.demo.build import build_demo
    from core.demo.generator import DemoPlan

    url = await recreate_database(admin_url, PG_NAME)
    started = time.perf_counter()
    await build_demo(url, DemoPlan(customers=customers, seed=42), replace=True)
    print(f"  built on PostgreSQL in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


async def _drop_postgres(admin_url: str) -> None:
    await drop_database(admin_url, PG_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the refreshed copy")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="measure on PostgreSQL instead")
    args = parser.parse_args()
    if args.postgres:
        pg_url = asyncio.run(_postgres(args.postgres, args.customers))
        try:
            figures = asyncio.run(_measure(pg_url, args.profiles))
        finally:
            if not args.keep:
                asyncio.run(_drop_postgres(args.postgres))
        _report("PostgreSQL", figures)
        return
    source = ensure_demo_db(args.customers)
    copy = _copy(source, args.customers)
    url = f"sqlite+aiosqlite:///{copy}"
    try:
        upgrade_database(url)
        figures = asyncio.run(_measure(url, args.profiles))
    finally:
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
    _report("SQLite", figures)


def _report(database: str, figures: dict[str, float | int]) -> None:
    print(json.dumps({"database": database, **figures}))
    print(
        f"{database}: refresh of {figures['customers']:,} customers "
        f"({figures['purchases']:,} purchases): "
        f"{figures['refresh_seconds']} s, {figures['refresh_cpu_seconds']} s CPU (target < 300 s); "
        f"one profile p50 {figures['profile_p50_ms']} ms, p95 {figures['profile_p95_ms']} ms, "
        f"{figures['profile_cpu_ms']} ms CPU (target < 5 ms)"
    )


if __name__ == "__main__":
    main()
