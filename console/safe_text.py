"""Untrusted text (names, notes, imported files) made safe to show: never markup, never escapes."""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls except tab/newline, DEL, and C1 controls: any of these could move the cursor,
# change colours or retitle the terminal if written raw.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else f"\\x{code:02x}"


def clean(value: object) -> str:
    """The value as a string with every control character replaced by a visible stand-in."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def safe_text(value: object, style: str = "") -> Text:
    """A Rich Text of the value: square brackets stay literal, control characters visible."""
    return Text(clean(value), style=style)
