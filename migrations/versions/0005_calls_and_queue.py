"""calls and queue: the phone system's event log, its call ids, quality scores

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", core.models.types.UtcDateTime(), nullable=False),
        sa.Column("received_at", core.models.types.UtcDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_call_event_at", "call_event", ["at"])
    op.create_index("ix_call_event_call_at", "call_event", ["call_id", "at"])

    op.create_table(
        "call_reference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
        sa.UniqueConstraint("external_id"),
    )

    op.create_table(
        "quality_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("scored_at", core.models.types.UtcDateTime(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("coaching_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "reviewer"),
    )
    op.create_index("ix_quality_score_call_id", "quality_score", ["call_id"])
    op.create_index("ix_quality_score_agent_id", "quality_score", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_quality_score_agent_id", table_name="quality_score")
    op.drop_index("ix_quality_score_call_id", table_name="quality_score")
    op.drop_table("quality_score")
    op.drop_table("call_reference")
    op.drop_index("ix_call_event_call_at", table_name="call_event")
    op.drop_index("ix_call_event_at", table_name="call_event")
    op.drop_table("call_event")
