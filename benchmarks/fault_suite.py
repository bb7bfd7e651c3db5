"""The fault-injection matrix of tests/faults, run for figures: every write under every fault.

    .venv/bin/python -m benchmarks.fault_suite [-n ROUNDS] [--no-postgres]

Each round runs every write (draft, save call, offer answer, quality score, customer edit,
import batch, API event, index rebuild) under each fault that applies to it:

- locked: SQLite's write lock held by another connection during a write, then let go;
- down: PostgreSQL stopped at once during a write, then started (a throwaway cluster of this
  run's own, tests/pg_cluster.py; never the shared server);
- killed: the writing process SIGKILLed mid-write (a writer process, `frontline api` in a
  burst, `frontline import`, `frontline search --reindex`), on SQLite and on that cluster.

The terminal closing (SIGHUP) under the console is tested in tests/console/test_hang_up.py
and test_crash_recovery.py, not here. Printed: faults injected, writes tried, acknowledged,
acknowledged but lost (must be 0), half-written (must be 0), recovered by themselves; the
exit status is 1 when anything was lost or half-written or did not recover.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from core.db import upgrade_database
from tests.conftest import _truncate_all
from tests.faults.faults import (
    LOCK_WAIT_MS,
    Lock,
    Run,
    api_for,
    import_under_lock,
    killed_api,
    killed_command,
    killed_writer,
    under_fault,
)
from tests.faults.writes import WRITES, Target, import_file
from tests.pg_cluster import Cluster, throwaway_cluster

SERVICE_WRITES = ["draft", "save call", "offer answer", "quality score", "customer edit"]


class Databases:
    """A fresh database for each run: a copy of a migrated SQLite file, or the cluster
    emptied."""

    def __init__(self, home: Path, cluster: Cluster | None) -> None:
        self.home = home
        self.cluster = cluster
        self.template = home / "template.db"
        upgrade_database(f"sqlite+aiosqlite:///{self.template}")
        self.count = 0

    def fresh(self, kind: str) -> Target:
        self.count += 1
        folder = self.home / f"run-{self.count}"
        folder.mkdir()
        if kind == "sqlite":
            shutil.copy(self.template, folder / "frontline.db")
            return Target(f"sqlite+aiosqlite:///{folder / 'frontline.db'}", folder)
        assert self.cluster is not None
        self.cluster.start_if_stopped()
        asyncio.run(_truncate_all(self.cluster.url))
        return Target(self.cluster.url, folder)


def matrix(dbs: Databases, round_number: int) -> Iterator[Run]:
    """One round: every write under every fault that applies."""
    import core.db

    for name, write in WRITES.items():
        if name == "import batch":
            yield import_under_lock(dbs.fresh("sqlite"))
        else:
            target = dbs.fresh("sqlite")
            if name == "index rebuild":
                target.extra_env["FRONTLINE_REINDEX_LOCK_WAIT_SECONDS"] = "1"
            lock = Lock(target.url)
            saved = core.db.SQLITE_BUSY_TIMEOUT_MS
            core.db.SQLITE_BUSY_TIMEOUT_MS = LOCK_WAIT_MS
            try:
                with api_for(name, target) as api:
                    target.api_url = api
                    yield asyncio.run(under_fault(write, target, "locked", lock.__enter__,
                                                  lock.release))  # fmt: skip
            finally:
                core.db.SQLITE_BUSY_TIMEOUT_MS = saved
        if dbs.cluster is not None:
            target = dbs.fresh("postgresql")
            cluster = dbs.cluster
            with api_for(name, target) as api:
                target.api_url = api
                yield asyncio.run(under_fault(write, target, "down", cluster.stop, cluster.start))
        for kind in ("sqlite", "postgresql") if dbs.cluster is not None else ("sqlite",):
            target = dbs.fresh(kind)
            seed = round_number * 100 + len(name)
            if name in SERVICE_WRITES:
                yield killed_writer(write, target, acks_before_kill=3, seed=seed)
            elif name == "API event":
                yield killed_api(target, acks_before_kill=8, seed=seed)
            elif name == "import batch":
                args = ["import", "customers", str(import_file(target, 0))]
                yield killed_command(write, target, args, seed=seed)
            else:
                yield killed_command(write, target, ["search", "--reindex"], seed=seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=1, help="rounds of the matrix")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    home = Path(tempfile.mkdtemp(prefix="frontline-faults-"))
    runs: list[Run] = []
    try:
        with contextlib.ExitStack() as stack:
            cluster = None if args.no_postgres else stack.enter_context(throwaway_cluster())
            dbs = Databases(home, cluster)
            for round_number in range(args.rounds):
                for run in matrix(dbs, round_number):
                    runs.append(run)
                    bad = run.verdict.lost or run.verdict.half or not run.recovered
                    print(
                        f"{'FAIL' if bad else 'ok  '} {run.write:<14} {run.fault:<7} "
                        f"tried {run.tried:>3}  acked {len(run.acked):>3}"
                        + (f"  {run.verdict}" if bad else ""),
                        flush=True,
                    )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    lost = sum(len(r.verdict.lost) for r in runs)
    half = sum(len(r.verdict.half) for r in runs)
    recovered = sum(r.recovered for r in runs)
    print()
    print(f"faults injected        {len(runs)}")
    print(f"writes tried           {sum(r.tried for r in runs)}")
    print(f"writes acknowledged    {sum(len(r.acked) for r in runs)}")
    print(f"refused, user told     {sum(len(r.told) for r in runs)}")
    print(f"acknowledged but lost  {lost}")
    print(f"half-written           {half}")
    print(f"recovered by itself    {recovered} of {len(runs)}")
    print(
        f"time {time.perf_counter() - started:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU in this process"
    )
    return 1 if lost or half or recovered < len(runs) else 0


if __name__ == "__main__":
    sys.exit(main())
