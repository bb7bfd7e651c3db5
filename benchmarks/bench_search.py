"""Customer search: recall@5 per kind of query, latency, index build time, memory.

    .venv/bin/python -m benchmarks.bench_search --customers 100000
    .venv/bin/python -m benchmarks.bench_search --customers 1000000 \
        --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Customers come from the demo generator (benchmarks.demo_db; names as real bases have them,
see core/demo/names.py); their customer, contact point and loyalty rows are copied into a
fresh database (benchmarks/data/search-N.db, and a PostgreSQL database
`frontline_bench_search_N` with --postgres), three customers in ten get a customer number of
another shape (`X0003`, `ES-2021-16`), and the index is rebuilt (timed). The queries are
held out: drawn by benchmarks.search_queries with their own seed (kinds and typo counting
there, as issue 14 counts them), each with its true customer.

The queries go through `frontline search --batch` (one process, as the issue says); latency
is the `ms` it reports (the search itself), memory its peak RSS. In the same run, the first
`--scan-queries` name queries of each kind go through two baselines: a rapidfuzz WRatio full
scan over every customer's name, and SQLite FTS5 trigram + WRatio rerank.

Recall is reported strictly (the very customer in the top 5) and "namesake-tolerant" (a top-5
hit with exactly the same name, or the same phone or email, counts: nothing in the query can
tell them apart). Prefix queries are split by how many customers they match: "prefix ≤5" is
the kind with a target; "ambiguous" prefixes are reported for information.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from benchmarks.demo_db import DATA_DIR, ensure_demo_db
from benchmarks.postgres import recreate_database
from benchmarks.search_baselines import baseline_queries, fts5_trigram, full_scan, percentile
from benchmarks.search_queries import (
    PREFIX_KINDS,
    QUERY_SEED,
    Person,
    Query,
    make_queries,
    other_shape,
)
from core.db import make_engine, upgrade_database
from core.search.indexer import rebuild_index

TABLES = ("customer", "contact_point", "loyalty_account")


# --- data ---------------------------------------------------------------------------------


def sqlite_copy(customers: int) -> Path:
    """A fresh migrated SQLite file holding the demo's customers and contact points."""
    demo = ensure_demo_db(customers)
    path = DATA_DIR / f"search-{customers}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    connection = sqlite3.connect(path)
    connection.execute(f"ATTACH DATABASE '{demo}' AS demo")
    for table in TABLES:
        columns = ", ".join(
            row[1] for row in connection.execute(f"PRAGMA main.table_info({table})")
        )
        connection.execute(
            f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM demo.{table}"
        )
    _renumber(connection)
    connection.close()
    return path


def sqlite_direct(customers: int) -> Path:
    """The same fresh file, the demo generator's customers written straight into it.

    Only the tables the search reads (customers, contact points, loyalty) are written, so a
    3,000,000-customer base takes minutes rather than the demo's full history build. The
    customers are the demo's (same generator and seed); their activity dates come from the
    history generated but not kept.
    """
    from core.demo.generator import generate
    from core.demo.tables import DemoPlan
    from core.demo.writer import sqlite_insert

    path = DATA_DIR / f"search-{customers}.db"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    connection.execute("BEGIN")
    done = 0
    for size, tables in generate(DemoPlan(customers=customers, seed=42)):
        for rows in tables:
            if rows.table in TABLES:
                sqlite_insert(connection, rows)
        done += size
        if done % 200_000 < size:
            print(f"  customers: {done:,}/{customers:,}", file=sys.stderr)
    connection.execute("COMMIT")
    _renumber(connection)
    connection.execute("ANALYZE")
    connection.close()
    return path


def _renumber(connection: sqlite3.Connection) -> None:
    # Customer numbers of other shapes (merged systems), so that the id kind tests them too.
    renumbered = [
        (shape, cid)
        for (cid,) in connection.execute("SELECT id FROM customer")
        if (shape := other_shape(cid)) is not None
    ]
    connection.executemany("UPDATE customer SET external_id = ? WHERE id = ?", renumbered)
    connection.commit()


def load_people(path: Path) -> dict[int, Person]:
    connection = sqlite3.connect(path)
    people = {
        cid: Person(cid, ext, first, last)
        for cid, ext, first, last in connection.execute(
            "SELECT id, external_id, first_name, last_name FROM customer"
        )
    }
    for cid, kind, value, normalized in connection.execute(
        "SELECT customer_id, kind, value, normalized FROM contact_point ORDER BY is_primary DESC"
    ):
        person = people.get(cid)
        if person is None:
            continue
        if kind == "phone":
            person.phones.append((value, normalized))
        else:
            person.emails.append(value)
    connection.close()
    return people


def _parse(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "bool":
        return bool(value)
    return value


async def postgres_reusable(admin_url: str, customers: int) -> str | None:
    """The URL of an already loaded and indexed benchmark database for `customers`, if any."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"frontline_bench_search_{customers}"
    connect = {"user": url.username, "password": url.password, "host": url.host, "port": url.port}
    try:
        conn = await asyncpg.connect(database=name, **connect)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        count = await conn.fetchval("SELECT count(*) FROM customer")
        indexed = await conn.fetchval("SELECT count(*) FROM search_name_customer")
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()
    if count != customers or not indexed:
        return None
    return url.set(database=name).render_as_string(hide_password=False)


async def postgres_copy(sqlite_path: Path, admin_url: str, customers: int) -> str:
    """A fresh PostgreSQL database with the same customers (COPY), migrated to head."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    # One database per size, so that --skip-build can reuse a loaded million.
    name = f"frontline_bench_search_{customers}"
    connect = {"user": url.username, "password": url.password, "host": url.host, "port": url.port}
    target = await recreate_database(admin_url, name)
    await asyncio.to_thread(upgrade_database, target)
    source = sqlite3.connect(sqlite_path)
    conn = await asyncpg.connect(database=name, **connect)
    for table in TABLES:
        columns = await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = $1 ORDER BY ordinal_position",
            table,
        )
        names = [c["column_name"] for c in columns]
        kinds = [
            "date"
            if c["data_type"] == "date"
            else "datetime"
            if c["data_type"].startswith("timestamp")
            else "bool"
            if c["data_type"] == "boolean"
            else ""
            for c in columns
        ]
        cursor = source.execute(f"SELECT {', '.join(names)} FROM {table}")
        while rows := cursor.fetchmany(100_000):
            records = [tuple(_parse(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
            await conn.copy_records_to_table(table, records=records, columns=names)
    await conn.execute("ANALYZE")
    await conn.close()
    source.close()
    return target


# --- queries (benchmarks.search_queries) ------------------------------------------------


def count_prefix_matches(queries: list[Query], people: dict[int, Person]) -> None:
    """How many customers each prefix query matches (every word a prefix of a name word)."""
    postings: dict[str, set[int]] = defaultdict(set)
    for p in people.values():
        for word in p.key.split():
            postings[word].add(p.id)
    vocabulary = sorted(postings)
    for query in queries:
        if query.kind not in PREFIX_KINDS:
            continue
        matched: set[int] | None = None
        for part in query.q.split():
            found: set[int] = set()
            for word in vocabulary:
                if word.startswith(part):
                    found |= postings[word]
            matched = found if matched is None else matched & found
        query.matches = len(matched or ())


# --- measuring ----------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pids(url: str) -> list[int]:
    """The server processes serving the benchmark database (PostgreSQL on this machine)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)

    async def pids() -> list[int]:
        conn = await asyncpg.connect(
            user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
        )
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                u.database,
            )
        finally:
            await conn.close()
        return [int(r["pid"]) for r in rows]

    return asyncio.run(pids())


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += _cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def run_batch(
    url: str, queries: list[Query], warmup: int = 30
) -> tuple[list[dict[str, Any]], int, dict[str, tuple[float, float]]]:
    """Answers from `frontline search --batch`, its peak RSS in kB, and CPU per query by
    kind in ms: (searching process, database server's processes; 0 on SQLite).

    The queries go kind by kind, so that the process's CPU clock (from /proc, in ticks) can
    be read between kinds: on a shared machine CPU time says what wall time cannot.
    """
    env = dict(os.environ, FRONTLINE_DATABASE_URL=url)
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "search", "--batch", "--limit", "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    rng = random.Random(7)
    for query in rng.sample(queries, min(warmup, len(queries))):  # load caches, as a console would
        process.stdin.write(json.dumps({"q": query.q}) + "\n")
        process.stdin.flush()
        process.stdout.readline()
    server = _backend_pids(url) if url.startswith("postgresql") else []
    answers: list[dict[str, Any]] = [{} for _ in queries]
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, query in enumerate(queries):
        by_kind[query.kind].append(i)
    cpu: dict[str, tuple[float, float]] = {}
    total_before = _cpu_seconds(process.pid)
    for kind, members in by_kind.items():
        before, server_before = _cpu_seconds(process.pid), _cpu_of(server)
        for i in members:
            process.stdin.write(json.dumps({"q": queries[i].q}) + "\n")
            process.stdin.flush()
            answers[i] = json.loads(process.stdout.readline())
        cpu[kind] = (
            1000 * (_cpu_seconds(process.pid) - before) / len(members),
            1000 * (_cpu_of(server) - server_before) / len(members),
        )
    total = _cpu_seconds(process.pid) - total_before
    print(f"searching process CPU: {1000 * total / len(queries):.2f} ms per query on average")
    status = Path(f"/proc/{process.pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    process.stdin.close()
    process.wait()
    return answers, peak, cpu


def same_customer(hit: dict[str, Any], query: Query, people: dict[int, Person]) -> bool:
    """A hit nothing in the query can tell from the true customer (namesake, shared contact)."""
    truth, other = people[query.truth], people.get(hit["customer_id"])
    if other is None:
        return False
    if query.kind.startswith("phone"):
        return bool({n for _, n in truth.phones} & {n for _, n in other.phones})
    if query.kind.startswith("email"):
        return bool({e.lower() for e in truth.emails} & {e.lower() for e in other.emails})
    return truth.key == other.key


def report(
    label: str,
    queries: list[Query],
    answers: list[dict[str, Any]],
    people: dict[int, Person],
    show_misses: bool = False,
    cpu: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, query in enumerate(queries):
        kind = query.kind
        if kind in PREFIX_KINDS:
            kind += " (≤5 match)" if query.matches <= 5 else " (ambiguous)"
        groups[kind].append(i)
    for kind, members in sorted(groups.items()):
        strict = tolerant = 0
        for i in members:
            results = answers[i]["results"][:5]
            ids = [hit["customer_id"] for hit in results]
            strict += queries[i].truth in ids
            found = any(same_customer(hit, queries[i], people) for hit in results)
            tolerant += found
            if show_misses and not found and "ambiguous" not in kind:
                truth = people[queries[i].truth]
                names = [hit["name"] for hit in results]
                print(
                    f"  miss [{kind}] {queries[i].q!r} -> want {truth.first} {truth.last}: {names}"
                )
        ms = [answers[i]["ms"] for i in members]
        own, server = (cpu or {}).get(queries[members[0]].kind, (0.0, 0.0))
        rows[kind] = {
            "cpu_ms": own,
            "server_cpu_ms": server,
            "queries": len(members),
            "recall_strict": strict / len(members),
            "recall_namesake": tolerant / len(members),
            "p50": statistics.median(ms),
            "p95": percentile(ms, 0.95),
        }
    all_ms = [answer["ms"] for answer in answers]
    if show_misses:
        slowest = sorted(range(len(queries)), key=lambda i: -answers[i]["ms"])[:15]
        for i in slowest:
            print(f"  slow [{queries[i].kind}] {queries[i].q!r}: {answers[i]['ms']:.1f} ms")
    summary = {
        "label": label,
        "p50": statistics.median(all_ms),
        "p95": percentile(all_ms, 0.95),
        "p99": percentile(all_ms, 0.99),
        "load": os.getloadavg()[0],
        "kinds": rows,
    }
    print(f"\n== {label}: {len(queries)} queries")
    print(
        f"{'kind':<34}{'n':>5}{'recall@5':>10}{'namesake':>10}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'CPU ms':>8}{'server':>8}"
    )
    for kind, row in rows.items():
        print(
            f"{kind:<34}{row['queries']:>5}{row['recall_strict']:>10.1%}"
            f"{row['recall_namesake']:>10.1%}{row['p50']:>9.2f}{row['p95']:>9.2f}"
            f"{row['cpu_ms']:>8.2f}{row['server_cpu_ms']:>8.2f}"
        )
    print("(CPU ms: the searching process's CPU per query of the kind, prefix kinds both")
    print(" halves together; server: the PostgreSQL processes' CPU per query)")
    print(
        f"latency (search itself): p50 {summary['p50']:.2f} ms, p95 {summary['p95']:.2f} ms, "
        f"p99 {summary['p99']:.2f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    return summary


async def timed_rebuild(url: str) -> float:
    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    count = await rebuild_index(engine)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await engine.dispose()
    # The build uses both cores (reading, computing and writing threads): the machine's load
    # over the last minute says how much of them it had.
    load = os.getloadavg()[0]
    print(
        f"index build: {count:,} customers in {elapsed:.1f} s "
        f"({cpu:.1f} s CPU in this process, all its threads; {url.split('://')[0]}; "
        f"load {load:.1f})"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per kind")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="also measure on PostgreSQL")
    parser.add_argument(
        "--scan-queries", type=int, default=50, help="name queries per kind for the baselines"
    )
    parser.add_argument("--seed", type=int, default=QUERY_SEED, help="the queries' own seed")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument(
        "--skip-build",
        action="store_true",
        help="reuse search-N.db (and the PostgreSQL database) and its index as they are",
    )
    parser.add_argument(
        "--no-sqlite", action="store_true", help="with --postgres: measure PostgreSQL only"
    )
    parser.add_argument("--no-scan", action="store_true", help="skip both baselines")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="generate the customers straight into the search copy (no demo database, no "
        "history: for 3,000,000)",
    )
    args = parser.parse_args()

    results: dict[str, Any] = {"customers": args.customers}
    path = DATA_DIR / f"search-{args.customers}.db"
    sqlite_url = f"sqlite+aiosqlite:///{path}"
    if not (args.skip_build and path.exists()):
        started = time.perf_counter()
        path = (sqlite_direct if args.direct else sqlite_copy)(args.customers)
        print(f"copied {args.customers:,} demo customers in {time.perf_counter() - started:.1f} s")
        results["build_sqlite_s"] = asyncio.run(timed_rebuild(sqlite_url))
    people = load_people(path)
    queries = make_queries(people, args.queries, args.seed)
    count_prefix_matches(queries, people)
    if not (args.no_sqlite and args.postgres):
        answers, peak, cpu = run_batch(sqlite_url, queries)
        answers_sqlite = answers
        results["sqlite"] = report(
            f"SQLite, {args.customers:,} customers",
            queries,
            answers,
            people,
            args.show_misses,
            cpu,
        )
        results["sqlite"]["peak_rss_mb"] = peak / 1024
        print(f"peak RSS of the searching process: {peak / 1024:.0f} MB")
    if not args.no_scan:
        chosen = baseline_queries(queries, args.scan_queries)
        results["full_scan"] = full_scan(chosen, people)
        results["fts5_trigram"] = fts5_trigram(chosen, people)
        ours = {(q.q, q.truth) for q in chosen}
        if "sqlite" in results:
            mine = [
                ms
                for q, answer in zip(queries, answers_sqlite, strict=True)
                if (q.q, q.truth) in ours
                for ms in [answer["ms"]]
            ]
            p95 = percentile(mine, 0.95)
            print(
                f"ratios on these queries, p95: Frontline {p95:.2f} ms; full scan "
                f"{results['full_scan']['p95'] / p95:.0f}x slower, FTS5 trigram "
                f"{results['fts5_trigram']['p95'] / p95:.0f}x slower"
            )
    if args.postgres:
        pg_url = None
        if args.skip_build:
            pg_url = asyncio.run(postgres_reusable(args.postgres, args.customers))
        if pg_url is None:
            pg_url = asyncio.run(postgres_copy(path, args.postgres, args.customers))
            results["build_postgres_s"] = asyncio.run(timed_rebuild(pg_url))
        answers, peak, cpu = run_batch(pg_url, queries)
        results["postgres"] = report(
            f"PostgreSQL, {args.customers:,} customers",
            queries,
            answers,
            people,
            args.show_misses,
            cpu,
        )
        results["postgres"]["peak_rss_mb"] = peak / 1024
        print(f"peak RSS of the searching process: {peak / 1024:.0f} MB")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this benchmark process itself peaked at {own:.0f} MB; it holds every name)")
    out = DATA_DIR / f"bench_search-{args.customers}{'-pg' if args.postgres else ''}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
