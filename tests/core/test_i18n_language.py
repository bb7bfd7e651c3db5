"""The language a person reads is the one their environment names, whatever the host's locales."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.mofile import write_mo

from core.i18n import Catalog, current_language, resolve, set_language, using
from core.i18n.language import UnknownLanguage


@pytest.mark.parametrize(
    ("environ", "locale", "catalogs"),
    [
        ({"LANG": "es_MX.UTF-8", "LC_CTYPE": "C.UTF-8"}, "es_MX", ("es_MX", "es_419", "es")),
        ({"LANG": "es_AR.UTF-8"}, "es_AR", ("es_419", "es")),
        ({"LANG": "es_ES.UTF-8"}, "es_ES", ("es_ES", "es")),
        ({"LC_ALL": "C.UTF-8", "LANG": "en_GB.UTF-8"}, "en_GB", ("en",)),
        ({"LANGUAGE": "pt_BR:es_CO", "LANG": "en_US.UTF-8"}, "es_CO", ("es_419", "es")),
        ({"FRONTLINE_LANGUAGE": "en", "LANG": "es_ES.UTF-8"}, "en", ("en",)),
        ({"LANG": "C.UTF-8"}, "es", ("es",)),
        ({}, "es", ("es",)),
    ],
)
def test_the_environment_names_the_language(
    environ: dict[str, str], locale: str, catalogs: tuple[str, ...]
) -> None:
    found = resolve(environ)
    assert (found.locale, found.catalogs) == (locale, catalogs)


def test_a_language_frontline_cannot_speak_is_said_not_ignored() -> None:
    with pytest.raises(UnknownLanguage, match="FRONTLINE_LANGUAGE='fr'"):
        resolve({"FRONTLINE_LANGUAGE": "fr"})


def _write(localedir: Path, lang: str, words: dict[str, str]) -> None:
    catalog = PoCatalog(locale=lang)
    for english, translated in words.items():
        catalog.add(english, translated)
    target = localedir / lang / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "demo.mo", "wb") as out:
        write_mo(out, catalog)


def test_regional_words_fall_back_to_neutral_spanish_then_english(tmp_path: Path) -> None:
    _write(tmp_path, "es", {"Mobile": "Móvil", "Customer": "Cliente"})
    _write(tmp_path, "es_419", {"Mobile": "Celular"})
    _ = Catalog("demo", tmp_path)
    before = current_language()
    try:
        set_language("es_AR")
        assert (_("Mobile"), _("Customer"), _("Untranslated")) == (
            "Celular",
            "Cliente",
            "Untranslated",
        )
        with using("es_ES"):
            assert _("Mobile") == "Móvil"
        assert _("Mobile") == "Celular"
    finally:
        set_language(before)


def test_money_shows_the_currency_code_where_a_bare_dollar_sign_is_ambiguous() -> None:
    from core.i18n.formats import format_duration, format_money, format_number

    assert format_money(1234.5, "EUR", locale="es_ES") == "1.234,50\xa0€"
    assert format_money(1234.5, "MXN", locale="es_MX") == "MXN 1,234.50"
    assert format_number(1234.5, locale="es_ES") == "1.234,5"
    assert (format_duration(245), format_duration(3723), format_duration(-3)) == (
        "04:05",
        "1:02:03",
        "00:00",
    )
