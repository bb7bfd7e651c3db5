"""Translation with gettext: one catalog per package (domain), read in the current language.

Each package that shows words keeps its catalogs beside its code
(`<package>/locale/<lang>/LC_MESSAGES/<domain>.mo`) and makes its own translator:

    _ = Catalog("core", Path(__file__).parent / "locale")   # then _("Customer not found")

The process has one language (`set_language`, from the environment at start-up); a request
of the HTTP API may read another (`using(language)`, from `Accept-Language`) without touching
other requests, because the current language is a context variable. Strings defined at import
time (binding descriptions, column titles) are marked with `N_` and translated when shown.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from core.i18n.language import CATALOG_LANGUAGES, Language, UnknownLanguage, parse, resolve

__all__ = [
    "CATALOG_LANGUAGES",
    "Catalog",
    "Language",
    "N_",
    "UnknownLanguage",
    "current_language",
    "parse",
    "resolve",
    "set_language",
    "using",
    "words",
]

_process_language: Language = Language("en", ("en",))
_request_language: ContextVar[Language | None] = ContextVar("frontline_language", default=None)


def set_language(language: Language | str) -> Language:
    """Make `language` the process's language (the console's, a CLI command's)."""
    global _process_language
    _process_language = _as_language(language)
    return _process_language


def current_language() -> Language:
    """The language of the current request if one set it, else the process's."""
    return _request_language.get() or _process_language


@contextmanager
def using(language: Language | str) -> Iterator[Language]:
    """Read in `language` inside the block only (an API request, a test)."""
    chosen = _as_language(language)
    token = _request_language.set(chosen)
    try:
        yield chosen
    finally:
        _request_language.reset(token)


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now (translated when shown)."""
    return message


class Catalog:
    """A package's translator: call it with an English message to get the current language's."""

    def __init__(self, domain: str, localedir: Path) -> None:
        self.domain = domain
        self.localedir = localedir

    def __call__(self, message: str) -> str:
        return self._for(current_language()).gettext(message)

    def gettext(self, message: str) -> str:
        return self(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._for(current_language()).ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """A message whose translation depends on where it shows (`"key"`, `"Hold"`)."""
        return self._for(current_language()).pgettext(context, message)

    def _for(self, language: Language) -> _gettext.NullTranslations:
        return _load(self.domain, str(self.localedir), language.catalogs)


@lru_cache(maxsize=64)
def _load(domain: str, localedir: str, chain: tuple[str, ...]) -> _gettext.NullTranslations:
    """The chain's catalogs, most specific first, each falling back to the next; English last.

    Each language's file is opened by its exact path: `gettext.translation` would add its own
    fallbacks (`es` -> es_ES, `es_MX` -> es) ahead of ours, so es_419's words would never show.
    """
    found: _gettext.NullTranslations = _gettext.NullTranslations()
    for lang in reversed(chain):
        path = Path(localedir) / lang / "LC_MESSAGES" / f"{domain}.mo"
        try:
            with open(path, "rb") as mo:
                catalog = _gettext.GNUTranslations(mo)
        except OSError:
            continue
        catalog.add_fallback(found)
        found = catalog
    return found


def _as_language(language: Language | str) -> Language:
    if isinstance(language, Language):
        return language
    parsed = parse(language)
    if parsed is None:
        raise UnknownLanguage(f"{language!r}: Frontline speaks es, es_ES, es_MX, es_419 and en")
    return parsed


words = Catalog("core", Path(__file__).parent / "locale")
"""Core's own words (service errors, the API's messages): `from core.i18n import words as _`."""
