"""agents: SIP contact and queues, so Frontline can answer a SIP proxy's "which agent?"

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sip_contact", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("queues", sa.String(length=500), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("queues")
        batch_op.drop_column("sip_contact")
