"""Table cells cut to their column with an ellipsis; phone numbers never lose a digit.

A DataTable crops a cell at its column's width without a sign that something is missing:
"María Fernández" became "María Ferná", and "+34 612 345 678" lost its last digits, a
different number. `fit` cuts text with "…"; `who_cell` shows a customer's name cut the same
way, or a caller's number whole (its spacing dropped when that makes it fit), for a column
sized to its content.
"""

from __future__ import annotations

import re

from rich.text import Text

from console.safe_text import safe_text

ELLIPSIS = "…"
_PHONE = re.compile(r"\+?[\d\s().\-/]{3,}")


def is_phone_number(value: str) -> bool:
    """True for a phone number as callers' numbers come (`+34 612 345 678`, `0612-345678`)."""
    value = value.strip()
    return bool(_PHONE.fullmatch(value)) and sum(ch.isdigit() for ch in value) >= 3


def compact_number(value: str) -> str:
    """The number's digits (and a leading +), without the spacing: `+34612345678`."""
    value = value.strip()
    digits = "".join(ch for ch in value if ch.isdigit())
    return f"+{digits}" if value.startswith("+") else digits


def fit(value: object, width: int, style: str = "") -> Text:
    """The value as safe text that shows cut to `width` cells with an ellipsis when longer
    (the cell keeps the whole text: a copy or a sort reads all of it)."""
    text = value.copy() if isinstance(value, Text) else safe_text(value, style)
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def who_cell(value: str, width: int) -> Text:
    """A name cut to `width` with an ellipsis; a phone number whole (made compact when it
    does not fit as written: the column widens for it rather than cut a digit)."""
    if is_phone_number(value):
        number = value.strip()
        return safe_text(number if len(number) <= width else compact_number(number))
    text = safe_text(value)  # cut for real: the column is as wide as its longest cell
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text
