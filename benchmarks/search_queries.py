"""The held-out query set of bench_search: drawn with its own generator and seed, apart from
the customers' (core.demo), and apart from anything the search was tuned on.

Kinds, as issue 14 counts them:

- `name` as written, `accents_dropped`, `surnames_first`;
- `typo`: one edit (substitution, insertion, deletion, transposition, anywhere in the word)
  in a word of 3-4 letters, or two edits in a word of 5 or more letters, the other words exact;
- `prefix_last_word` (the agent still typing) and `short_prefixes` (2-4 letters of every word);
- `phone` in another format, `phone_trailing` (the last 7-9 digits), `email`, `email_local`,
  `id` (customer numbers of any shape, in any case, the C-numbers also without C and zeros).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from core.search.normalize import name_words

QUERY_SEED = 20_261_202
"""Not the demo's seed (42), nor derived from it."""
KINDS = (
    "name",
    "accents_dropped",
    "surnames_first",
    "typo",
    "prefix_last_word",
    "short_prefixes",
    "phone",
    "phone_trailing",
    "email",
    "email_local",
    "id",
)
NAME_KINDS = KINDS[:6]
PREFIX_KINDS = ("prefix_last_word", "short_prefixes")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Person:
    id: int
    external_id: str
    first: str
    last: str
    phones: list[tuple[str, str]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return " ".join(name_words(f"{self.first} {self.last}"))


@dataclass
class Query:
    kind: str
    q: str
    truth: int
    matches: int = 1
    """Customers a prefix query matches (for splitting prefixes by ambiguity)."""
    detail: str = ""
    """What was done to the name (which word got a typo, how many edits)."""


def edit(word: str, rng: random.Random) -> str:
    """One random edit anywhere in the word."""
    kind = rng.randrange(4)
    i = rng.randrange(len(word))
    if kind == 0:
        return word[:i] + rng.choice([c for c in LETTERS if c != word[i]]) + word[i + 1 :]
    if kind == 1:
        return word[:i] + rng.choice(LETTERS) + word[i:]
    if kind == 2 and len(word) > 3:
        return word[:i] + word[i + 1 :]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def typo(word: str, rng: random.Random) -> str | None:
    """`word` with exactly the edits the issue counts (1 up to 4 letters, 2 from 5), or None."""
    edits = 1 if len(word) <= 4 else 2
    for _ in range(20):
        typed = word
        for _ in range(edits):
            typed = edit(typed, rng)
        if OSA.distance(typed, word) == edits:
            return typed
    return None


def phone_format(normalized: str, rng: random.Random) -> str:
    national = normalized[-9:]
    country = normalized[:-9] or "34"
    style = rng.randrange(5)
    if style == 0:
        return f"+{country} {national[:3]} {national[3:5]} {national[5:7]} {national[7:]}"
    if style == 1:
        return f"00{country}{national}"
    if style == 2:
        return f"{national[:3]}-{national[3:6]}-{national[6:]}"
    if style == 3:
        return f"({national[:3]}) {national[3:]}"
    return f"+{country}{national}"


def id_query(external_id: str, rng: random.Random) -> str:
    """A customer number as an agent reads it out: any case, C-numbers also shortened."""
    if external_id[:1] in "Cc" and external_id[1:].isdigit():
        number = external_id[1:]
        return rng.choice([external_id, "c" + number.lstrip("0"), number.lstrip("0")])
    return rng.choice([external_id, external_id.lower()])


def make_queries(people: dict[int, Person], per_kind: int, seed: int = QUERY_SEED) -> list[Query]:
    """`per_kind` queries of every kind, each with its true customer."""
    rng = random.Random(seed)
    ids = sorted(people)
    queries: list[Query] = []
    by_kind: Counter[str] = Counter()

    def add(kind: str, q: str, truth: int, detail: str = "") -> None:
        if by_kind[kind] < per_kind and q.strip():
            by_kind[kind] += 1
            queries.append(Query(kind, q, truth, detail=detail))

    for cid in rng.sample(ids, min(len(ids), per_kind * 4)):
        p = people[cid]
        words = p.key.split()
        first_words = name_words(p.first)
        last_words = name_words(p.last)
        if len(words) < 2 or not last_words:
            continue
        add("name", f"{p.first} {p.last}", p.id)
        add("accents_dropped", " ".join(words), p.id)
        add("surnames_first", " ".join(last_words + first_words), p.id)
        candidates = [i for i, w in enumerate(words) if len(w) >= 3]
        if candidates:
            i = rng.choice(candidates)
            typed = typo(words[i], rng)
            if typed is not None:
                q = " ".join(words[:i] + [typed] + words[i + 1 :])
                add("typo", q, p.id, f"{words[i]}->{typed}")
        if len(words[-1]) >= 4:
            cut = rng.randint(2, min(5, len(words[-1]) - 1))
            add("prefix_last_word", " ".join(words[:-1] + [words[-1][:cut]]), p.id)
        if len(words) >= 3:
            add("short_prefixes", " ".join(w[: rng.randint(2, 4)] for w in words), p.id)
        if p.phones:
            value, normalized = rng.choice(p.phones)
            add("phone", phone_format(normalized, rng) if rng.random() < 0.7 else value, p.id)
            digits = normalized[-rng.randint(7, 9) :]
            spaced = " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
            add("phone_trailing", spaced if rng.random() < 0.5 else digits, p.id)
        if p.emails:
            email = rng.choice(p.emails)
            add("email", email.upper() if rng.random() < 0.3 else email, p.id)
            add("email_local", email.partition("@")[0], p.id)
        add("id", id_query(p.external_id, rng), p.id)
    return queries


def other_shape(customer_id: int) -> str | None:
    """The customer number some customers carry from older systems, None for a C-number.

    Real bases merge systems: `X0001`, `ES-2024-77`, `AC-000123-B`.
    """
    shape = customer_id % 10
    if shape == 3:
        return f"X{customer_id:04d}"
    if shape == 6:
        return f"ES-{2015 + customer_id % 7}-{customer_id}"
    if shape == 8:
        return f"AC-{customer_id:06d}-{'ABCD'[customer_id % 4]}"
    return None
