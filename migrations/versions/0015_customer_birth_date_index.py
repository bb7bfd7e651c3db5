"""ix_customer_birth_date: the likely duplicates of an opened customer (a close name and the
same birth date) are looked up at every customer the console opens; without an index each
look-up read the whole customer table (about 25 ms at 100,000 customers, ten times that at 1M).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_birth_date", "customer", ["birth_date"])


def downgrade() -> None:
    op.drop_index("ix_customer_birth_date", table_name="customer")
