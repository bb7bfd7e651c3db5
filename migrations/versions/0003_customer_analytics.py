"""customer analytics: stored RFM / lifetime-value figures and the population fit

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_metrics",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Float(), nullable=False),
        sa.Column("spend_12m", sa.Float(), nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=False),
        sa.Column("f_score", sa.Integer(), nullable=False),
        sa.Column("m_score", sa.Integer(), nullable=False),
        sa.Column("rfm_segment", sa.String(length=30), nullable=False),
        sa.Column("repeat_purchases", sa.Integer(), nullable=False),
        sa.Column("t_x_weeks", sa.Float(), nullable=False),
        sa.Column("age_weeks", sa.Float(), nullable=False),
        sa.Column("repeat_average", sa.Float(), nullable=False),
        sa.Column("expected_purchases", sa.Float(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_spend", sa.Float(), nullable=False),
        sa.Column("expected_value", sa.Float(), nullable=False),
        sa.Column("last_purchase_on", sa.Date(), nullable=True),
        sa.Column("nps_score", sa.Integer(), nullable=True),
        sa.Column("updated_at", core.models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index(
        "ix_customer_metrics_rfm_segment", "customer_metrics", ["rfm_segment"], unique=False
    )
    op.create_table(
        "analytics_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fitted_at", core.models.types.UtcDateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("bgnbd_r", sa.Float(), nullable=True),
        sa.Column("bgnbd_alpha", sa.Float(), nullable=True),
        sa.Column("bgnbd_a", sa.Float(), nullable=True),
        sa.Column("bgnbd_b", sa.Float(), nullable=True),
        sa.Column("bgnbd_log_likelihood", sa.Float(), nullable=True),
        sa.Column("bgnbd_customers", sa.Integer(), nullable=True),
        sa.Column("gg_p", sa.Float(), nullable=True),
        sa.Column("gg_q", sa.Float(), nullable=True),
        sa.Column("gg_v", sa.Float(), nullable=True),
        sa.Column("gg_log_likelihood", sa.Float(), nullable=True),
        sa.Column("gg_customers", sa.Integer(), nullable=True),
        sa.Column("rfm_thresholds", sa.Text(), nullable=False),
        sa.Column("horizon_weeks", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("analytics_model")
    op.drop_index("ix_customer_metrics_rfm_segment", table_name="customer_metrics")
    op.drop_table("customer_metrics")
