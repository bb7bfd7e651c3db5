"""The command line's words (output, errors, help): `from console.commands.i18n import _`."""

from __future__ import annotations

from pathlib import Path

from core.i18n import N_, Catalog

__all__ = ["N_", "_"]

_ = Catalog("cli", Path(__file__).parent / "locale")
