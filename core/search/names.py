"""Name search over the index: candidate names from posting lists, then ranking.

Each query word becomes a set of dictionary words (exact, prefix, typos). The rarest set
drives: its posting lists are read in name-rank order, and the database keeps only names
that also contain a word of every other set, stopping after a few dozen per driving word and
after a bounded scan, so `maria` costs as little as `zubizarreta`. A whole name typed in any
order is also looked up directly by its sorted words, and names matching all words but one
are gathered in the same statement. The candidates are ranked here: words matched, then
exact > prefix > typo, then rapidfuzz closeness, then (per customer) the latest activity.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from core.search.bulk import PAIR
from core.search.details import Detail, activity_stamp, load_details
from core.search.dictionary import PREFIX, PREFIX_TYPO, Dictionary, WordMatches
from core.search.reader import Reader, Rows

NAMES_PER_WORD = 40
"""Candidate names kept per driving word."""
SCAN_CAP = 20_000
"""Postings of one driving word read at most: the cost ceiling of a very common word."""
DRIVING_WORDS = 8
INCOMPLETE = 5000.0
"""Extra cost of a plan that cannot read every meaning of a word."""
PAIR_WORDS = 4
"""Meanings of each of the two driving words combined into pairs (best first)."""
SECONDARY_WORDS = 4
SECONDARY_CAP = 500
"""Postings read for a less likely meaning of a word (a typo when the word exists)."""
WHOLE_NAME_CHOICES = 4
WHOLE_NAME_COMBINATIONS = 64
MAX_QUERY_WORDS = 6


@dataclass(frozen=True)
class NameHit:
    detail: Detail
    score: float
    order: tuple[float, ...]


def single_cost(s: WordMatches) -> float:
    """Postings read when this word's meanings drive the search alone."""
    cost = 0.0
    for k, df in enumerate(s.ranked_df[:DRIVING_WORDS]):
        cost += min(df, SCAN_CAP if k < s.best else SECONDARY_CAP) + 30
    if len(s.ranked_df) > DRIVING_WORDS or s.prefix_range is not None:
        cost += INCOMPLETE
    return cost


def pair_cost(a: WordMatches, b: WordMatches, dictionary: Dictionary) -> float:
    """Postings read when two words drive together through their pairs' posting lists.

    The pairs' lengths are known (the dictionary holds them): words that go together
    ("miguel angel", "maria carmen") have far longer pair lists than chance would say.
    """
    cost = 0.0
    for x, da in zip(a.ranked_words[:PAIR_WORDS], a.ranked_df, strict=False):
        for y, db in zip(b.ranked_words[:PAIR_WORDS], b.ranked_df, strict=False):
            if x == y:  # no pair list for a word twice ("medina medina"): the old guess
                cost += 30 + min(SCAN_CAP, 2 * da * db / dictionary.names_estimate)
            else:
                cost += 30 + min(SCAN_CAP, dictionary.pair_df(x, y))
    for s in (a, b):
        cost += sum(
            min(df, SECONDARY_CAP) + 30
            for df in s.ranked_df[PAIR_WORDS : PAIR_WORDS + SECONDARY_WORDS]
        )
        if len(s.ranked_df) > PAIR_WORDS + SECONDARY_WORDS:
            cost += INCOMPLETE
    return cost


class _Statement:
    """Builds one SQL statement with uniquely named parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

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

    def _scan(self, driver: str, where: str, cap: int, per_word: int) -> str:
        return (
            f"SELECT name_id FROM (SELECT p.name_id FROM (SELECT name_id FROM search_posting "
            f"WHERE word_id = {driver} ORDER BY name_id LIMIT {cap}) p "
            f"{where} LIMIT {per_word}) s"
        )

    def _checks(self, sets: Sequence[WordMatches]) -> str:
        checks = [
            f"EXISTS (SELECT 1 FROM search_name_word x WHERE x.name_id = p.name_id "
            f"AND {self.membership('x', s)})"
            # The rarest word first: most candidates fail it and skip the other checks.
            for s in sorted(sets, key=lambda s: (s.prefix_range is not None, s.postings))
        ]
        return f"WHERE {' AND '.join(checks)}" if checks else ""

    def scan(self, sets: Sequence[WordMatches], per_word: int, dictionary: Dictionary) -> list[str]:
        """Subqueries: names with a word of every set, driven by the cheapest posting lists.

        Either one set's words drive (each stopping after `per_word` names or a bounded
        scan), or two sets drive together through their pairs' posting lists ("garcia+lopez"
        is far shorter than either word's list). The plan reading the fewest postings wins;
        a plan that leaves some meanings of a word unread counts as dearer.

        Args:
            sets: the query words' matches (none empty).
            per_word: names kept per driving posting list.
            dictionary: the dictionary (for the pairs' lengths).
        """
        plans: list[tuple[float, int, int]] = [(single_cost(s), i, -1) for i, s in enumerate(sets)]
        for i, j in itertools.combinations(range(len(sets)), 2):
            if sets[i].prefix_range is None and sets[j].prefix_range is None:
                plans.append((pair_cost(sets[i], sets[j], dictionary), i, j))
        _, i, j = min(plans)
        parts: list[str] = []
        if j < 0:
            first = sets[i]
            where = self._checks([s for k, s in enumerate(sets) if k != i])
            for position, word_id in enumerate(first.ranked_ids[:DRIVING_WORDS]):
                likely = position < first.best
                cap, keep = (SCAN_CAP, per_word) if likely else (SECONDARY_CAP, per_word // 3)
                parts.append(self._scan(str(int(word_id)), where, cap, keep))
            return parts
        a, b = sets[i], sets[j]
        pairs: dict[str, int] = {}
        for x_rank, x in enumerate(a.ranked_words[:PAIR_WORDS]):
            for y_rank, y in enumerate(b.ranked_words[:PAIR_WORDS]):
                if x != y:
                    # The likeliest meanings of both words keep the most names.
                    likely = x_rank < a.best and y_rank < b.best
                    pair = PAIR.join(sorted((x, y)))
                    pairs[pair] = max(pairs.get(pair, 0), per_word if likely else per_word // 3)
        where = self._checks([s for k, s in enumerate(sets) if k not in (i, j)])
        for pair, keep in sorted(pairs.items()):
            driver = f"(SELECT id FROM search_word WHERE word = {self.bind(pair)})"
            parts.append(self._scan(driver, where, SCAN_CAP, keep))
        # Rarer meanings beyond the pairs: a short scan each.
        for k, s in ((i, a), (j, b)):
            where = self._checks([t for m, t in enumerate(sets) if m != k])
            for word_id in s.ranked_ids[PAIR_WORDS : PAIR_WORDS + SECONDARY_WORDS]:
                parts.append(self._scan(str(int(word_id)), where, SECONDARY_CAP, per_word // 3))
        return parts

    def whole_names(self, sets: Sequence[WordMatches]) -> list[str]:
        """A subquery for names made of exactly the typed words (or typos), in any order."""
        choices = []
        for s in sets:
            close = sorted((p, w) for w, p in s.penalties.items() if p not in (PREFIX, PREFIX_TYPO))
            if not close:
                return []
            choices.append([w for _, w in close[:WHOLE_NAME_CHOICES]])
        combos = itertools.islice(itertools.product(*choices), WHOLE_NAME_COMBINATIONS)
        keys = sorted({" ".join(sorted(combo)) for combo in combos})
        marks = ", ".join(self.bind(key) for key in keys)
        return [f"SELECT id FROM search_name WHERE sorted_key IN ({marks})"]


def _assess(sets: Sequence[WordMatches], query: str, key: str) -> tuple[int, int, float]:
    """(words matched, total penalty, closeness 0-100) of one name for the query."""
    words = key.split()
    used: set[int] = set()
    positions: list[int] = []
    matched = penalty = 0
    for s in sets:
        best: tuple[int, int] | None = None
        for position, word in enumerate(words):
            if position in used:
                continue
            p = s.penalty(word)
            if p is not None and (best is None or p < best[0]):
                best = (p, position)
                if p == 0:
                    break
        if best is not None:
            used.add(best[1])
            positions.append(best[1])
            matched += 1
            penalty += best[0]
    # Word order does not decide a match, but among equally close names the one whose words
    # come in the typed order wins (García Flores before Flores García for "garcia flores").
    pairs = list(itertools.combinations(positions, 2))
    in_order = sum(1 for x, y in pairs if x < y) / len(pairs) if pairs else 1.0
    return matched, penalty, 0.9 * fuzz.token_sort_ratio(query, key) + 10 * in_order


def _candidates(
    db: Reader,
    dictionary: Dictionary,
    words: Sequence[str],
    limit: int,
    fallback: bool = False,
) -> tuple[list[WordMatches], dict[int, str], tuple[int, int]]:
    """The query's word sets, candidate names (id -> key) and the index's dictionary version."""
    all_sets = [dictionary.match(word) for word in words]
    sets = [s for s in all_sets if not s.empty]
    sql = _Statement()
    per_word = max(NAMES_PER_WORD, limit * 3)
    parts: list[str] = []
    if sets and not fallback:
        parts += sql.scan(sets, per_word, dictionary)
        if len(sets) >= 2:
            parts += sql.whole_names(sets)
    elif len(sets) >= 2:
        # Names matching all words but one, when too few match them all.
        for skip in range(len(sets)):
            parts += sql.scan(sets[:skip] + sets[skip + 1 :], max(limit, 10), dictionary)
    statement = (
        "SELECT -1, '', value FROM search_meta WHERE key = 'generation' "
        "UNION ALL SELECT -2, '', value FROM search_meta WHERE key = 'words'"
    )
    if parts:
        statement += (
            " UNION ALL SELECT n.id, n.key, 0 FROM search_name n WHERE n.id IN ("
            + " UNION ALL ".join(parts)
            + ")"
        )
    names: dict[int, str] = {}
    meta = {-1: 0, -2: 0}
    for nid, key, value in db.rows(statement, sql.params):
        if nid < 0:
            meta[int(nid)] = int(value)
        else:
            names[int(nid)] = str(key)
    return all_sets, names, (meta[-1], meta[-2])


def _namesakes(db: Reader, name_ids: Sequence[int], limit: int) -> Rows:
    """(name id, customer id, last activity) of each name's `limit` most recently active."""
    if not name_ids:
        return []
    return db.rows(
        "SELECT name_id, id, last_activity_at FROM (SELECT nc.name_id, c.id, "
        "c.last_activity_at, ROW_NUMBER() OVER (PARTITION BY nc.name_id "
        "ORDER BY c.last_activity_at DESC NULLS LAST, c.id) AS place "
        "FROM search_name_customer nc JOIN customer c ON c.id = nc.customer_id "
        "WHERE nc.name_id IN :ids) ranked WHERE place <= :limit",
        {"ids": list(name_ids), "limit": limit},
    )


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
    words = list(words[:MAX_QUERY_WORDS])
    if not dictionary.loaded:
        dictionary.refresh(db)
    all_sets, names, version = _candidates(db, dictionary, words, limit)
    if version != dictionary.version:  # another process added words or rebuilt the index
        dictionary.refresh(db)
        all_sets, names, version = _candidates(db, dictionary, words, limit)
    if len(names) < limit and len(words) >= 2:
        names.update((_candidates(db, dictionary, words, limit, fallback=True))[1])
    if not names:
        return []
    query = " ".join(words)
    assessed = {nid: _assess(all_sets, query, key) for nid, key in names.items()}
    ranked = sorted(assessed, key=lambda n: (-assessed[n][0], assessed[n][1], -assessed[n][2]))
    # Every name has a customer (but for the few left behind by renames): a few more names
    # than hits wanted are enough, plus those tied with the last (namesakes by activity).
    chosen = ranked[: limit + 3]
    last = assessed[chosen[-1]]
    for nid in ranked[len(chosen) : len(chosen) + 30]:
        if assessed[nid] != last:  # namesakes tied at the cut are ranked by activity
            break
        chosen.append(nid)
    # Customers of a better-assessed name always come first: only the best groups of tied
    # names holding `limit` customers between them are read (counted on the narrow table),
    # and of a name shared by hundreds ("sarah thomas") only its `limit` most recently active.
    counts: dict[int, int] = dict(
        db.rows(
            "SELECT name_id, count(*) FROM search_name_customer WHERE name_id IN :ids "
            "GROUP BY name_id",
            {"ids": chosen},
        )
    )
    cut = held = 0
    while cut < len(chosen) and held < limit:
        group = assessed[chosen[cut]]
        while cut < len(chosen) and assessed[chosen[cut]] == group:
            held += int(counts.get(chosen[cut], 0))
            cut += 1
    rows = _namesakes(db, chosen[:cut], limit)
    if len(rows) < limit and cut < len(chosen):  # customers renamed meanwhile
        rows += _namesakes(db, chosen[cut:], limit)
    ranking = []
    for nid, cid, activity in rows:
        matched, penalty, closeness = assessed[int(nid)]
        score = matched * 1000 - penalty * 100 + closeness * 0.99
        order = (-float(matched), float(penalty), -closeness, -activity_stamp(activity))
        ranking.append((order, score, int(cid)))
    ranking.sort()
    best = ranking[:limit]
    details = load_details(db, [cid for _, _, cid in best])
    return [NameHit(details[cid], score, order) for order, score, cid in best if cid in details]
