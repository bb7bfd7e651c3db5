"""The console's words (screens, widgets, notifications): `from console.i18n import _`."""

from __future__ import annotations

from pathlib import Path

from core.i18n import N_, Catalog

__all__ = ["N_", "_"]

_ = Catalog("console", Path(__file__).parent / "locale")
