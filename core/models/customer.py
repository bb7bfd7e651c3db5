"""Customers and every phone number and email they have."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from core.models.types import UtcDateTime, utcnow


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class CustomerBase(SQLModel):
    external_id: str = Field(max_length=32, unique=True, index=True)
    """The customer number staff and customers quote, e.g. C00012345."""
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=150)
    """All surnames, in order ("García López")."""
    city: str = Field(default="", max_length=100)
    country: str = Field(default="", max_length=2)
    """ISO 3166-1 alpha-2 code."""
    birth_date: date | None = Field(default=None, index=True)
    """Indexed: likely duplicates are a close name with the same birth date."""
    customer_since: date | None = None
    marketing_consent: bool = False
    """The customer agreed to be offered products they do not hold yet."""
    do_not_call: bool = False
    """Never call this customer for anything but service."""


class Customer(CustomerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_activity_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    """Latest purchase or interaction; breaks ties between namesakes."""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class CustomerRead(CustomerBase):
    id: int
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None


class ContactPoint(SQLModel, table=True):
    """One phone number or email of a customer, as written and normalised."""

    __tablename__ = "contact_point"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "normalized"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=8)
    """`phone` or `email` (ContactKind)."""
    value: str = Field(max_length=200)
    """As the customer gave it, e.g. "+34 612 34 56 78"."""
    normalized: str = Field(max_length=200, index=True)
    """Phones: digits only, international form where known; emails: lower case."""
    label: str = Field(default="", max_length=20)
    """mobile, home, work, personal…"""
    is_primary: bool = False
