"""Name search over the index: candidate names from posting lists, then ranking.

Each query word becomes a set of dictionary words (exact, prefix, typos). The rarest set
drives: its posting lists are read in name-rank order, and the database keeps only names
that also contain a word of every other set, stopping after a few dozen per driving word and
after a bounded scan, so `maria` costs as little as `zubizarreta`. A whole name typed in any
order is also looked up directly by its sorted words, and names matching all words but one
are gathered in the same statement. The candidates are ranked here: words matched, then
exact > prefix > typo, then the structure rules of core.search.rank, then closeness, then
(per customer) the latest activity.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.search.details import DETAIL_COLUMNS, DETAIL_WIDTH, Detail
from core.search.dictionary import Dictionary, WordMatches
from core.search.keys import meaning_mask
from core.search.plan import (
    NAMES_PER_WORD,
    SECONDARY_CAP,
    Driver,
    plan,
    whole_name_keys,
)
from core.search.rank import Assessment, assess, driving, significant
from core.search.reader import Reader, Rows

FALLBACK_CAP = 2_000
"""Postings per driving list when gathering names that match all words but one: they rank
below every name matching all words, so they only fill the list."""
FALLBACK_BUDGET = 16_000
"""Postings that whole pass reads at most, shared by its driving lists."""
FILLER_BUDGET = 3_000
"""The same when some names matched every word: those rank first, the pass only fills the
list (a rare full name or a set of short prefixes held by one customer)."""
FILLER_LISTS = 4
"""Posting lists a filler reads per plan at most."""
MAX_QUERY_WORDS = 6


@dataclass(frozen=True)
class NameHit:
    detail: Detail
    score: float
    order: tuple[float, ...]


class _Statement:
    """Builds the candidate statement as SQL text, with uniquely named parameters.

    Used where statements are cheap to prepare (SQLite): each posting list is its own
    subquery with the word ids written in, so SQLite plans every one for its words.
    """

    def __init__(self, sets: Sequence[WordMatches]) -> None:
        self.params: dict[str, Any] = {}
        self._sets = sets

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def membership(self, alias: str, matches: WordMatches) -> str:
        """SQL true when `alias.word_id` is one of the words `matches` stands for."""
        parts = []
        if matches.ids:
            ids = ", ".join(str(int(i)) for i in sorted(matches.ids))
            # The unary plus keeps SQLite from probing the index once per listed id.
            parts.append(f"+{alias}.word_id IN ({ids})")
        if matches.prefix_range is not None:
            low, high = matches.prefix_range
            words = f"SELECT id FROM search_word WHERE word >= {self.bind(low)} "
            words += f"AND word < {self.bind(high)}"
            parts.append(f"{alias}.word_id IN ({words})")
        return "(" + " OR ".join(parts) + ")"

    def _checks(self, checks: Sequence[int]) -> str:
        """The WHERE clause keeping a posting `p` whose name matches every set in `checks`.

        First one AND per set on the posting's own signature (core.search.keys): it drops most
        names failing a check without looking up their words (a signature of 0, indexed
        before signatures existed, passes); then the exact tests on the name's words.
        """
        quick = []
        for s in (self._sets[k] for k in checks):
            mask = meaning_mask(s.query, s.penalties)
            if mask:
                quick.append(f"p.sig & {mask} <> 0")
        tests = [f"(p.sig = 0 OR ({' AND '.join(quick)}))"] if quick else []
        sets = [self._sets[k] for k in checks]
        tests += [
            f"EXISTS (SELECT 1 FROM search_name_word x WHERE x.name_id = p.name_id "
            f"AND {self.membership('x', s)})"
            # The rarest word first: most candidates fail it and skip the other checks.
            for s in sorted(sets, key=lambda s: (s.prefix_range is not None, s.postings))
        ]
        return f"WHERE {' AND '.join(tests)}" if tests else ""

    def scan(self, driver: Driver) -> str:
        return (
            f"SELECT name_id FROM (SELECT p.name_id FROM (SELECT name_id, sig FROM "
            f"search_posting WHERE word_id = {driver.word_id} ORDER BY name_id "
            f"LIMIT {driver.cap}) p {self._checks(driver.checks)} LIMIT {driver.keep}) s"
        )

    def statement(self, drivers: Sequence[Driver], keys: Sequence[str]) -> str:
        """Candidate names: those `drivers` keep and those whose sorted key is in `keys`."""
        parts = [self.scan(driver) for driver in drivers]
        if keys:
            marks = ", ".join(self.bind(key) for key in keys)
            parts.append(f"SELECT id FROM search_name WHERE sorted_key IN ({marks})")
        if not parts:
            return META
        return (
            # Each name with its number of customers: namesakes can fill the wanted hits.
            f"{META} UNION ALL SELECT n.id, n.key, (SELECT count(*) FROM search_name_customer "
            "nc WHERE nc.name_id = n.id) FROM search_name n WHERE n.id IN ("
            + " UNION ALL ".join(parts)
            + ")"
        )


META = (
    "SELECT -1, '', value FROM search_meta WHERE key = 'generation' "
    "UNION ALL SELECT -2, '', value FROM search_meta WHERE key = 'words'"
)

QUICK_SLOTS = MAX_QUERY_WORDS - 1
"""Signature masks a driving list of ARRAY_CANDIDATES carries: one per other query word."""
_QUICK = " AND ".join(f"p.sig & d.q{k} <> 0" for k in range(QUICK_SLOTS))
_ARRAY_SCAN = (
    "SELECT c.name_id FROM d CROSS JOIN LATERAL (SELECT p.name_id FROM (SELECT name_id, sig "
    "FROM search_posting WHERE word_id = d.word_id ORDER BY name_id LIMIT d.cap) p "
    f"WHERE (p.sig = 0 OR ({_QUICK})) AND (d.mask = 0 OR coalesce((SELECT "
    "bit_or((CAST(:bits AS jsonb) ->> x.word_id::text)::int) "
    "FROM search_name_word x WHERE x.name_id = p.name_id), 0) & d.mask = d.mask) "
    "LIMIT d.keep) c"
)
ARRAY_CANDIDATES = (
    "WITH d AS (SELECT * FROM unnest(CAST(:words AS int[]), CAST(:caps AS int[]), "
    "CAST(:keeps AS int[]), CAST(:masks AS int[]), CAST(:later AS int[]), "
    + ", ".join(f"CAST(:q{k} AS bigint[])" for k in range(QUICK_SLOTS))
    + ") AS d(word_id, cap, keep, mask, later, "
    + ", ".join(f"q{k}" for k in range(QUICK_SLOTS))
    + ")), "
    f"first AS MATERIALIZED ({_ARRAY_SCAN} WHERE d.later = 0 "
    "UNION SELECT id FROM search_name WHERE sorted_key = ANY(CAST(:keys AS text[]))), "
    f"more AS ({_ARRAY_SCAN} WHERE d.later = 1 AND (SELECT count(*) FROM first) < :limit) "
    f"{META} UNION ALL SELECT n.id, n.key, 0 FROM search_name n WHERE n.id IN "
    "(SELECT name_id FROM first UNION ALL SELECT name_id FROM more)"
)
"""The candidate statement where parameters can be arrays (asyncpg): one text for every
query, so it is parsed and planned once per connection, not once per search (planning the
spelled-out statement cost more than running it). Each driving posting list is a row of
`d`; a name passes when its posting's signature has a bit of each of the driver's `q0`…
masks (core.search.keys.meaning_mask of each other query word; -1 where there is none, a
signature of 0 passing: unknown), then when its words, looked up in `bits` (word id -> bit
of each query word set it belongs to), cover the driver's `mask`. Drivers marked `later` run
only when the others found fewer than `limit` names."""


def _array_params(
    sets: Sequence[WordMatches],
    drivers: Sequence[Driver],
    keys: Sequence[str],
    later: Sequence[Driver],
    limit: int,
    dictionary: Dictionary,
) -> dict[str, Any]:
    """The parameters of ARRAY_CANDIDATES."""
    bits: dict[int, int] = {}
    for k, s in enumerate(sets):
        ids = list(s.ids)
        if s.prefix_range is not None:
            ids += dictionary.prefix_ids(*s.prefix_range)
        for word_id in ids:
            bits[word_id] = bits.get(word_id, 0) | (1 << k)
    every = [*drivers, *later]
    masks = [meaning_mask(s.query, s.penalties) or -1 for s in sets]
    quick = [[masks[k] for k in d.checks][:QUICK_SLOTS] for d in every]
    quick = [q + [-1] * (QUICK_SLOTS - len(q)) for q in quick]
    return {
        "words": [d.word_id for d in every],
        "caps": [d.cap for d in every],
        "keeps": [d.keep for d in every],
        "masks": [sum(1 << k for k in d.checks) for d in every],
        "later": [0] * len(drivers) + [1] * len(later),
        "bits": json.dumps({str(w): b for w, b in bits.items()}, separators=(",", ":")),
        "keys": list(keys),
        "limit": limit,
        **{f"q{k}": [q[k] for q in quick] for k in range(QUICK_SLOTS)},
    }


def _candidates(
    db: Reader,
    dictionary: Dictionary,
    all_sets: Sequence[WordMatches],
    limit: int,
    drive: Sequence[int],
    fill: bool = True,
) -> tuple[dict[int, str], tuple[int, int]]:
    """Candidate names (id -> key) and the index's dictionary version.

    Names matching every query word; when fewer than `limit` do (and `fill`), also names
    matching all words but one. With array parameters (PostgreSQL) that is one statement,
    the database deciding whether to read the second kind; on SQLite (where a statement
    costs microseconds, and a test inside the statement does not spare the scans) two.
    """
    # Particles (`da`, `del`) are in half the names: they rank, but do not find, names.
    sets = [s for k, s in enumerate(all_sets) if not s.empty and k in drive]
    everyone = list(range(len(sets)))
    drivers: list[Driver] = []
    keys: list[str] = []
    if sets:
        drivers = plan(sets, everyone, max(NAMES_PER_WORD, limit * 3), dictionary)
    whole = [s for s in all_sets if not s.empty]
    if len(whole) >= 2:
        keys = whole_name_keys(whole)

    def later(filler: bool = False) -> list[Driver]:
        found: list[Driver] = []
        for skip in everyone if len(sets) >= 2 else []:
            members = [k for k in everyone if k != skip]
            drivers = plan(sets, members, max(limit, 10), dictionary, FALLBACK_CAP)
            # A filler reads only each plan's likeliest lists (they come first).
            found += drivers[:FILLER_LISTS] if filler else drivers
        # One budget for the whole pass, however many words (and so plans) there are.
        if filler:
            cap = max(50, FILLER_BUDGET // max(1, len(found)))
        else:
            cap = max(SECONDARY_CAP, FALLBACK_BUDGET // max(1, len(found)))
        return [replace(d, cap=min(d.cap, cap)) for d in found]

    if getattr(db, "arrays", False):
        if not sets:
            return _read_names(db, META, {})[:2]
        params = _array_params(sets, drivers, keys, later() if fill else [], limit, dictionary)
        return _read_names(db, ARRAY_CANDIDATES, params)[:2]
    sql = _Statement(sets)
    names, version, customers = _read_names(db, sql.statement(drivers, keys), sql.params)
    # Names matching all words but one rank below any matching all: needed only when those
    # do not hold `limit` customers between them.
    if fill and customers < limit and len(sets) >= 2:
        sql = _Statement(sets)
        more, _, _ = _read_names(db, sql.statement(later(filler=bool(names)), []), sql.params)
        names.update(more)
    return names, version


def _read_names(
    db: Reader, statement: str, params: Mapping[str, Any]
) -> tuple[dict[int, str], tuple[int, int], int]:
    """Names (id -> key), the index's version, and the customers the names hold (where the
    statement counts them; else 0)."""
    names: dict[int, str] = {}
    meta = {-1: 0, -2: 0}
    customers = 0
    for nid, key, value in db.rows(statement, params):
        if nid < 0:
            meta[int(nid)] = int(value)
        else:
            names[int(nid)] = str(key)
            customers += int(value)
    return names, (meta[-1], meta[-2]), customers


def _best_customers(
    db: Reader, chosen: Sequence[int], group: Mapping[int, int], limit: int, every: bool
) -> Rows:
    """The `limit` best customers of the chosen names, with their details, in one statement.

    Names come in groups of equal assessment (`group`: name id -> group number, best first).
    Only the best groups holding `limit` customers between them are read (counted first on
    the narrow name-customer table; all groups when `every`), and within them the most
    recently active customers win: each row is the customer's details and its group.
    """
    # `limit` is written in: PostgreSQL plans the statement once per connection (generic
    # plan), and a known LIMIT keeps that plan on the indexes.
    params: dict[str, Any] = {"every": int(every)}
    if getattr(db, "arrays", False):
        params["ids"] = list(chosen)
        params["groups"] = [group[n] for n in chosen]
        named = (
            "g AS (SELECT * FROM unnest(CAST(:ids AS int[]), CAST(:groups AS int[])) "
            "AS g(name_id, grp))"
        )
    else:  # integers written in: SQLite prepares a statement in microseconds
        rows = ", ".join(f"({int(n)}, {int(group[n])})" for n in chosen)
        named = f"g(name_id, grp) AS (VALUES {rows})"
    return db.rows(
        f"WITH {named}, "
        "counted AS (SELECT g.grp, count(*) AS n FROM g "
        "JOIN search_name_customer nc ON nc.name_id = g.name_id GROUP BY g.grp), "
        "kept AS (SELECT grp FROM (SELECT grp, sum(n) OVER (ORDER BY grp ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM counted) k "
        f"WHERE coalesce(before, 0) < {int(limit)} OR :every = 1), "
        # The kept groups' names first (a join lets SQLite read every chosen name's
        # customers before dropping those of groups not kept).
        "best AS (SELECT g.grp, c.id FROM g "
        "JOIN search_name_customer nc ON nc.name_id = g.name_id "
        "JOIN customer c ON c.id = nc.customer_id WHERE g.grp IN (SELECT grp FROM kept) "
        f"ORDER BY g.grp, c.last_activity_at DESC NULLS LAST, c.id LIMIT {int(limit)}) "
        f"SELECT {DETAIL_COLUMNS}, best.grp FROM best JOIN customer c ON c.id = best.id",
        params,
    )


def _widened(
    dictionary: Dictionary, words: Sequence[str], sets: Sequence[WordMatches]
) -> list[WordMatches] | None:
    """The words' matches with looser typos (`max_edits(wide=True)`), or None when that
    cannot find a name matching every word: nothing new, or a word that matches nothing even
    so (`rosa_arias_45705`: 45705). Words matching nothing are looked at first."""
    wide = list(sets)
    changed = False
    for k in sorted(range(len(words)), key=lambda k: not sets[k].empty):
        if len(words[k]) >= 4:  # shorter words get no more typos
            wide[k] = dictionary.match(words[k], wide=True)
            changed = changed or wide[k].ids.keys() != sets[k].ids.keys()
        if wide[k].empty:
            return None
    return wide if changed else None


def search_names(
    db: Reader, dictionary: Dictionary, words: Sequence[str], limit: int
) -> list[NameHit]:
    """Customers by name, best first.

    Args:
        db: a reader on the database holding the index.
        dictionary: this process's dictionary cache; refreshed when the index changed.
        words: folded query words.
        limit: how many customers are wanted.

    Returns:
        Up to about `limit` customers (namesakes tied at the cut may add a few), best first.
    """
    words = significant(words, MAX_QUERY_WORDS)
    if not dictionary.loaded:
        dictionary.refresh(db)
    drive = driving(words)
    all_sets = [dictionary.match(word) for word in words]
    names, version = _candidates(db, dictionary, all_sets, limit, drive)
    if version != dictionary.version:  # another process added words or rebuilt the index
        dictionary.refresh(db)
        all_sets = [dictionary.match(word) for word in words]
        names, version = _candidates(db, dictionary, all_sets, limit, drive)
    assessed = assess(all_sets, names) if names else {}
    if max((a.matched for a in assessed.values()), default=0) < len(words):
        # No name matched every typed word: look again with looser typos (`bewl roman` for
        # Abel Román, two edits in a four-letter word), when they mean more words.
        wide = _widened(dictionary, words, all_sets)
        if wide is not None:
            # Only names matching every word: those matching all but one were read already.
            more, _ = _candidates(db, dictionary, wide, limit, drive, fill=False)
            if more:
                all_sets, names = wide, {**names, **more}
                assessed = assess(all_sets, names)
    if not names:
        return []
    ranked = sorted(assessed, key=lambda n: assessed[n].sort_key())
    # Every name has a customer (but for the few left behind by renames): a few more names
    # than hits wanted are enough, plus those tied with the last (namesakes by activity).
    chosen = ranked[: limit + 3]
    last = assessed[chosen[-1]]
    for nid in ranked[len(chosen) : len(chosen) + 30]:
        if assessed[nid] != last:  # namesakes tied at the cut are ranked by activity
            break
        chosen.append(nid)
    # Customers of a better-assessed name always come first, and namesakes by activity.
    groups: list[Assessment] = []
    group: dict[int, int] = {}
    for nid in chosen:
        if not groups or groups[-1] != assessed[nid]:
            groups.append(assessed[nid])
        group[nid] = len(groups) - 1
    rows = _best_customers(db, chosen, group, limit, every=False)
    if (
        len(rows) < limit
        and max((int(r[DETAIL_WIDTH]) for r in rows), default=-1) < len(groups) - 1
    ):
        rows = _best_customers(db, chosen, group, limit, every=True)  # customers renamed meanwhile
    ranking = []
    for row in rows:
        detail = Detail.from_row(row)
        assessment = groups[int(row[DETAIL_WIDTH])]
        score = assessment.score()
        order = (*assessment.sort_key(), -detail.activity)
        ranking.append((order, score, detail.customer_id, detail))
    ranking.sort(key=lambda r: r[:3])
    return [NameHit(detail, score, order) for order, score, _, detail in ranking[:limit]]
