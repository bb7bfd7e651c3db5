"""Reloading the rules file: a broken file never replaces good rules, and says why."""

from __future__ import annotations

import os
from pathlib import Path

from core.rules.store import RulesStore
from tests.core.rules_fixtures import RULES, write_rules


def touch_later(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_a_changed_file_is_reloaded(tmp_path: Path) -> None:
    path = write_rules(tmp_path)
    store = RulesStore(path, min_interval=0)
    first = store.rules.version
    assert store.check().changed is False
    touch_later(path, RULES.replace("value = 90.0", "value = 99.0"))
    result = store.check()
    assert result.changed and result.loaded
    assert store.rules.version != first
    assert store.rules.offer("tv-sports") is not None
    assert store.rules.offer("tv-sports").value == 99.0  # type: ignore[union-attr]


def test_a_broken_file_keeps_the_last_good_rules_and_its_errors(tmp_path: Path) -> None:
    path = write_rules(tmp_path)
    store = RulesStore(path, min_interval=0)
    good = store.rules
    touch_later(path, RULES.replace("value = 90.0", 'value = "ninety"'))
    result = store.check()
    assert result.changed and not result.loaded
    assert store.rules is good
    assert store.broken
    assert [str(e) for e in store.errors] == [
        f"{path}:22:9: wrong type: value must be a number, not text 'ninety'"
    ]
    touch_later(path, RULES)  # fixed again
    assert store.check().loaded
    assert not store.broken and store.rules.version == good.version


def test_a_broken_file_at_start_leaves_no_offers_and_the_errors(tmp_path: Path) -> None:
    path = write_rules(tmp_path, "[[offer]]\nid = 1\n")
    store = RulesStore(path)
    assert store.rules.offers == ()
    assert store.broken


def test_checks_are_rate_limited(tmp_path: Path) -> None:
    now = [0.0]
    path = write_rules(tmp_path)
    store = RulesStore(path, min_interval=1.0, clock=lambda: now[0])
    touch_later(path, RULES.replace("value = 90.0", "value = 91.0"))
    assert store.check().changed is False  # too soon after loading
    now[0] = 2.0
    assert store.check().loaded
