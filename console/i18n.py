"""The console's words (screens, widgets, notifications): `from console.i18n import _`."""

from __future__ import annotations

from pathlib import Path

from core.i18n import N_, Catalog

__all__ = ["N_", "_", "ngettext", "pgettext"]

_catalog = Catalog("console", Path(__file__).parent / "locale")


def _(message: str) -> str:
    """`message` in the current language; "" stays "" (gettext would give the catalog's
    header for it, and labels from data are sometimes empty)."""
    return _catalog(message) if message else message


ngettext = _catalog.ngettext
pgettext = _catalog.pgettext


def extract_keymap(fileobj, keywords, comment_tags, options):  # type: ignore[no-untyped-def]
    """Babel extractor for console/keymap.py: every scope title, description and tooltip.

    The keymap's table is built by a helper (`_b`) and by code (the channel keys), so the
    words are read from the built table rather than from `_()` calls; they are translated
    when help, the footer or the palette shows them.
    """
    from console.keymap import KEYMAP

    for scope in KEYMAP.values():
        yield 1, "N_", scope.title, []
        for binding in scope.bindings:
            for message in (binding.description, binding.tooltip):
                if message:
                    yield 1, "N_", message, []
