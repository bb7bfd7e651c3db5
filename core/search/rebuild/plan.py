"""The index's rows computed from every customer's name and contact points, with numpy.

A name plan is written by either database's rebuild (core.search.rebuild.sqlite, .postgres).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from core.search.keys import NOT_DIGIT, PAIR, email_key, word_signature
from core.search.normalize import name_words

NAME_BITS = 32
"""Two ids packed in one int64: the high one shifted by this many bits."""
LOW_MASK = (1 << NAME_BITS) - 1


# Children first, so nothing points at a row already gone.
TABLES = (
    "search_contact",
    "search_name_customer",
    "search_name_word",
    "search_posting",
    "search_name",
    "search_word",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "search_word": ("id", "word", "df"),
    "search_name": ("id", "key", "sorted_key"),
    "search_posting": ("word_id", "name_id", "sig"),
    "search_name_word": ("name_id", "word_id"),
    "search_name_customer": ("name_id", "customer_id"),
    "search_contact": ("kind", "key", "customer_id"),
}
NAME_SEPARATOR = "\x1f"
"""Between a customer's first name and surnames in `RANKED_SQL`; it separates words anyway."""
RANKED_SQL = (
    "SELECT id, coalesce(first_name, '') || chr(31) || coalesce(last_name, '') FROM customer "
    "ORDER BY last_activity_at DESC NULLS LAST, id"
)
"""Every customer, most recently active first (never active last), ties by id."""
CONTACTS_SQL = "SELECT customer_id, kind, normalized FROM contact_point"


@dataclass
class NamePlan:
    """The name side of the index, ready to write. Ids are positions + 1."""

    words: list[str]
    """search_word.word by id: the real words in alphabetical order, then the pairs."""
    df: list[int]
    """search_word.df, same order."""
    keys: list[str]
    """search_name.key by id: the most recently active name first."""
    sorted_keys: list[str]
    posting: np.ndarray
    """word_id << NAME_BITS | name_id, sorted: search_posting in key order."""
    name_word: np.ndarray
    """name_id << NAME_BITS | word_id, sorted."""
    name_ids: np.ndarray
    """search_name_customer.name_id, sorted with customer_ids."""
    customer_ids: np.ndarray
    signatures: np.ndarray
    """Each name's signature by name id (core.search.keys.name_signature; index 0 unused)."""

    @property
    def rows(self) -> int:
        return (
            len(self.words)
            + len(self.keys)
            + len(self.posting)
            + len(self.name_word)
            + len(self.name_ids)
        )


def plan_names(customer_ids: np.ndarray, names: Sequence[str]) -> NamePlan:
    """Every name row of the index from every customer's name, in rank order.

    Args:
        customer_ids: the customers, most recently active first (`RANKED_SQL`).
        names: their first names and surnames joined by NAME_SEPARATOR, in the same order.

    A name's id is its rank: the order in which its first customer comes, so reading
    postings in id order meets the likeliest callers first.
    """
    # A first name's or surnames' folded words and their vocabulary positions, once each.
    parts: dict[str, tuple[list[str], tuple[int, ...]]] = {}
    vocabulary: dict[str, int] = {}

    def part_of(text: str) -> tuple[list[str], tuple[int, ...]]:
        words = name_words(text)
        found = parts[text] = (
            words,
            tuple(vocabulary.setdefault(word, len(vocabulary)) for word in words),
        )
        return found

    key_index: dict[str, int] = {}
    keys: list[str] = []
    sorted_keys: list[str] = []
    terms: list[tuple[int, ...]] = []  # each name's words (vocabulary positions, as written)
    # Each distinct (first name, surnames) once, in the order first met: numpy does the rest.
    spelled = dict.fromkeys(names)
    key_of_spelling: list[int] = []
    for position, spelling in enumerate(spelled):
        spelled[spelling] = position
        first, _, last = spelling.partition(NAME_SEPARATOR)
        first_words, first_ids = parts.get(first) or part_of(first)
        last_words, last_ids = parts.get(last) or part_of(last)
        words = first_words + last_words
        if not words:
            key_of_spelling.append(-1)
            continue
        key = " ".join(words)
        k = key_index.get(key)
        if k is None:  # not another spelling of a name met before ("María" after "Maria")
            k = key_index[key] = len(keys)
            keys.append(key)
            sorted_keys.append(" ".join(sorted(words)))
            terms.append(first_ids + last_ids)
        key_of_spelling.append(k)
    name_of_customer = np.asarray(key_of_spelling, dtype=np.int64)[
        np.fromiter(map(spelled.__getitem__, names), dtype=np.int64, count=len(names))
    ]
    spelled.clear()
    named = name_of_customer >= 0
    name_ids = name_of_customer[named] + 1  # names are numbered as met: that is their rank
    cids = np.asarray(customer_ids, dtype=np.int64)[named]
    count = len(keys)

    # Real words get ids in alphabetical order, so a name's words sorted alphabetically are
    # also sorted by id: its name_word rows come out in key order and its pairs as (low, high).
    alphabet = sorted(vocabulary)
    final = np.empty(len(vocabulary) + 1, dtype=np.int64)
    for word_id, word in enumerate(alphabet, start=1):
        final[vocabulary[word]] = word_id
    # Each name's distinct words in id order: sorting (name, word) packed in one int does both.
    written = np.fromiter(map(len, terms), dtype=np.int64, count=count)
    name_word = _sorted_unique(
        (np.repeat(np.arange(1, count + 1, dtype=np.int64), written) << NAME_BITS)
        | final[np.fromiter(chain.from_iterable(terms), dtype=np.int64, count=int(written.sum()))]
    )
    name_of, flat = name_word >> NAME_BITS, name_word & LOW_MASK
    sizes = np.bincount(name_of, minlength=count + 1)[1:]

    starts = np.cumsum(sizes) - sizes
    word_bits = np.asarray([0] + [word_signature(w) for w in alphabet], dtype=np.int64)
    signatures = np.zeros(count + 1, dtype=np.int64)
    if count:  # every name has a word, so no two starts are equal
        signatures[1:] = np.bitwise_or.reduceat(word_bits[flat], starts)
    pair_codes: list[np.ndarray] = []
    pair_names: list[np.ndarray] = []
    for size in np.unique(sizes).tolist():
        if size < 2:
            continue
        chosen = sizes == size
        begin, holders = starts[chosen], np.flatnonzero(chosen) + 1
        for i in range(size):
            for j in range(i + 1, size):
                pair_codes.append((flat[begin + i] << NAME_BITS) | flat[begin + j])
                pair_names.append(holders)
    codes = np.concatenate(pair_codes) if pair_codes else np.empty(0, dtype=np.int64)
    paired = np.concatenate(pair_names) if pair_names else np.empty(0, dtype=np.int64)
    unique_codes = _sorted_unique(codes.copy())
    pair_of = np.searchsorted(unique_codes, codes)
    pairs = [
        f"{alphabet[(code >> NAME_BITS) - 1]}{PAIR}{alphabet[(code & LOW_MASK) - 1]}"
        for code in unique_codes.tolist()
    ]
    first_pair = len(alphabet) + 1
    posting = np.concatenate(
        ((flat << NAME_BITS) | name_of, ((pair_of + first_pair) << NAME_BITS) | paired)
    )
    posting.sort()
    df = np.bincount(flat, minlength=first_pair)[1:].tolist()
    df += np.bincount(pair_of, minlength=len(pairs)).tolist()

    by_name = np.lexsort((cids, name_ids))
    return NamePlan(
        words=alphabet + pairs,
        df=df,
        keys=keys,
        sorted_keys=sorted_keys,
        posting=posting,
        name_word=name_word,
        name_ids=name_ids[by_name],
        customer_ids=cids[by_name],
        signatures=signatures,
    )


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (sorts `values` in place; np.unique hashes, far slower)."""
    values.sort()
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def parse_ids(joined: str | None) -> np.ndarray:
    """Integers from "1,2,3" text (numpy parses it in C)."""
    if not joined:
        return np.empty(0, dtype=np.int64)
    ids = np.fromstring(joined, dtype=np.int64, sep=",")
    if len(ids) != joined.count(",") + 1:  # not plain integers after all
        ids = np.array([int(part) for part in joined.split(",")], dtype=np.int64)
    return ids


def plan_contacts(contacts: Iterable[Sequence[Any]]) -> list[tuple[str, str, int]]:
    """search_contact rows from (customer_id, kind, normalized) rows, in key order."""
    found: set[tuple[str, str, int]] = set()
    add = found.add
    for cid, kind, normalized in contacts:
        if kind == "phone":  # stored as digits by convention; anything else is cleaned
            digits = normalized if normalized.isdigit() else NOT_DIGIT.sub("", normalized)
            if digits:
                add(("p", digits[::-1], cid))
        elif kind == "email":
            local = email_key(normalized)
            if local:
                add(("e", local, cid))
    # Three stable sorts on one plain key each (the same order as sorting the tuples): list.sort
    # compares str or int keys directly, tuples of them element by element through Python.
    rows = sorted(found, key=itemgetter(2))
    found.clear()
    rows.sort(key=itemgetter(1))
    rows.sort(key=itemgetter(0))
    return rows


class Progress:
    def __init__(self, callback: Callable[[int, int], None] | None) -> None:
        self.callback = callback
        self.total = 0

    def __call__(self, share: float) -> None:
        if self.callback is not None:
            self.callback(min(self.total, int(self.total * share)), self.total)
