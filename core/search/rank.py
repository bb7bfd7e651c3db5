"""How candidate names are ranked for a name query: the rules, in the order they decide.

1. More query words matched.
2. Less typo penalty (exact < prefix < one edit < two edits < a typo inside a prefix).
3. Fewer name words skipped: words of the name, before the last one the query matched, that
   the query did not match. The typed words are the customer's first name and main surname
   far more often than a first name and a second surname, so for `maria garcia` "María
   García Ruiz" (nothing skipped) comes before "María Ruiz García" (Ruiz skipped).
4. Fewer name words left over after the matched ones: a customer whose whole name is the
   query ("Carlos García" for `carlos garcia`) before longer names.
5. Closeness, per typed word: each against the name word it matched (rapidfuzz `ratio`;
   exact 100), averaged, so that of two names both two edits away the one nearer in letters
   wins (`ana garcia edrez`: Pérez before Díez, `maria brams navarro`: Ramos before Bravo);
   the typed word order breaks ties.
6. Fewer particles the query did not type: `jose souza pereira` is José Souza Pereira
   before José de Souza Pereira.

Particles (da, de, del, dos, la, y…) count for none of 3-4, only for 6: "María del Carmen
García" skips nothing for `maria carmen garcia`. Namesakes (the same name) are then ordered
by latest activity, outside this module.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from core.search.dictionary import PREFIX, WordMatches, max_edits
from core.search.normalize import name_words

PARTICLES = frozenset({"da", "das", "de", "del", "do", "dos", "e", "la", "las", "los", "y"})
"""Words that join names rather than tell them apart (María del Carmen, João da Silva)."""


class Assessment(NamedTuple):
    """How well one name answers the query; compare with `sort_key`."""

    matched: int
    penalty: int
    skipped: int
    left_over: int
    closeness: float
    """0-100: the typed words' mean closeness to the words they matched, typed order
    included."""
    particles: int = 0
    """Particles of the name the query did not type: the last tie-break."""

    def sort_key(self) -> tuple[float, ...]:
        """Smallest first: the rules of this module in order."""
        return (
            -self.matched,
            self.penalty,
            self.skipped,
            self.left_over,
            -self.closeness,
            self.particles,
        )

    def score(self) -> float:
        """A number for display and for `frontline lookup`: its hundreds say the kind of
        match (words matched less typo penalty); closeness fills the units."""
        return self.matched * 1000 - self.penalty * 100 + self.closeness * 0.99


def assess(sets: Sequence[WordMatches], names: Mapping[int, str]) -> dict[int, Assessment]:
    """The assessment of each name (id -> folded key) for the query's word matches.

    Args:
        sets: each query word's dictionary matches, in the typed order.
        names: candidate names, id -> key.

    Returns:
        name id -> assessment.
    """
    # Runs for every candidate of every search: the word tests are spelled out here rather
    # than through WordMatches.penalty, and each typed word's closeness to a name word is
    # scored once per search (namesakes and common words repeat across candidates).
    tests = [(s.penalties, s.query) for s in sets]
    near: dict[tuple[str, str], float] = {}
    assessed: dict[int, Assessment] = {}
    for nid, key in names.items():
        words = key.split()
        used = 0  # bit per name word already matched
        positions: list[int] = []
        matched = penalty = 0
        closeness = 0.0
        for penalties, typed in tests:
            best = best_position = -1
            for position, word in enumerate(words):
                if used >> position & 1:
                    continue
                p = penalties.get(word)
                if p is None:
                    if not word.startswith(typed):
                        continue
                    p = PREFIX
                if best < 0 or p < best:
                    best, best_position = p, position
                    if p == 0:
                        break
            if best >= 0:
                used |= 1 << best_position
                positions.append(best_position)
                matched += 1
                penalty += best
                if best:
                    word = words[best_position]
                    score = near.get((typed, word))
                    if score is None:
                        score = near[typed, word] = fuzz.ratio(typed, word)
                    closeness += score
                else:
                    closeness += 100.0
        last = max(positions, default=-1)
        skipped = left_over = particles = 0
        for position, word in enumerate(words):
            if used >> position & 1:
                continue
            if word in PARTICLES:
                particles += 1
            else:
                if position < last:
                    skipped += 1
                else:
                    left_over += 1
        # Among equally close names the one whose words come in the typed order wins
        # (García Flores before Flores García for "garcia flores").
        in_order = 1.0
        if len(positions) > 1:
            pairs = list(itertools.combinations(positions, 2))
            in_order = sum(1 for x, y in pairs if x < y) / len(pairs)
        assessed[nid] = Assessment(
            matched,
            penalty,
            skipped,
            left_over,
            0.9 * closeness / len(tests) + 10 * in_order,
            particles,
        )
    return assessed


def driving(words: Sequence[str]) -> list[int]:
    """Indexes of the query words that generate candidates.

    Particles do not when three or more other words were typed (`maria del carmen garcia`):
    they are in a large share of names and add nothing the other words do not say. With fewer
    words they may be the start of a name (`da` of David in `da lo`), and the last word
    always may be (`del` of Delgado): those still drive.
    """
    last = len(words) - 1
    kept = [i for i, w in enumerate(words) if w not in PARTICLES or i == last]
    return kept if len(kept) >= 3 else list(range(len(words)))


def significant(words: Sequence[str], most: int) -> list[str]:
    """At most `most` of the query words, particles dropped first (a seven-word name)."""
    if len(words) <= most:
        return list(words)
    return [w for w in words if w not in PARTICLES][:most] or list(words[:most])


def sure(query: str, name: str) -> bool:
    """Whether a name answers a name query well enough to be taken as the customer meant.

    Every typed word (particles aside) matches its own word of the name: the same word, the
    start of it, or within the typos the search allows (`max_edits`), and at most one word
    is a typo. `evil name rojo` is not sure of "Luz María Villanueva Rojas" (one word of
    three matched); `jose nunez` is sure of "José Núñez Pérez"; `jsoe nunez` too.

    Args:
        query: what was typed.
        name: the customer's full name.

    Returns:
        True when the name is a confident answer.
    """
    typed = [w for w in name_words(query) if w not in PARTICLES] or name_words(query)
    words = name_words(name)
    free = list(range(len(words)))
    typos = 0
    for word in typed:
        close = [i for i in free if words[i] == word or words[i].startswith(word)]
        if not close:
            close = [i for i in free if OSA.distance(word, words[i]) <= max_edits(word, words[i])]
            typos += 1
        if not close or typos > 1:
            return False
        free.remove(close[0])
    return bool(typed)
