"""The plan of a name search: which posting lists drive it, how far each is read.

The rarest word's set drives (or the rarest pair of two words' meanings); every list read
has a cap, and the caps of one plan share a budget, so a very common word costs no more than
a rare one. core.search.names runs the plan and ranks what it finds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from core.search.dictionary import PREFIX, PREFIX_TYPO, Dictionary, WordMatches
from core.search.keys import PAIR

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
SCAN_BUDGET = 40_000
"""Postings the likeliest driving lists of one plan read between them at most: eight common
prefixes (`ma`, `jo`) share it rather than read SCAN_CAP each."""
WHOLE_NAME_CHOICES = 4
WHOLE_NAME_COMBINATIONS = 64


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


@dataclass(frozen=True)
class Driver:
    """One posting list to read: names holding `word_id`, in rank order."""

    word_id: int
    cap: int
    """Postings read at most."""
    keep: int
    """Names kept at most (those holding a word of every set in `checks`)."""
    checks: tuple[int, ...]
    """Indexes of the other word sets a kept name must match."""


def plan(
    sets: Sequence[WordMatches],
    members: Sequence[int],
    per_word: int,
    dictionary: Dictionary,
    scan_cap: int = SCAN_CAP,
) -> list[Driver]:
    """The posting lists to read for names matching every set in `members`.

    Either one set's words drive (each stopping after `per_word` names or a bounded scan), or
    two sets drive together through their pairs' posting lists ("garcia+lopez" is far shorter
    than either word's list). The plan reading the fewest postings wins; a plan that leaves
    some meanings of a word unread counts as dearer.

    Args:
        sets: the query words' matches (none empty).
        members: the indexes of the sets every name must match.
        per_word: names kept per driving posting list.
        dictionary: the dictionary (for the pairs' ids and lengths).
        scan_cap: postings read at most per likely driving list (SCAN_BUDGET shared too).
    """
    plans: list[tuple[float, int, int]] = [(single_cost(sets[i]), i, -1) for i in members]
    for i, j in itertools.combinations(members, 2):
        if sets[i].prefix_range is None and sets[j].prefix_range is None:
            plans.append((pair_cost(sets[i], sets[j], dictionary), i, j))
    _, i, j = min(plans)
    drivers: list[Driver] = []
    if j < 0:
        first = sets[i]
        checks = tuple(k for k in members if k != i)
        likely_cap = min(scan_cap, SCAN_BUDGET // max(1, min(first.best, DRIVING_WORDS)))
        for position, word_id in enumerate(first.ranked_ids[:DRIVING_WORDS]):
            likely = position < first.best
            cap, keep = (likely_cap, per_word) if likely else (SECONDARY_CAP, per_word // 3)
            drivers.append(Driver(int(word_id), cap, keep, checks))
        return drivers
    a, b = sets[i], sets[j]
    pairs: dict[str, int] = {}
    for x_rank, x in enumerate(a.ranked_words[:PAIR_WORDS]):
        for y_rank, y in enumerate(b.ranked_words[:PAIR_WORDS]):
            if x != y:
                # The likeliest meanings of both words keep the most names.
                likely = x_rank < a.best and y_rank < b.best
                pair = PAIR.join(sorted((x, y)))
                pairs[pair] = max(pairs.get(pair, 0), per_word if likely else per_word // 3)
    checks = tuple(k for k in members if k not in (i, j))
    pair_cap = min(scan_cap, SCAN_BUDGET // max(1, len(pairs)))
    for pair, keep in sorted(pairs.items()):
        pair_id = dictionary.pair_id(pair)
        if pair_id is not None:  # no name holds both words: nothing to read
            drivers.append(Driver(pair_id, pair_cap, keep, checks))
    # Rarer meanings beyond the pairs: a short scan each.
    for k, s in ((i, a), (j, b)):
        others = tuple(m for m in members if m != k)
        for word_id in s.ranked_ids[PAIR_WORDS : PAIR_WORDS + SECONDARY_WORDS]:
            drivers.append(Driver(int(word_id), SECONDARY_CAP, per_word // 3, others))
    return drivers


def whole_name_keys(sets: Sequence[WordMatches]) -> list[str]:
    """The sorted keys of names made of exactly the typed words (or typos), in any order."""
    choices = []
    for s in sets:
        close = sorted((p, w) for w, p in s.penalties.items() if p not in (PREFIX, PREFIX_TYPO))
        if not close:
            return []
        choices.append([w for _, w in close[:WHOLE_NAME_CHOICES]])
    combos = itertools.islice(itertools.product(*choices), WHOLE_NAME_COMBINATIONS)
    return sorted({" ".join(sorted(combo)) for combo in combos})
