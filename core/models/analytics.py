"""Stored customer figures from the last analytics refresh, and the population fit behind them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from core.models.types import UtcDateTime, utcnow


class CustomerMetrics(SQLModel, table=True):
    """One customer's RFM and lifetime-value figures, as of `as_of` (see core.analytics)."""

    __tablename__ = "customer_metrics"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    as_of: date
    recency_days: int | None = None
    """Days from the last purchase to `as_of`; None without purchases."""
    frequency: int = 0
    """Purchase days in the RFM window."""
    monetary: float = 0.0
    """Spend in the RFM window."""
    spend_12m: float = 0.0
    r_score: int = 0
    f_score: int = 0
    m_score: int = 0
    rfm_segment: str = Field(default="", max_length=30, index=True)
    repeat_purchases: int = 0
    """BG/NBD x: purchase days after the first."""
    t_x_weeks: float = 0.0
    """BG/NBD t_x: weeks from the first to the last purchase."""
    age_weeks: float = 0.0
    """BG/NBD T: weeks from the first purchase to `as_of`."""
    repeat_average: float = 0.0
    """Gamma-Gamma m: average value of the repeat purchases."""
    expected_purchases: float = 0.0
    p_alive: float = 1.0
    expected_spend: float = 0.0
    """Gamma-Gamma expected value of one future purchase."""
    expected_value: float = 0.0
    last_purchase_on: date | None = None
    nps_score: int | None = None
    """The latest NPS answer as of `as_of`, for group NPS by segment and tier."""
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AnalyticsModel(SQLModel, table=True):
    """A population fit: BG/NBD and Gamma-Gamma parameters and the RFM thresholds.

    The newest row is the one in use; one customer's figures are scored against it without
    refitting. A fit is None when the data could not support it (no repeat buyers yet).
    """

    __tablename__ = "analytics_model"

    id: int | None = Field(default=None, primary_key=True)
    fitted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    as_of: date
    customers: int = 0
    """Customers with purchases when the model was fitted."""
    bgnbd_r: float | None = None
    bgnbd_alpha: float | None = None
    bgnbd_a: float | None = None
    bgnbd_b: float | None = None
    bgnbd_log_likelihood: float | None = None
    bgnbd_customers: int | None = None
    gg_p: float | None = None
    gg_q: float | None = None
    gg_v: float | None = None
    gg_log_likelihood: float | None = None
    gg_customers: int | None = None
    rfm_thresholds: str = Field(default="{}", sa_type=Text)
    """JSON: lowest value reaching scores 2..5 for recency (negated), frequency, monetary."""
    horizon_weeks: float = 52.0
