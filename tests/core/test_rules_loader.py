"""The rules file: every error a supervisor can make is reported at file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.rules.loader import EXAMPLE_RULES, load_rules, parse_rules
from core.rules.ruleset import RuleError, RulesInvalid
from tests.core.rules_fixtures import RULES

OFFER = """[[offer]]
id = "fibre-upgrade"
title = "Upgrade to 1 Gb fibre"
value = 120.0
valid = { from = 2026-01-01, until = 2026-12-31 }
prior = { rate = 0.10, weight = 50 }
script = "{customer.first_name}, 1 Gb is only 9.90 more a month."
[offer.when]
holds_fibre_300 = '"FIBRE_300" in customer.products'
"""


def errors(text: str) -> list[RuleError]:
    with pytest.raises(RulesInvalid) as raised:
        parse_rules(text, "rules.toml")
    return raised.value.errors


def only(text: str) -> str:
    found = errors(text)
    assert len(found) == 1, found
    return str(found[0])


def test_the_example_file_loads_with_its_offers() -> None:
    rules = load_rules(EXAMPLE_RULES)
    assert len(rules.offers) >= 8
    assert rules.version.startswith("2026-Q4-demo-campaign@")
    assert load_rules(None).version == rules.version  # empty setting: the example


def test_a_valid_file_has_a_version_from_its_content() -> None:
    first = parse_rules(RULES)
    again = parse_rules(RULES)
    changed = parse_rules(RULES.replace("value = 90.0", "value = 95.0"))
    assert first.version == again.version != changed.version
    assert [o.id for o in first.offers] == ["fibre-upgrade", "tv-sports", "gold-thanks"]


def test_a_misspelt_field_in_a_condition_is_suggested() -> None:
    text = OFFER + "long_time = 'customer.tenure_yeras > 2.0'\n"
    assert only(text) == (
        "rules.toml:10:23: condition 'long_time': unknown field 'customer.tenure_yeras'; "
        "did you mean 'tenure_years'?"
    )


def test_a_misspelt_offer_field_is_suggested() -> None:
    text = OFFER.replace('title = "Upgrade', 'tittle = "Upgrade')
    messages = [str(e) for e in errors(text)]
    assert "rules.toml:3:1: unknown field 'tittle' in offer; did you mean 'title'?" in messages
    assert "rules.toml:1:3: offer 'fibre-upgrade' has no title" in messages


def test_a_misspelt_namespace_and_function_are_suggested() -> None:
    text = OFFER + "a = 'customr.tier == \"Gold\"'\nb = 'sise(customer.products) > 1'\n"
    assert [str(e) for e in errors(text)] == [
        "rules.toml:10:6: condition 'a': unknown name 'customr'; did you mean 'customer'?",
        "rules.toml:11:6: condition 'b': unknown function 'sise'; did you mean 'size'?",
    ]


def test_a_wrong_type_in_the_file_is_reported_at_the_value() -> None:
    text = OFFER.replace("value = 120.0", 'value = "lots"')
    assert only(text) == "rules.toml:4:9: wrong type: value must be a number, not text 'lots'"


def test_a_field_compared_with_the_wrong_type_is_reported() -> None:
    text = OFFER + "gold = 'customer.tier == 3'\nsegments = 'customer.points in [\"a\"]'\n"
    assert [str(e) for e in errors(text)] == [
        "rules.toml:10:26: condition 'gold': wrong type: customer.tier is text, "
        "compared with a whole number 3",
        "rules.toml:11:33: condition 'segments': wrong type: customer.points is a whole number, "
        'compared with text "a"',
    ]


def test_a_condition_that_is_not_true_or_false_is_refused() -> None:
    message = only(OFFER + "points = 'customer.points + 1'\n")
    assert message.startswith("rules.toml:10:11: condition 'points': wrong type: a condition")


def test_mixing_numbers_and_text_is_a_type_error() -> None:
    message = only(OFFER + "odd = 'customer.tenure_years + customer.tier == \"x\"'\n")
    assert "condition 'odd': wrong type" in message


def test_a_date_that_is_not_a_date() -> None:
    text = OFFER.replace("until = 2026-12-31", 'until = "next week"')
    assert only(text) == (
        "rules.toml:5:38: valid.until: 'next week' is not a date "
        "(write YYYY-MM-DD, e.g. 2026-12-31)"
    )
    impossible = OFFER.replace("until = 2026-12-31", "until = 2026-02-30")
    assert only(impossible) == (
        "rules.toml:5:38: '2026-02-30' is not a date (write YYYY-MM-DD, e.g. 2026-12-31)"
    )


def test_until_before_from_is_refused() -> None:
    text = OFFER.replace("until = 2026-12-31", "until = 2025-12-31")
    assert "valid.until 2025-12-31 is before valid.from 2026-01-01" in only(text)


def test_a_duplicate_id_points_at_the_second_one() -> None:
    assert only(OFFER + "\n" + OFFER) == (
        "rules.toml:12:6: duplicate offer id 'fibre-upgrade' (first used on line 1)"
    )


def test_a_syntax_error_in_a_condition_points_into_it() -> None:
    assert only(OFFER + "broken = 'customer.points > '\n") == (
        "rules.toml:10:29: condition 'broken': syntax error: unexpected end of condition"
    )


def test_an_error_in_a_multi_line_condition_points_at_its_line() -> None:
    text = OFFER + 'multi = """\ncustomer.points > 10 &&\n  customer.tierr == "Gold"\n"""\n'
    assert only(text) == (
        "rules.toml:12:12: condition 'multi': unknown field 'customer.tierr'; did you mean 'tier'?"
    )


def test_an_unknown_field_in_a_script_is_a_load_error() -> None:
    text = OFFER.replace("{customer.first_name}, 1 Gb", "{customer.frist_name}, 1 Gb")
    assert only(text) == (
        "rules.toml:7:12: unknown field 'customer.frist_name' in script; did you mean 'first_name'?"
    )
    bad_format = OFFER.replace("{customer.first_name}", "{customer.spend_12m:mony}")
    assert "unknown format 'mony'" in only(bad_format)


def test_a_toml_syntax_error_has_its_position() -> None:
    assert only('version = "x\n') == "rules.toml:1:13: TOML syntax: illegal character '\\n'"


def test_policy_errors() -> None:
    text = '[policy]\narbitration = "thomson"\nmax_offers_per_call = 0\ncap = 1\n'
    assert [str(e) for e in errors(text)] == [
        "rules.toml:2:15: arbitration must be one of priority, expected_value, thompson; "
        "did you mean 'thompson'?",
        "rules.toml:3:23: max_offers_per_call must be at least 1",
        "rules.toml:4:1: unknown field 'cap' in policy (known: arbitration, "
        "marketing_requires_consent, decline_cooldown_days, max_offers_per_call, "
        "max_impressions_per_offer, max_impressions_per_customer, impression_window_days, "
        "decline_reasons)",
    ]


def test_every_error_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "campaign.toml"
    path.write_text(
        OFFER.replace("value = 120.0", 'value = "x"') + "bad = 'customer.tier == 1'\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesInvalid) as raised:
        load_rules(path)
    assert [(e.file, e.line) for e in raised.value.errors] == [(str(path), 4), (str(path), 10)]


def test_a_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(RulesInvalid) as raised:
        load_rules(tmp_path / "nope.toml")
    assert "cannot read" in str(raised.value.errors[0])


def test_conditions_are_bounded_in_length() -> None:
    long = " || ".join(["customer.points > 1"] * 200)
    assert "longer than 2000 characters" in only(OFFER + f"long = '{long}'\n")
