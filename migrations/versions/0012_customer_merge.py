"""customer record: merges, with what moved, so that each can be undone

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("merged_number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", core.models.types.UtcDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("undo", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("undone_at", core.models.types.UtcDateTime(), nullable=True),
        sa.Column("undone_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_merge_customer_id", "customer_merge", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_merge_customer_id", table_name="customer_merge")
    op.drop_table("customer_merge")
