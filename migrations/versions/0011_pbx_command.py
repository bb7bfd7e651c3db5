"""pbx_command: the outbox of commands for the phone system (hold, transfer, consult)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pbx_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("to_agent", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("to_queue", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", core.models.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", core.models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pbx_command_call_id", "pbx_command", ["call_id"])
    op.create_index("ix_pbx_command_source_state", "pbx_command", ["source", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_pbx_command_source_state", table_name="pbx_command")
    op.drop_index("ix_pbx_command_call_id", table_name="pbx_command")
    op.drop_table("pbx_command")
