"""call events: the canonical event's source, its own id, the leg and the raw payload

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable, or with a server default): no table rebuild on SQLite,
    # no rewrite on PostgreSQL, however many events are stored.
    op.add_column(
        "call_event",
        sa.Column("source", sa.String(length=20), nullable=False, server_default=""),
    )
    op.add_column("call_event", sa.Column("source_event_id", sa.String(length=200), nullable=True))
    op.add_column("call_event", sa.Column("leg_id", sa.String(length=128), nullable=True))
    op.add_column("call_event", sa.Column("raw", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_event", schema=None) as batch_op:
        batch_op.drop_column("raw")
        batch_op.drop_column("leg_id")
        batch_op.drop_column("source_event_id")
        batch_op.drop_column("source")
