"""Which language a person reads Frontline in, resolved from their environment.

`FRONTLINE_LANGUAGE` wins, then the POSIX variables in the order gettext reads them
(`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`). Over SSH the client's `LANG` arrives through
`AcceptEnv`. We resolve it ourselves rather than asking Babel's `default_locale()`: on a host
without generated locales Python coerces `LC_CTYPE` to `C.UTF-8`, and Babel then answers
English although `LANG=es_MX.UTF-8`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ENGLISH = "en"
SPANISH = "es"
LATIN_AMERICA = "es_419"

# Spanish-speaking contact centres are the first users: with no usable language in the
# environment (unset, `C`, `POSIX`), Frontline speaks Spanish.
DEFAULT_LOCALE = SPANISH

CATALOG_LANGUAGES = (SPANISH, "es_ES", LATIN_AMERICA, "es_MX", ENGLISH)
"""The catalogs shipped; a regional Spanish falls back through them (es_AR -> es_419 -> es)."""

_SPAIN_AND_NEUTRAL = {"ES", "GQ"}
_SEARCH_ORDER = ("FRONTLINE_LANGUAGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_LOCALE_SHAPE = re.compile(r"^(?P<lang>[A-Za-z]{2,3})(?:[_-](?P<region>[A-Za-z]{2}|\d{3}))?$")


@dataclass(frozen=True)
class Language:
    """A resolved language: `locale` formats dates and money, `catalogs` translate words."""

    locale: str
    catalogs: tuple[str, ...]

    @property
    def code(self) -> str:
        """The two-letter language (`es`, `en`)."""
        return self.locale.split("_")[0]


class UnknownLanguage(ValueError):
    """A language Frontline has no words for; the message names what was asked."""


def parse(text: str) -> Language | None:
    """`es_MX.UTF-8`, `es-419`, `en_GB@euro` -> a Language, or None if unusable or unsupported."""
    tag = text.strip().split(".")[0].split("@")[0]
    if tag.upper() in {"", "C", "POSIX"}:
        return None
    shape = _LOCALE_SHAPE.match(tag)
    if shape is None:
        return None
    lang = shape["lang"].lower()
    region = (shape["region"] or "").upper()
    locale = f"{lang}_{region}" if region else lang
    if lang == SPANISH:
        if not region:
            chain: tuple[str, ...] = (SPANISH,)
        elif region in _SPAIN_AND_NEUTRAL:
            chain = ("es_ES", SPANISH)
        elif region == "MX":
            chain = ("es_MX", LATIN_AMERICA, SPANISH)
        else:
            chain = (LATIN_AMERICA, SPANISH)
        return Language(locale, chain)
    if lang == ENGLISH:
        return Language(locale, (ENGLISH,))
    return None


def resolve(environ: Mapping[str, str], default: str = DEFAULT_LOCALE) -> Language:
    """The first usable language in the environment, else `default`.

    `LANGUAGE` may list several (`pt_BR:es:en`): the first supported one is taken. An explicit
    `FRONTLINE_LANGUAGE` that Frontline cannot speak is an error rather than a silent fallback.
    """
    for name in _SEARCH_ORDER:
        value = environ.get(name, "")
        if not value:
            continue
        for part in value.split(":"):
            found = parse(part)
            if found is not None:
                return found
        if name == "FRONTLINE_LANGUAGE":
            raise UnknownLanguage(
                f"FRONTLINE_LANGUAGE={value!r}: Frontline speaks es, es_ES, es_MX, es_419 and en"
            )
    found = parse(default)
    assert found is not None
    return found
