"""The customer search index, kept in the database so every console process shares it.

Names are indexed once per distinct folded full name ("maria garcia lopez"), however many
customers share it. A name's id is its rank: the index is rebuilt with the names of the
most recently active customers first, so reading a posting list in id order meets the
likeliest callers first and a common word can stop after a few rows.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class SearchWord(SQLModel, table=True):
    """The dictionary: every distinct folded word of a name."""

    __tablename__ = "search_word"

    id: int | None = Field(default=None, primary_key=True)
    word: str = Field(max_length=100, unique=True)
    df: int = 0
    """How many names contain the word (an estimate between rebuilds)."""


class SearchName(SQLModel, table=True):
    """A distinct folded full name; `id` is its rank (smaller: more recently active)."""

    __tablename__ = "search_name"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, unique=True)
    """The words in the customer's order: "maria garcia lopez"."""
    sorted_key: str = Field(max_length=400, index=True)
    """The same words sorted, to find a whole name typed in any order."""


class SearchPosting(SQLModel, table=True):
    """Word -> names containing it, read in name (rank) order."""

    __tablename__ = "search_posting"
    __table_args__ = {"sqlite_with_rowid": False}

    word_id: int = Field(primary_key=True)
    name_id: int = Field(primary_key=True)
    sig: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    """The name's signature (core.search.keys.name_signature); 0 when unknown."""


class SearchNameWord(SQLModel, table=True):
    """Name -> its words: checks the other words of a query for a candidate name."""

    __tablename__ = "search_name_word"
    __table_args__ = {"sqlite_with_rowid": False}

    name_id: int = Field(primary_key=True)
    word_id: int = Field(primary_key=True)


class SearchNameCustomer(SQLModel, table=True):
    """The customers who have a name (namesakes share one name row)."""

    __tablename__ = "search_name_customer"
    __table_args__ = {"sqlite_with_rowid": False}

    name_id: int = Field(primary_key=True)
    customer_id: int = Field(primary_key=True, index=True)


class SearchContact(SQLModel, table=True):
    """Phones by their reversed digits (trailing-digit search) and emails by local part."""

    __tablename__ = "search_contact"
    __table_args__ = {"sqlite_with_rowid": False}

    kind: str = Field(primary_key=True, max_length=1)
    """`p`: key is the phone's digits reversed; `e`: key is the email's local part."""
    key: str = Field(primary_key=True, max_length=200)
    customer_id: int = Field(primary_key=True, index=True)


class SearchMeta(SQLModel, table=True):
    """Counters that tell searching processes their cached dictionary is out of date."""

    __tablename__ = "search_meta"

    key: str = Field(primary_key=True, max_length=40)
    value: int = 0
