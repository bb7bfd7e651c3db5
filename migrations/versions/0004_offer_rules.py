"""offer rules: indexes for the offer history and the learnt acceptance rates

Revision ID: 0004
Revises: 0003

Every offer shown is read back by customer and time (the contact policy: cooldown after a
decline, impression caps) and counted by offer and response (the acceptance rates that
arbitration learns). The table itself is in 0001.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_offer_presentation_customer_presented",
        "offer_presentation",
        ["customer_id", "presented_at"],
    )
    op.create_index(
        "ix_offer_presentation_offer_response",
        "offer_presentation",
        ["offer_id", "response"],
    )


def downgrade() -> None:
    op.drop_index("ix_offer_presentation_offer_response", table_name="offer_presentation")
    op.drop_index("ix_offer_presentation_customer_presented", table_name="offer_presentation")
