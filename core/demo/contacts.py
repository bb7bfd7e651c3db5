"""Demo phone numbers and emails, written the many ways customers write them."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from core.reference.countries import CALLING_CODES

NATIONAL_LENGTH: dict[str, int] = {
    "ES": 9, "MX": 10, "AR": 10, "CO": 10, "PE": 9, "CL": 9, "EC": 9,
    "GB": 10, "US": 10, "IE": 9, "PT": 9, "BR": 11,
}  # fmt: skip
MOBILE_PREFIX: dict[str, str] = {
    "ES": "6", "MX": "55", "AR": "911", "CO": "3", "PE": "9", "CL": "9", "EC": "9",
    "GB": "7", "US": "", "IE": "8", "PT": "9", "BR": "119",
}  # fmt: skip
LANDLINE_PREFIX: dict[str, str] = {
    "ES": "9", "MX": "33", "AR": "11", "CO": "60", "PE": "1", "CL": "2", "EC": "2",
    "GB": "20", "US": "", "IE": "1", "PT": "2", "BR": "11",
}  # fmt: skip

SPANISH_FORMATS = 7


def national_number(country: str, prefix: str, digits: int) -> str:
    """A national number of the country's length: `prefix` then the low digits of `digits`."""
    length = NATIONAL_LENGTH[country]
    if country == "US":
        prefix = ("415", "305", "212", "713", "312")[digits % 5]
    rest = length - len(prefix)
    return prefix + str(digits % 10**rest).zfill(rest)


def format_phone(country: str, national: str, variant: int) -> tuple[str, str]:
    """The number as a customer might write it, and its normalised digits (with country code).

    Args:
        country: ISO code of the number's country.
        national: the national significant number, digits only.
        variant: which of the usual ways of writing it (any int; wraps around).

    Returns:
        (as written, digits with country code).
    """
    code = CALLING_CODES[country]
    normalized = code + national
    if country == "ES":
        n = national
        written = (
            f"+34 {n[:3]} {n[3:5]} {n[5:7]} {n[7:]}",
            f"{n[:3]}-{n[3:6]}-{n[6:]}",
            f"({n[:3]}) {n[3:]}",
            f"0034 {n}",
            n,
            f"{n[:3]} {n[3:6]} {n[6:]}",
            f"+34{n}",
        )[variant % SPANISH_FORMATS]
        return written, normalized
    if country == "US":
        written = (
            f"+1 ({national[:3]}) {national[3:6]}-{national[6:]}",
            f"+1 {national[:3]}-{national[3:6]}-{national[6:]}",
            f"001 {national}",
        )[variant % 3]
        return written, normalized
    groups = f"{national[:3]} {national[3:6]} {national[6:]}"
    written = (f"+{code} {groups}", f"00{code} {national}", f"+{code}{national}")[variant % 3]
    return written, normalized


@lru_cache(maxsize=4096)
def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters only ("María José" -> "mariajose"), for email local parts."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def email_local(first: str, surname: str, number: int, style: int) -> str:
    """An email local part in one of the usual styles; `number` keeps namesakes apart."""
    f = ascii_fold(first.split(" ")[0])
    s = ascii_fold(surname)
    return (
        f"{f}.{s}{number}",
        f"{f[:1]}{s}{number}",
        f"{f}{s}.{number}",
        f"{s}.{f}{number}",
        f"{f}_{s}_{number}",
    )[style % 5]
