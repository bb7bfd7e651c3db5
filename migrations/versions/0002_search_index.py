"""search index: word dictionary, distinct names, postings, contact keys

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "search_meta",
    "search_contact",
    "search_name_customer",
    "search_name_word",
    "search_posting",
    "search_name",
    "search_word",
)


def _text(length: int) -> sa.String:
    # Range scans (prefixes, reversed phone digits) need plain byte order on PostgreSQL.
    if op.get_bind().dialect.name == "postgresql":
        return sa.String(length=length, collation="C")
    return sa.String(length=length)


def upgrade() -> None:
    op.create_table(
        "search_word",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", _text(100), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("word"),
    )
    op.create_table(
        "search_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _text(400), nullable=False),
        sa.Column("sorted_key", _text(400), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_search_name_sorted_key", "search_name", ["sorted_key"])
    op.create_table(
        "search_posting",
        sa.Column("word_id", sa.Integer(), nullable=False),
        sa.Column("name_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word_id", "name_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_name_word",
        sa.Column("name_id", sa.Integer(), nullable=False),
        sa.Column("word_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name_id", "word_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_name_customer",
        sa.Column("name_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name_id", "customer_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_name_customer_customer_id", "search_name_customer", ["customer_id"])
    op.create_table(
        "search_contact",
        sa.Column("kind", _text(1), nullable=False),
        sa.Column("key", _text(200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", "customer_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_contact_customer_id", "search_contact", ["customer_id"])
    op.create_table(
        "search_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.bulk_insert(
        sa.table("search_meta", sa.column("key", sa.String), sa.column("value", sa.Integer)),
        [{"key": "generation", "value": 1}, {"key": "words", "value": 0}],
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
