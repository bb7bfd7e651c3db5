"""search_posting.sig: each posting carries its name's signature (core.search.keys)

Revision ID: 0013
Revises: 0012

Existing postings get 0, "unknown": searches do not filter on it until the index is rebuilt
(`frontline search --reindex`) or the name is indexed again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "search_posting",
        sa.Column("sig", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("search_posting") as batch:
        batch.drop_column("sig")
