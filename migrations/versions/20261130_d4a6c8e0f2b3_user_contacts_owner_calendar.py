"""user contacts and ownership, working-day calendar

Revision ID: d4a6c8e0f2b3
Revises: c3f5a7b9d1e2
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4a6c8e0f2b3"
down_revision: str | None = "c3f5a7b9d1e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("mobile", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("is_owner", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The account that registered an enterprise is its first operator account: the owner.
    op.execute(
        """
        UPDATE user_account SET is_owner = TRUE
        WHERE role = 'operator' AND id IN (
            SELECT MIN(id) FROM user_account
            WHERE role = 'operator' AND enterprise_id IS NOT NULL
            GROUP BY enterprise_id
        )
        """
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("is_owner", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("is_owner")
        batch_op.drop_column("mobile")
        batch_op.drop_column("email")
