"""A cached SQLite demo database for benchmarks: prints its path, building it when missing.

    .venv/bin/python -m benchmarks.demo_db --customers 100000

The file is benchmarks/data/demo-N.db (git-ignored), built with seed 42 and history up to
the day it was built. Delete it (or pass --rebuild) to build it again.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import sys
import time
from pathlib import Path

from core.demo.build import build_demo
from core.demo.generator import DemoPlan

DATA_DIR = Path(__file__).resolve().parent / "data"


def demo_path(customers: int) -> Path:
    return DATA_DIR / f"demo-{customers}.db"


def ensure_demo_db(customers: int, rebuild: bool = False, quiet: bool = False) -> Path:
    """The path of the cached demo database with `customers` customers, built if missing."""
    path = demo_path(customers)
    if path.exists() and not rebuild:
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / f".demo-{customers}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another benchmark may be building it right now
        if path.exists() and not rebuild:
            return path
        _build(path, customers, quiet)
    return path


def _build(path: Path, customers: int, quiet: bool) -> None:
    started = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if not quiet and (now - last[0] > 5 or done == total):
            last[0] = now
            print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr)

    asyncio.run(
        build_demo(
            f"sqlite+aiosqlite:///{path}",
            DemoPlan(customers=customers, seed=42),
            replace=True,
            progress=progress,
        )
    )
    if not quiet:
        print(f"built {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="build it again even if cached")
    args = parser.parse_args()
    print(ensure_demo_db(args.customers, rebuild=args.rebuild))


if __name__ == "__main__":
    main()
