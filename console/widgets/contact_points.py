"""ContactPoints: every phone number and email of the customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.i18n import N_, _
from console.safe_text import safe_text

if TYPE_CHECKING:  # the console starts before the database layer is imported
    from core.models import ContactPoint


LABELS = (N_("mobile"), N_("home"), N_("work"), N_("personal"))
"""The usual labels of a phone or an email, shown in the reader's words."""


class ContactPoints(Static):
    """Phones first, the primary of each kind marked with ★."""

    DEFAULT_CSS = """
    ContactPoints { height: auto; }
    """

    points: reactive[list[ContactPoint] | None] = reactive(None, always_update=True)
    masked = False
    """Branch staff see phones and emails masked (core.privacy.mask); Ctrl+F reveals."""

    def watch_points(self, points: list[ContactPoint] | None) -> None:
        if points is None:
            self.update("")
            return
        if not points:
            self.update(Text(_("No phone or email on file."), style="dim italic"))
            return
        lines = []
        for point in points:
            icon = "☎" if point.kind == "phone" else "✉"
            value = point.value
            if self.masked:
                from core.privacy.mask import mask_email, mask_phone

                value = mask_phone(value) if point.kind == "phone" else mask_email(value)
            line = Text.assemble(
                (f"{icon} ", "dim"),
                safe_text(value),
                safe_text(f" {_(point.label)}" if point.label else "", "dim"),
                (" ★" if point.is_primary else "", "yellow"),
            )
            lines.append(line)
        self.update(Text("\n").join(lines))
