"""interaction.reason: the reason code's id, so flags read a code, never a subject's words

Revision ID: 0014
Revises: 0013

The open-complaint flag and the rules' `customer.open_complaints` tested
`subject LIKE '%complaint%'`, which never fires on Spanish history ("Reclamación formal").
Existing rows are converted once: a logged call's interaction takes its call's reason code;
any other row whose subject or outcome names a complaint, in English or Spanish, becomes
`complaint`. From then on only the id counts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Words that named a complaint in subjects before there were codes (lower case, and without
# the accented letter SQLite's lower() leaves alone: "reclamaci" matches "Reclamación").
_COMPLAINT_WORDS = ("%complaint%", "%reclamaci%", "%queja%")


def upgrade() -> None:
    op.add_column(
        "interaction",
        sa.Column("reason", sa.String(length=60), nullable=False, server_default=""),
    )
    op.execute(
        'UPDATE interaction SET reason = coalesce((SELECT c.reason FROM "call" AS c'
        " WHERE c.id = interaction.call_id), '') WHERE call_id IS NOT NULL"
    )
    named = " OR ".join(
        f"lower(subject) LIKE '{w}' OR lower(outcome) LIKE '{w}'" for w in _COMPLAINT_WORDS
    )
    op.execute(f"UPDATE interaction SET reason = 'complaint' WHERE reason = '' AND ({named})")
    op.create_index("ix_interaction_customer_reason", "interaction", ["customer_id", "reason"])


def downgrade() -> None:
    op.drop_index("ix_interaction_customer_reason", table_name="interaction")
    with op.batch_alter_table("interaction") as batch:
        batch.drop_column("reason")
