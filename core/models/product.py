"""Products, what each customer holds, and what they bought."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    line: str = Field(max_length=40, index=True)
    """The product line (mobile, fibre, tv, insurance…): scope counts lines held."""
    price: Decimal = Field(default=Decimal("0"), max_digits=12, decimal_places=2)


class Holding(SQLModel, table=True):
    """A product a customer holds (or held, when `ended_on` is set)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", index=True)
    since: date
    ended_on: date | None = None


class Transaction(SQLModel, table=True):
    """A purchase: the source of recency, frequency, monetary value and lifetime value."""

    __tablename__ = "purchase"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    channel: str = Field(default="", max_length=20)
    import_key: str | None = Field(default=None, max_length=64, unique=True)
    """A digest of an imported row, so that re-importing a file adds nothing twice."""
