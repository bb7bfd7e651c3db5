"""Fuzzing the rules loader: whatever the file holds, loading it either gives rules or
`file:line` errors, within its budget, never a traceback; and what loads runs within budget."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.rules.engine import CallFacts, decide
from core.rules.history import CustomerHistory
from core.rules.loader import parse_rules
from core.rules.ruleset import RuleSet, RulesInvalid
from core.rules.schema import NAMESPACES
from tests.core.test_rules_engine import customer

BUDGET = timedelta(seconds=5)
"""Far above what any load takes; a hang (the 13 s and 120 s conditions of issue 13) is not."""

FIELDS = [f"{ns}.{name}" for ns, fields in NAMESPACES.items() for name in fields]
literals = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"'),
    st.sampled_from(["true", "false", "null", "[]", "{}"]),
)
lists = st.lists(literals, max_size=60).map(lambda xs: "[" + ", ".join(xs) + "]")
atoms = st.one_of(literals, lists, st.sampled_from(FIELDS), st.sampled_from(["x", "y", "p"]))


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(
            inner, st.sampled_from(["==", "!=", "<", ">=", "&&", "||", "+", "in", "*"]), inner
        ).map(" ".join),  # fmt: skip
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"!{e}"),
        st.tuples(
            st.one_of(lists, st.sampled_from(FIELDS), inner),
            st.sampled_from(["exists", "all", "map", "filter", "exists_one"]),
            st.sampled_from(["x", "y", "p"]),
            inner,
        ).map(lambda t: f"{t[0]}.{t[1]}({t[2]}, {t[3]})"),
        st.tuples(st.sampled_from(["size", "int", "string", "has", "matches"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
    )


@st.composite
def nested_comprehensions(draw: st.DrawFn) -> str:
    """Well-typed nests over literal lists: the shape that hung the console."""
    names = "abcdefg"[: draw(st.integers(1, 6))]
    body = " + ".join(names) + f" == {draw(st.integers(-5, 5))}"
    for name in reversed(names):
        size = draw(st.integers(0, 80))
        macro = draw(st.sampled_from(["exists", "all", "exists_one", "filter", "map"]))
        items = "[" + ", ".join(str(i) for i in range(size)) + "]"
        if macro in ("filter", "map"):
            inner = f"{items}.{macro}({name}, {body})"
            body = f"size({inner}) > 0" if macro == "filter" else f"size({inner}) >= 0"
        else:
            body = f"{items}.{macro}({name}, {body})"
    return body


expressions = st.one_of(
    nested_comprehensions(),
    st.recursive(atoms, _extend, max_leaves=40),
    st.text(max_size=200),
    st.integers(1, 5000).map(lambda n: "(" * n + "true" + ")" * n),
)


def offer_file(conditions: list[str]) -> str:
    when = "\n".join(f"c{i} = {_toml_string(c)}" for i, c in enumerate(conditions))
    return (
        '[[offer]]\nid = "fuzz"\ntitle = "Fuzz"\nscript = "Hello {customer.first_name}"\n'
        f"[offer.when]\n{when}\n"
    )


def _toml_string(text: str) -> str:
    escaped = "".join(
        c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
        for c in text
        if not 0xD800 <= ord(c) <= 0xDFFF
    )
    return f'"{escaped}"'


hostile_toml = st.one_of(
    st.text(max_size=400),
    st.integers(1, 200_000).map(lambda n: "value = " + "[" * n),
    st.integers(1, 50_000).map(lambda n: "value = " + "{a = " * n),
    st.integers(1, 2000).map(lambda n: "value = " + "[" * n + "]" * n),
    st.lists(
        st.sampled_from(
            [
                "[[offer]]",
                "[offer.when]",
                "[policy]",
                'id = "a"',
                "x = 1",
                "'''",
                '"""',
                "#",
                "=",
                "[",
                "]",
                "{",
                "}",
            ]
        ),
        max_size=40,
    ).map("\n".join),  # fmt: skip
)

examples_run = {"loaded": 0, "refused": 0}


def _check(text: str) -> None:
    try:
        rules = parse_rules(text, "fuzz.toml")
    except RulesInvalid as invalid:
        assert invalid.errors
        assert all(e.file == "fuzz.toml" and e.line >= 1 and e.column >= 1 for e in invalid.errors)
        examples_run["refused"] += 1
        return
    assert isinstance(rules, RuleSet)
    examples_run["loaded"] += 1
    call = CallFacts(at=datetime(2026, 11, 23, 10, 30, tzinfo=UTC), reason="billing")
    deadline = time.monotonic() + 1.0
    decide(rules, customer(), call, CustomerHistory(), deadline=deadline)


@settings(max_examples=300, deadline=BUDGET, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(expressions, min_size=1, max_size=4))
def test_any_condition_loads_or_is_refused_within_budget(conditions: list[str]) -> None:
    _check(offer_file(conditions))


@settings(max_examples=200, deadline=BUDGET, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_toml)
def test_any_toml_loads_or_is_refused_within_budget(text: str) -> None:
    _check(text)
