"""The shipped translations are whole and current: CI fails before a Spanish user reads English.

For each gettext domain: every word in the code is in its template (`make messages` was run),
every Spanish entry is translated and not fuzzy, every compiled .mo says what its .po says
(`make catalogs` was run), and no translation loses or invents a placeholder.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "tr": None}

# domain -> (catalog folder, source folder extracted into it, extra source files)
DOMAINS = {
    "core": ("core/i18n/locale", "core", ()),
    "cli": ("console/commands/locale", "console/commands", ("console/cli.py",)),
    "console": ("console/locale", "console", ()),
    "click": ("console/commands/locale", None, ()),
}
LANGUAGES = ("es", "es_ES", "es_419", "es_MX", "en")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sdr]|%[sdr]")


def _po(domain: str, lang: str) -> Catalog:
    folder = ROOT / DOMAINS[domain][0]
    with (folder / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as file:
        return read_po(file, locale=lang, domain=domain)


def _ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _marks(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_spanish_entry_is_translated_and_not_fuzzy(domain: str) -> None:
    catalog = _po(domain, "es")
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [], f"{domain}: untranslated in es (make messages, then translate)"
    assert fuzzy == [], f"{domain}: fuzzy in es (check the wording, then drop the flag)"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_their_placeholders(domain: str, lang: str) -> None:
    wrong = []
    for message in _po(domain, lang):
        if not message.id or not all(_strings(message)):
            continue
        ids, strings = _ids(message), _strings(message)
        for n, text in enumerate(strings):
            source = ids[0] if n == 0 else ids[-1]
            if _marks(text) != _marks(source):
                wrong.append((source, text))
    assert wrong == [], f"{domain}/{lang}: placeholders differ between msgid and msgstr"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_compiled_catalog_says_what_its_po_says(domain: str, lang: str) -> None:
    folder = ROOT / DOMAINS[domain][0] / lang / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, _po(domain, lang))
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    shipped_file = folder / f"{domain}.mo"
    assert shipped_file.exists(), f"{shipped_file} is missing: run make catalogs"
    with shipped_file.open("rb") as file:
        shipped = gettext.GNUTranslations(file)._catalog  # type: ignore[attr-defined]
    strip = {k: v for k, v in expected.items() if k != ""}
    assert {k: v for k, v in shipped.items() if k != ""} == strip, (
        f"{shipped_file} is not its .po compiled: run make catalogs"
    )


@pytest.mark.parametrize("domain", ["core", "cli", "console"])
def test_every_word_in_the_code_is_in_its_catalog(domain: str) -> None:
    folder, source, extra = DOMAINS[domain]
    method_map = [("cli.py", "ignore"), ("**.py", "console.commands.i18n.extract_commands")]
    found: set[str] = set()
    assert source is not None
    for _path, _line, message, _comments, _context in extract_from_dir(
        ROOT / source, method_map, keywords=KEYWORDS
    ):
        if domain == "console" and _path.startswith("commands/"):
            continue
        found.add(message[0] if isinstance(message, tuple) else message)
    for name in extra:
        for _path, _line, message, _comments, _context in extract_from_dir(
            ROOT / Path(name).parent,
            [(Path(name).name, "console.commands.i18n.extract_commands"), ("**", "ignore")],
            keywords=KEYWORDS,
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    catalogued = {_ids(m)[0] for m in _po(domain, "es") if m.id}
    assert sorted(found - catalogued) == [], f"{domain}: words not in the catalog: make messages"
