"""What a condition may cost, bounded from its text before it is ever run.

Without comprehensions a CEL expression evaluates each of its parts once, so its work grows
with its length (capped) and the customer's data. A comprehension (`exists`, `all`,
`exists_one`, `map`, `filter`) runs its body once per element of the list it is called on,
and nested ones multiply: four nested `exists` over literal lists of 40 fit in 700 characters
and run 2.5 million times. The library holds the GIL meanwhile, so a slow condition freezes
the whole process (the console's screen with it), and no thread can interrupt it.

The estimate is an upper bound: every token weighs the product of the lengths of the lists
of the comprehensions around it. A literal list's length is counted; a list field of the
customer is assumed at most FIELD_LIST_SIZE long; any other list (a variable, the result of
a call) at most as long as all literal lists together plus FIELD_LIST_SIZE, since no CEL
function without a comprehension makes a list longer than what it was given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.i18n import words as _
from core.i18n.formats import format_number
from core.rules.schema import NAMESPACES

if TYPE_CHECKING:
    from core.rules.expressions import Token

MAX_NESTING = 24
"""Brackets and parentheses nested deeper than this are refused (nobody can read them)."""
MAX_COMPREHENSION_DEPTH = 2
"""`customer.products.exists(p, ["a", "b"].exists(x, p.startsWith(x)))` is two deep."""
MAX_COST = 50_000
"""Token evaluations per customer: well under 0.1 s of CEL on a slow machine."""
FIELD_LIST_SIZE = 100
"""A bound on a customer's list fields (product lines, products held)."""

_MACROS = frozenset({"exists", "all", "exists_one", "map", "filter"})
_OPEN = {"(": ")", "[": "]", "{": "}"}
_VALUE_END = frozenset({"name", "number", "string"})


def _pairs(toks: Sequence[Token]) -> tuple[dict[int, int], dict[int, int], int, int]:
    """Matching brackets both ways, the deepest nesting and the token where it is."""
    forward: dict[int, int] = {}
    backward: dict[int, int] = {}
    stack: list[int] = []
    deepest, where = 0, 0
    for i, tok in enumerate(toks):
        if tok.text in _OPEN:
            stack.append(i)
            if len(stack) > deepest:
                deepest, where = len(stack), i
        elif tok.text in (")", "]", "}") and stack and _OPEN[toks[stack[-1]].text] == tok.text:
            start = stack.pop()
            forward[start], backward[i] = i, start
    return forward, backward, deepest, where


def _is_literal(toks: Sequence[Token], opening: int) -> bool:
    """`[` starts a list, not an index, unless it follows a value (`x[0]`, `f()[0]`)."""
    if opening == 0:
        return True
    before = toks[opening - 1]
    return not (before.kind in _VALUE_END or before.text in (")", "]", "}"))


def _elements(toks: Sequence[Token], opening: int, closing: int, forward: dict[int, int]) -> int:
    if closing == opening + 1:
        return 0
    count, i = 1, opening + 1
    while i < closing:
        if i in forward:
            i = forward[i]
        elif toks[i].text == ",":
            count += 1
        i += 1
    return count


def _receiver_size(
    toks: Sequence[Token], dot: int, backward: dict[int, int], forward: dict[int, int], other: int
) -> int:
    """At most how long the list before `.macro(` is."""
    end = dot - 1
    if end < 0:
        return other
    tok = toks[end]
    if tok.text in ("]", "}") and end in backward and _is_literal(toks, backward[end]):
        return _elements(toks, backward[end], end, forward)
    if tok.kind == "name":
        start = end
        while start >= 2 and toks[start - 1].text == "." and toks[start - 2].kind == "name":
            start -= 2
        if toks[start].text in NAMESPACES and (start == 0 or toks[start - 1].text != "."):
            return FIELD_LIST_SIZE
    return other


@dataclass(frozen=True)
class Estimate:
    """A condition's nesting and cost, as far as its text tells."""

    nesting: int
    nesting_at: int
    """Offset of the bracket nested deepest."""
    too_deep_at: int | None
    """Offset of the first token inside more than MAX_COMPREHENSION_DEPTH comprehensions."""
    cost: int


def estimate(toks: Sequence[Token]) -> Estimate:
    """Bound a condition's cost from its tokens (core.rules.expressions.tokens)."""
    forward, backward, deepest, where = _pairs(toks)
    literal_total = sum(
        _elements(toks, i, j, forward)
        for i, j in forward.items()
        if toks[i].text in "[{" and _is_literal(toks, i)
    )
    other = literal_total + FIELD_LIST_SIZE
    spans = [
        (i + 1, forward[i + 1], max(1, _receiver_size(toks, i - 1, backward, forward, other)))
        for i, tok in enumerate(toks)
        if tok.kind == "name" and tok.text in _MACROS and i > 0 and toks[i - 1].text == "."
        and i + 1 in forward
    ]  # fmt: skip
    total, too_deep = 0, None
    for i, tok in enumerate(toks):
        weight, depth = 1, 0
        for first, last, size in spans:
            if first < i < last:
                weight *= size
                depth += 1
        if depth > MAX_COMPREHENSION_DEPTH and too_deep is None:
            too_deep = tok.start
        total += weight
    return Estimate(deepest, toks[where].start if toks else 0, too_deep, total)


def cost_problems(found: Estimate) -> Iterator[tuple[int, str]]:
    """What makes a condition too deep or too costly to run, at character offsets.

    Yields:
        (offset, message) for each problem; nothing when the condition is cheap enough.
    """
    if found.nesting > MAX_NESTING:
        yield (
            found.nesting_at,
            _("brackets nested more than {depth} deep").format(depth=MAX_NESTING),
        )
    elif found.too_deep_at is not None:
        yield (
            found.too_deep_at,
            _(
                "comprehensions (exists, all, map, filter) nested more than {depth} deep: "
                "too slow to run for every customer"
            ).format(depth=MAX_COMPREHENSION_DEPTH),
        )
    elif found.cost > MAX_COST:
        yield (
            0,
            _(
                "too costly to run for every customer (about {cost} steps, at most {limit}): "
                "use shorter lists in exists/all/map/filter, or nest fewer of them"
            ).format(cost=format_number(found.cost), limit=format_number(MAX_COST)),
        )
