"""Typed follow-up dates and amounts, read the way each language writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.i18n import using
from core.i18n.parsing import AmountError, FollowUpError, parse_amount, parse_follow_up

WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("hoy", date(2026, 12, 2)),
        ("mañana", date(2026, 12, 3)),
        ("Mañana", date(2026, 12, 3)),
        ("manana", date(2026, 12, 3)),
        ("pasado mañana", date(2026, 12, 4)),
        ("lunes", date(2026, 12, 7)),
        ("el viernes", date(2026, 12, 4)),
        ("miércoles", date(2026, 12, 9)),  # today is Wednesday: the next one
        ("domingo", date(2026, 12, 6)),
        ("15/12", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("3/1", date(2027, 1, 3)),  # already past this year: next January
        ("15-12-26", date(2026, 12, 15)),
        ("+3", date(2026, 12, 5)),
        ("2026-12-15", date(2026, 12, 15)),
        ("tomorrow", date(2026, 12, 3)),  # English words work in a Spanish console too
    ],
)
def test_spanish_follow_ups(typed: str, meant: date) -> None:
    with using("es_ES"):
        assert parse_follow_up(typed, WEDNESDAY) == meant


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("tomorrow", date(2026, 12, 3)),
        ("monday", date(2026, 12, 7)),
        ("12/15", date(2026, 12, 15)),
        ("12/15/2026", date(2026, 12, 15)),
        ("+3", date(2026, 12, 5)),
        ("2026-12-15", date(2026, 12, 15)),
    ],
)
def test_us_english_follow_ups_are_month_first(typed: str, meant: date) -> None:
    with using("en_US"):
        assert parse_follow_up(typed, WEDNESDAY) == meant


def test_day_first_in_mexico_and_britain() -> None:
    assert parse_follow_up("05/01", WEDNESDAY, "es_MX") == date(2027, 1, 5)
    assert parse_follow_up("05/01", WEDNESDAY, "en_GB") == date(2027, 1, 5)
    assert parse_follow_up("05/01", WEDNESDAY, "en_US") == date(2027, 5, 1)


def test_an_empty_follow_up_is_none() -> None:
    assert parse_follow_up("  ", WEDNESDAY) is None


def test_a_wrong_follow_up_says_what_would_do_in_the_reader_language() -> None:
    with using("es"), pytest.raises(FollowUpError) as spanish:
        parse_follow_up("31/02", WEDNESDAY)
    assert "'31/02' no es una fecha" in str(spanish.value)
    assert "mañana" in str(spanish.value) and "15/12" in str(spanish.value)
    with using("en_US"), pytest.raises(FollowUpError) as english:
        parse_follow_up("someday", WEDNESDAY)
    assert "'someday' is not a date" in str(english.value)
    assert "12/15" in str(english.value)


@pytest.mark.parametrize(
    ("locale", "typed", "amount"),
    [
        ("es_ES", "1.234,56", Decimal("1234.56")),
        ("es_ES", "1234,56 €", Decimal("1234.56")),
        ("es_ES", "12,5", Decimal("12.5")),
        ("es_MX", "1,234.56", Decimal("1234.56")),
        ("es_MX", "$1,234.56 MXN", Decimal("1234.56")),
        ("en_US", "1,234.56", Decimal("1234.56")),
    ],
)
def test_amounts_per_locale(locale: str, typed: str, amount: Decimal) -> None:
    assert parse_amount(typed, locale) == amount


def test_an_amount_grouped_the_other_way_is_refused_not_guessed() -> None:
    with using("es_ES"), pytest.raises(AmountError) as spain:
        parse_amount("1,234.56")
    assert "1.234,56" in str(spain.value)
    with pytest.raises(AmountError, match="1,234.56"):
        parse_amount("1.234,56", "es_MX")
    with pytest.raises(AmountError):
        parse_amount("", "es_ES")
