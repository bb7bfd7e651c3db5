"""What was typed in the search box: a phone number, an email, a customer id or a name.

Everything the index stores and every query goes through the same folding, so `garcia`
finds García and `nunez` Núñez: accents dropped, case folded, punctuation split into words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# Letters NFKD does not decompose into a base letter and a mark.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "ı": "i",
        "ª": "a",
        "º": "o",
    }
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
_CUSTOMER_ID = re.compile(r"^[cC]\s*-?\s*(\d{1,12})$")
_LOCAL_PART = re.compile(r"^[a-z0-9][a-z0-9._%+\-]*$")
_ANY_NUMBER = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*$")
"""A customer number of another shape (`X0001`, `ES-2024-77`): one token, letters and digits."""

PHONE_MIN_DIGITS = 7
"""A phone query needs at least this many digits; fewer could be anybody's."""
PHONE_TAIL_DIGITS = 9
"""Numbers are compared on at most this many trailing digits, so +34 or 0034 do not matter."""
CUSTOMER_ID_PREFIX = "C"
CUSTOMER_ID_DIGITS = 8


class QueryKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ID = "id"
    NAME = "name"


def fold(text: str) -> str:
    """Lower case without accents: "Núñez García" -> "nunez garcia".

    Args:
        text: any text.

    Returns:
        The folded text; characters other than letters and digits are kept as they were.
    """
    lowered = text.lower().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_words(text: str) -> list[str]:
    """The folded words of a name, in order: "María-José  O'Neill" -> maria jose o neill."""
    return [word for word in _NOT_WORD.split(fold(text)) if word]


def name_key(first_name: str, last_name: str) -> str:
    """The folded full name the index stores once for every customer who has it."""
    return " ".join(name_words(f"{first_name} {last_name}"))


def phone_digits(text: str) -> str:
    """Digits of a phone number, without an international `00` prefix: +34 612… -> 34612…"""
    digits = re.sub(r"\D", "", text)
    # 00 is an international prefix only before a whole number; a short fragment that
    # starts with zeros is just the number's digits.
    if text.strip().startswith("00") and len(digits) >= 11:
        digits = digits[2:]
    return digits


def phone_tail(digits: str) -> str:
    """The trailing digits numbers are compared on."""
    return digits[-PHONE_TAIL_DIGITS:]


def customer_number(digits: str) -> str:
    """The customer number for these digits: "12345" -> "C00012345"."""
    return f"{CUSTOMER_ID_PREFIX}{int(digits):0{CUSTOMER_ID_DIGITS}d}"


@dataclass(frozen=True)
class Query:
    """A classified query. `kinds` lists every reading worth trying, most likely first."""

    text: str
    kinds: tuple[QueryKind, ...]
    words: tuple[str, ...] = ()
    """Folded name words (name queries)."""
    digits: str = ""
    """Phone digits (phone queries) or the number of a customer id."""
    email: str = ""
    """The folded email, or the local part alone for a one-word name query."""
    customer_ids: tuple[str, ...] = ()
    """Customer numbers to try, e.g. ("C00012345",)."""

    @property
    def empty(self) -> bool:
        return not self.kinds


def classify(text: str) -> Query:
    """Decide what was typed.

    Args:
        text: the raw search box contents.

    Returns:
        The query with every plausible reading: an email; a customer id with or without its
        `C` and leading zeros, or of any other shape (one token of letters and digits, as
        typed); a phone number in any format (7+ digits); otherwise a name (a single word is
        also tried as the local part of an email).
    """
    raw = text.strip()
    if not raw:
        return Query(text, ())
    folded = fold(raw)
    if "@" in raw:
        email = raw.lower().replace(" ", "")
        local, _, domain = email.partition("@")
        return Query(text, (QueryKind.EMAIL,), email=email if domain else local)
    prefixed = _CUSTOMER_ID.match(raw)
    if prefixed:
        number = prefixed.group(1)
        typed = raw.upper().replace(" ", "").replace("-", "")
        return Query(
            text,
            (QueryKind.ID,),
            digits=number,
            customer_ids=_unique((customer_number(number), typed)),
        )
    if _PHONE_CHARS.match(raw) and any(ch.isdigit() for ch in raw):
        digits = phone_digits(raw)
        plain = raw.isdigit()
        kinds: list[QueryKind] = []
        numbers: tuple[str, ...] = ()
        if plain and len(digits.lstrip("0") or "0") <= CUSTOMER_ID_DIGITS:
            kinds.append(QueryKind.ID)
            numbers = _unique((customer_number(raw), raw))
        if len(digits) >= PHONE_MIN_DIGITS:
            # A bare number of up to 8 digits is more likely a customer number.
            if plain and len(digits) <= CUSTOMER_ID_DIGITS:
                kinds.append(QueryKind.PHONE)
            else:
                kinds.insert(0, QueryKind.PHONE)
        if not kinds:
            return Query(text, ())
        return Query(text, tuple(kinds), digits=digits, customer_ids=numbers)
    words = tuple(name_words(raw))
    if not words:
        return Query(text, ())
    email = folded if " " not in folded and _LOCAL_PART.match(folded) else ""
    if _ANY_NUMBER.match(raw):
        # Customer numbers from other systems are looked up as typed (any case) first; the
        # same text is still tried as a name and an email local part (`jgarcia77`).
        return Query(
            text,
            (QueryKind.ID, QueryKind.NAME),
            words=words,
            email=email,
            customer_ids=_unique((raw.upper(), raw)),
        )
    return Query(text, (QueryKind.NAME,), words=words, email=email)


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))
