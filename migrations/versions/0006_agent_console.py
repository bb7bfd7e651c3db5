"""agent console: the history filtered by channel reads one index range

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The agent screen filters a customer's history by channel, newest first, in pages:
    # without this index a rare channel among 10,000 interactions means scanning them all.
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interaction_customer_channel_at", ["customer_id", "channel", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_customer_channel_at")
