"""A rules file cannot hang the process: what a condition may cost is bounded at load, with
`file:line` errors, and what evaluation may take is bounded by a deadline."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.rules import engine
from core.rules.engine import OUT_OF_TIME, CallFacts, decide
from core.rules.history import CustomerHistory
from core.rules.loader import MAX_FILE_BYTES, load_rules, parse_rules
from core.rules.ruleset import RuleError, RulesInvalid
from core.rules.store import RulesStore
from tests.core.rules_fixtures import RULES, add_customer
from tests.core.test_rules_engine import customer
from tests.core.test_rules_service import rows, service

HEAD = """[[offer]]
id = "hostile"
title = "Hostile"
script = "Hello."
[offer.when]
"""
LIST = "[" + ", ".join(str(i) for i in range(40)) + "]"


def errors(text: str) -> list[RuleError]:
    with pytest.raises(RulesInvalid) as raised:
        parse_rules(text, "rules.toml")
    return raised.value.errors


def nested(macro: str, depth: int) -> str:
    names = "abcdefgh"[:depth]
    body = " + ".join(names) + " == -1"
    for name in reversed(names):
        body = f"{LIST}.{macro}({name}, {body})"
    return body if macro != "map" else f"size({body}) == 0"


def test_four_nested_exists_over_literal_lists_are_refused_at_their_line() -> None:
    # 2.5 million iterations: 13 s of `rules check` and a frozen console before
    found = errors(HEAD + f"slow = '{nested('exists', 4)}'\n")
    assert len(found) == 1
    assert found[0].line == 6
    assert "nested more than 2 deep" in found[0].message


def test_five_nested_maps_are_refused() -> None:
    (found,) = errors(HEAD + f"slow = '{nested('map', 5)}'\n")
    assert found.line == 6 and "comprehensions" in found.message


def test_two_nested_comprehensions_over_long_lists_are_refused_as_too_costly() -> None:
    long = "[" + ", ".join(str(i) for i in range(200)) + "]"
    (found,) = errors(HEAD + f"slow = '{long}.exists(a, {long}.exists(b, a + b == -1))'\n")
    assert found.line == 6 and "too costly" in found.message


def test_everyday_comprehensions_still_load() -> None:
    rules = parse_rules(
        HEAD
        + 'fibre = \'customer.products.exists(p, p in ["FIBRE_300", "FIBRE_600"])\'\n'
        + 'nested = \'customer.products.exists(p, ["DEVICE", "TV"].exists(x, p.startsWith(x)))\'\n'
    )
    assert [c.name for c in rules.offers[0].conditions] == ["fibre", "nested"]


def test_deeply_nested_brackets_in_a_condition_are_refused() -> None:
    (found,) = errors(HEAD + "deep = '" + "(" * 30 + "true" + ")" * 30 + "'\n")
    assert found.line == 6 and ("nested" in found.message or "syntax" in found.message)


def test_toml_nested_a_hundred_thousand_deep_is_an_error_not_a_traceback() -> None:
    (found,) = errors('version = "x"\nvalue = ' + "[" * 100_000 + "\n")
    assert (found.line, found.column) == (2, 25)
    assert "nested more than" in found.message


def test_brackets_inside_toml_strings_do_not_count_as_nesting() -> None:
    rules = parse_rules(RULES.replace('version = "test"', 'version = "[[[[[[[[[[[[[[[[[[[["'))
    assert rules.version.startswith("[[[[")


def test_an_endless_rules_file_is_read_only_up_to_the_limit() -> None:
    # /dev/zero was read until memory ran out
    with pytest.raises(RulesInvalid) as raised:
        load_rules("/dev/zero")
    (found,) = raised.value.errors
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in found.message


def test_a_hostile_edit_keeps_the_last_good_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    store = RulesStore(path, min_interval=0)
    good = store.rules.version
    path.write_text(RULES + "\n" + HEAD + f"slow = '{nested('exists', 4)}'\n")
    result = store.check(force=True)
    assert not result.loaded and store.rules.version == good
    assert "nested more than 2 deep" in store.errors[0].message


def test_evaluation_past_its_deadline_judges_no_more_offers() -> None:
    rules = parse_rules(HEAD + "always = 'customer.products.size() >= 0'\n")
    call = CallFacts(at=datetime(2026, 6, 1, 10, 0))
    who = customer()
    assert [d.eligible for d in decide(rules, who, call, CustomerHistory())] == [True]
    decisions = decide(
        rules, who, call, CustomerHistory(), only_eligible=True, deadline=time.monotonic() - 1
    )
    assert [d.blocked for d in decisions] == [OUT_OF_TIME]
    assert all("time budget" in d.clauses[0].seen for d in decisions)


async def test_a_customer_past_the_time_budget_gets_no_offer_and_nothing_is_recorded(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = await add_customer(sessions)
    offers = service(sessions, tmp_path)
    assert await offers.best_offers(customer_id, record=False)
    monkeypatch.setattr("core.rules.service.EVALUATION_BUDGET_SECONDS", -1.0)
    assert await offers.best_offers(customer_id) == []
    assert await rows(sessions) == []


async def test_conditions_are_never_run_on_the_event_loops_thread(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = await add_customer(sessions)
    threads: list[threading.Thread] = []

    def spying(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return engine.decide(*args, **kwargs)

    monkeypatch.setattr("core.rules.service.decide", spying)
    assert await service(sessions, tmp_path).best_offers(customer_id, record=False)
    assert threads and threading.main_thread() not in threads
