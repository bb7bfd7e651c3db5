"""The baselines bench_search measures Frontline against, in the same run, on the same name
queries: a rapidfuzz WRatio full scan over every customer's name, and SQLite FTS5 trigram
candidates reranked by WRatio."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections import defaultdict
from typing import Any

from benchmarks.search_queries import NAME_KINDS, Person, Query
from core.search.normalize import fold


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _baseline_row(
    name: str,
    chosen: list[Query],
    found: list[list[int]],
    times: list[float],
    people: dict[int, Person],
) -> dict[str, Any]:
    """Recall@5 (strict and namesake-tolerant, as for Frontline) and latency of a baseline."""
    per_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for query, top in zip(chosen, found, strict=True):
        key = people[query.truth].key
        tolerant = any(people[c].key == key for c in top if c in people)
        per_kind[query.kind].append((query.truth in top, tolerant))
    every = [hit for hits in per_kind.values() for hit in hits]
    result = {
        "queries": len(chosen),
        "recall_strict": sum(s for s, _ in every) / max(len(every), 1),
        "recall_namesake": sum(t for _, t in every) / max(len(every), 1),
        "kinds": {k: sum(t for _, t in v) / len(v) for k, v in per_kind.items()},
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
    }
    kinds = ", ".join(f"{k} {v:.3f}" for k, v in sorted(result["kinds"].items()))
    print(
        f"\n== {name}, {len(chosen)} name queries: recall@5 {result['recall_strict']:.3f} "
        f"strict, {result['recall_namesake']:.3f} namesake-tolerant ({kinds}); "
        f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms"
    )
    return result


def baseline_queries(queries: list[Query], limit: int) -> list[Query]:
    """The first `limit` name queries of each kind (prefix queries with ≤ 5 customers)."""
    chosen: list[Query] = []
    for kind in NAME_KINDS:
        of_kind = [q for q in queries if q.kind == kind and q.matches <= 5]
        chosen += of_kind[:limit]
    return chosen


def full_scan(chosen: list[Query], people: dict[int, Person]) -> dict[str, Any]:
    """Baseline: the name queries through rapidfuzz WRatio over every customer's name."""
    from rapidfuzz import fuzz, process

    ids = list(people)
    names = [people[i].key for i in ids]
    times, found = [], []
    for query in chosen:
        started = time.perf_counter()
        top = process.extract(fold(query.q), names, scorer=fuzz.WRatio, limit=5)
        times.append((time.perf_counter() - started) * 1000)
        found.append([ids[index] for _, _, index in top])
    label = f"rapidfuzz WRatio full scan over {len(names):,} names"
    return _baseline_row(label, chosen, found, times, people)


def fts5_trigram(chosen: list[Query], people: dict[int, Person]) -> dict[str, Any]:
    """Baseline: SQLite FTS5 trigram index, best 200 by bm25 over the query's trigrams, then
    rapidfuzz WRatio on those 200 (the database-native way, DESIGN.md's building block)."""
    from rapidfuzz import fuzz, process

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE f USING fts5(key, tokenize='trigram')")
    connection.executemany(
        "INSERT INTO f (rowid, key) VALUES (?, ?)", ((p.id, p.key) for p in people.values())
    )
    connection.commit()
    times, found = [], []
    for query in chosen:
        started = time.perf_counter()
        grams = {word[i : i + 3] for word in fold(query.q).split() for i in range(len(word) - 2)}
        top: list[int] = []
        if grams:
            match = " OR ".join(f'"{g}"' for g in sorted(grams))
            rows = connection.execute(
                "SELECT rowid, key FROM f WHERE f MATCH ? ORDER BY rank LIMIT 200", (match,)
            ).fetchall()
            keys = {int(r): str(k) for r, k in rows}
            ranked = process.extract(fold(query.q), keys, scorer=fuzz.WRatio, limit=5)
            top = [int(key) for _, _, key in ranked]
        times.append((time.perf_counter() - started) * 1000)
        found.append(top)
    connection.close()
    label = "SQLite FTS5 trigram + WRatio rerank of 200"
    return _baseline_row(label, chosen, found, times, people)
