"""Demo data generation: time `frontline demo` at 100,000 and 1,000,000 customers (SQLite).

    .venv/bin/python -m benchmarks.bench_demo                       # 100,000 and 1,000,000
    .venv/bin/python -m benchmarks.bench_demo --customers 100000

Targets (issue 2): 100,000 customers in under 60 s, 1,000,000 in under 10 minutes. Each run
builds a new database file in benchmarks/data/ (migrations, generation, bulk load, indexes,
search index) exactly as `frontline demo` does, and prints the time of each stage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from core.demo.build import build_demo
from core.demo.generator import DemoPlan

DATA_DIR = Path(__file__).resolve().parent / "data"
TARGETS = {100_000: 60.0, 1_000_000: 600.0}


def run(customers: int) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"bench-demo-{customers}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    stages: dict[str, float] = {}
    cpu = time.process_time()
    started = time.perf_counter()
    previous = ["setup", started]

    def progress(stage: str, _done: int, _total: int) -> None:
        now = time.perf_counter()
        name, since = previous
        stages[str(name)] = stages.get(str(name), 0.0) + now - float(since)
        previous[:] = [stage, now]

    result = asyncio.run(
        build_demo(
            f"sqlite+aiosqlite:///{path}",
            DemoPlan(customers=customers, seed=42),
            replace=True,
            progress=progress,
        )
    )
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu
    progress("done", 0, 0)
    stages["finishing"] = stages.pop(str(previous[0]), 0.0) + stages.pop("done", 0.0)
    rows = sum(result.rows.values())
    size_mb = path.stat().st_size / 1e6
    target = TARGETS.get(customers)
    verdict = "" if target is None else f"  [target < {target:.0f} s: "
    verdict += "" if target is None else ("OK]" if total < target else "OVER TARGET]")
    print(
        f"demo, {customers:,} customers, SQLite: {total:.1f} s total (CPU {cpu:.1f} s), "
        f"{rows:,} rows, {size_mb:,.0f} MB{verdict}"
    )
    print("   " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items()))
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time demo database generation.")
    parser.add_argument("--customers", type=int, action="append")
    args = parser.parse_args()
    for customers in args.customers or [100_000, 1_000_000]:
        run(customers)


if __name__ == "__main__":
    main()
