"""Masked contact details: enough to recognise a customer, too little to copy down.

One place for the rule, so the command line and the console mask alike.
"""

from __future__ import annotations

import re
from datetime import date

DOT = "\u2022"
"""The masking character: a bullet, never confused with a digit or a letter."""
_DIGIT = re.compile(r"\d")


def mask_phone(value: str) -> str:
    """Country code, the first national digit and the last two shown; layout kept.

    "+34 612 345 612" -> "+34 6•• ••• •12"; "0034 655 44 33 22" -> "0034 6•• •• •• 22";
    "612345612" -> "6••••••12".
    """
    digits = len(_DIGIT.findall(value))
    stripped = value.lstrip()
    code = 0
    international = re.match(r"(\+|00)\s*(\d{1,3})(?=\D)", stripped)
    if international:  # "+34 …" or "0034 …": the country code is no secret
        code = len(international.group(2)) + (2 if international.group(1) == "00" else 0)
    elif stripped.startswith("+"):
        code = min(2, digits)
    keep_head, keep_tail = code + 1, 2
    if digits <= keep_head + keep_tail:
        keep_head, keep_tail = 0, min(2, digits // 2)
    seen = 0

    def hide(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        shown = seen <= keep_head or seen > digits - keep_tail
        return match.group() if shown else DOT

    return _DIGIT.sub(hide, value)


def mask_email(value: str) -> str:
    """The first character of the local part and the domain: "a•••@example.com"."""
    local, at, domain = value.strip().partition("@")
    if not at:
        return DOT * 3
    return f"{local[:1]}{DOT * 3}@{domain}"


def mask_birth_date(value: date | None) -> str:
    """Only the year: "••/••/1985" (empty when unknown)."""
    if value is None:
        return ""
    return f"{DOT * 2}/{DOT * 2}/{value.year}"


def show_birth_date(value: date | None) -> str:
    """The birth date in full, in the masked form's order (day/month/year)."""
    return f"{value:%d/%m/%Y}" if value is not None else ""
