"""The index's word dictionary, cached in this process, and query words matched against it.

The dictionary is small (distinct name words: thousands, not millions) so each process keeps
a copy. Before every search a one-row read of `search_meta` tells whether another process
added words (then only the new ones are read) or rebuilt the index (then all are re-read).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.search.keys import PAIR
from core.search.reader import Reader

EXACT = 0
PREFIX = 1
TYPO = 2
"""Penalty of a one-edit typo; two edits cost TYPO + 1, a typo inside a prefix TYPO + 2."""
PREFIX_TYPO = TYPO + 2
MAX_PREFIX_WORDS = 300
"""A prefix matching more words than this is checked in SQL by a range on the dictionary."""


def max_edits(typed: str, word: str, known: bool = False, wide: bool = False) -> int:
    """Typos allowed between a query word and a dictionary word: none when 2 letters were
    typed, else one when both are up to 4 letters long, two when either has 5 or more
    (`toms` for Thomas, `lpz` for López: letters dropped make the typed word short).

    A typed word that is itself in the dictionary most likely means itself: it is allowed one
    edit up to 7 letters (`mario` may be María's Mario), two only from 8; reading every name
    two edits away from a word that exists would be most of the cost of an exact query.

    `wide` is the second look when no name matched every typed word: a word of 4 letters
    or more is then allowed two edits whatever its length and whether it exists (`bewl` for
    Abel, `mario` for Marta).
    """
    if len(typed) <= 2:
        return 0
    longest = max(len(typed), len(word))
    if wide and len(typed) >= 4:
        return 2
    if known:
        return 1 if longest <= 7 else 2
    return 1 if longest <= 4 else 2


@dataclass
class WordMatches:
    """The dictionary words one query word stands for, with their penalties."""

    query: str
    penalties: dict[str, int] = field(default_factory=dict)
    """Dictionary word -> penalty, for exact, typo and (when few) prefix matches."""
    ids: dict[int, int] = field(default_factory=dict)
    """Word id -> penalty, same words as `penalties`."""
    prefix_range: tuple[str, str] | None = None
    """When the prefix matches too many words to list: [low, high) on search_word.word."""
    postings: int = 0
    """Sum of the matched words' document frequencies: the cost of driving a search."""
    ranked_ids: list[int] = field(default_factory=list)
    """The ids worth reading postings for, best first (exact, prefix by frequency, typos)."""
    ranked_words: list[str] = field(default_factory=list)
    """The words of `ranked_ids`, in the same order."""
    ranked_df: list[int] = field(default_factory=list)
    """Their document frequencies, in the same order."""
    best: int = 0
    """How many of `ranked_words` share the lowest penalty (the likeliest meanings)."""

    @property
    def empty(self) -> bool:
        return not self.ids and self.prefix_range is None

    def penalty(self, word: str) -> int | None:
        """This query word's penalty against a name's word, None when it does not match."""
        found = self.penalties.get(word)
        if found is not None:
            return found
        if word.startswith(self.query):
            return PREFIX
        return None


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Dictionary:
    """Every indexed word with its id and document frequency."""

    def __init__(self) -> None:
        self._words: dict[str, tuple[int, int]] = {}
        self._sorted: list[str] = []
        self._by_length: dict[int, list[str]] = {}
        self._prefixes: dict[int, tuple[dict[str, list[str]], list[str]]] = {}
        """Length -> (word beginnings of that length -> words, the beginnings as a list)."""
        self._generation = -1
        self._version = -1
        self._max_id = 0
        self._pairs: dict[str, tuple[int, int]] = {}
        """Pair pseudo-word ("a+b") -> (its id, how many names hold both words)."""
        self._total_df = 0

    @property
    def names_estimate(self) -> int:
        """Roughly how many distinct names are indexed (names have about three words)."""
        return max(1, self._total_df // 3)

    @property
    def loaded(self) -> bool:
        return self._generation >= 0

    @property
    def version(self) -> tuple[int, int]:
        """(rebuild generation, words counter) of the index this cache reflects."""
        return self._generation, self._version

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def refresh(self, db: Reader) -> None:
        """Catch up with words other processes added, or reload after a rebuild."""
        meta: dict[str, int] = {
            str(key): int(value)
            for key, value in db.rows(
                "SELECT key, value FROM search_meta WHERE key IN ('generation', 'words')"
            )
        }
        generation, version = int(meta.get("generation", 0)), int(meta.get("words", 0))
        if generation == self._generation and version == self._version:
            return
        if generation != self._generation:
            self._words, self._sorted, self._by_length, self._max_id = {}, [], {}, 0
            self._pairs = {}
            self._total_df = 0
        rows = db.rows(
            "SELECT id, word, df FROM search_word WHERE id > :last ORDER BY id",
            {"last": self._max_id},
        )
        added = [(int(wid), str(word), int(df)) for wid, word, df in rows]
        full = not self._sorted
        for wid, word, df in added:
            self._max_id = max(self._max_id, wid)
            if PAIR in word:  # pair pseudo-words: their id and length, to plan a search
                self._pairs[word] = (wid, df)
                continue
            self._words[word] = (wid, df)
            self._total_df += df
            if not full:
                bisect.insort(self._sorted, word)
            self._by_length.setdefault(len(word), []).append(word)
        if full:
            self._sorted = sorted(self._words)
        if added:
            self._prefixes = {}
        self._generation, self._version = generation, version

    def match(self, query: str, prefix: bool = True, wide: bool = False) -> WordMatches:
        """The words `query` stands for: itself, words it starts (when `prefix`), typos.

        Args:
            query: one folded query word.
            prefix: also match words starting with it.
            wide: allow the looser typos of a second look (`max_edits`).

        Returns:
            The matches; empty when the word matches nothing in the index.
        """
        result = WordMatches(query)
        exact = self._words.get(query)
        if exact is not None:
            result.penalties[query] = EXACT
        prefixed: list[str] = []
        if prefix:
            low = bisect.bisect_left(self._sorted, query)
            high = bisect.bisect_left(self._sorted, prefix_end(query), lo=low)
            prefixed = [w for w in self._sorted[low:high] if w != query]
            if len(prefixed) > MAX_PREFIX_WORDS:
                result.prefix_range = (query, prefix_end(query))
                result.postings += sum(self._words[w][1] for w in prefixed)
                prefixed.sort(key=lambda w: -self._words[w][1])
                ranked_prefix = prefixed[:MAX_PREFIX_WORDS]
                prefixed = []
            else:
                prefixed.sort(key=lambda w: -self._words[w][1])
                ranked_prefix = prefixed
            for word in prefixed:
                result.penalties[word] = PREFIX
        else:
            ranked_prefix = []
        typos = self._typos(query, wide)
        for word, penalty in typos:
            if word not in result.penalties and not (
                result.prefix_range is not None and word.startswith(query)
            ):
                result.penalties[word] = penalty
        if prefix and len(query) >= 4:
            for word in self._prefix_typos(query):
                if word not in result.penalties and not word.startswith(query):
                    result.penalties[word] = PREFIX_TYPO
        for word, penalty in result.penalties.items():
            wid, df = self._words[word]
            result.ids[wid] = penalty
            if result.prefix_range is None or not word.startswith(query):
                result.postings += df
        ordered = [query] if exact is not None else []
        ordered += ranked_prefix
        ordered += sorted(
            (w for w, p in result.penalties.items() if p >= TYPO),
            key=lambda w: (result.penalties[w], -self._words[w][1]),
        )
        result.ranked_ids = [self._words[w][0] for w in ordered]
        result.ranked_words = ordered
        result.ranked_df = [self._words[w][1] for w in ordered]
        if ordered:
            lowest = min(result.penalty(w) or 0 for w in ordered)
            result.best = sum(1 for w in ordered if (result.penalty(w) or 0) == lowest)
        return result

    def _typos(self, query: str, wide: bool = False) -> list[tuple[str, int]]:
        known = query in self._words
        found: list[tuple[str, int]] = []
        for length in range(len(query) - 2, len(query) + 3):
            edits = max_edits(query, "x" * length, known, wide)
            bucket = self._by_length.get(length)
            if not bucket or edits < abs(length - len(query)):
                continue
            for word, distance, _ in process.extract(
                query, bucket, scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                if distance > 0:
                    found.append((word, TYPO + int(distance) - 1))
        return found

    def _prefix_typos(self, query: str) -> list[str]:
        """Words whose beginning is one edit away from `query` (a typo while still typing)."""
        found: list[str] = []
        for length in (len(query) - 1, len(query), len(query) + 1):
            entry = self._prefixes.get(length)
            if entry is None:
                table: dict[str, list[str]] = {}
                for word in self._sorted:
                    if len(word) > length:
                        table.setdefault(word[:length], []).append(word)
                entry = self._prefixes[length] = (table, list(table))
            table, starts = entry
            for start, distance, _ in process.extract(
                query, starts, scorer=OSA.distance, score_cutoff=1, limit=None
            ):
                if distance > 0:
                    found.extend(table[start])
        return found

    def pair_df(self, first: str, second: str) -> int:
        """How many names hold both words (0 when none does)."""
        return self._pairs.get(PAIR.join(sorted((first, second))), (0, 0))[1]

    def pair_id(self, pair: str) -> int | None:
        """The id of a pair pseudo-word ("a+b", sorted), None when no name holds both."""
        entry = self._pairs.get(pair)
        return None if entry is None else entry[0]

    def prefix_ids(self, low: str, high: str) -> list[int]:
        """The ids of every word in [low, high) (a prefix too common to list as matches)."""
        start = bisect.bisect_left(self._sorted, low)
        end = bisect.bisect_left(self._sorted, high, lo=start)
        return [self._words[w][0] for w in self._sorted[start:end]]

    def word_id(self, word: str) -> int | None:
        entry = self._words.get(word)
        return None if entry is None else entry[0]
