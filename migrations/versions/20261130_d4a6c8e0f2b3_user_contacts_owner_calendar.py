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
    # Owners get the contact mobile their enterprise registered (and nothing else), so they can
    # receive SMS notices and reset their passwords.
    op.execute(
        """
        UPDATE user_account SET mobile = (
            SELECT enterprise.contact_mobile FROM enterprise
            WHERE enterprise.id = user_account.enterprise_id
        )
        WHERE is_owner AND mobile IS NULL AND enterprise_id IS NOT NULL
        """
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("is_owner", server_default=None)
        batch_op.create_index(
            op.f("uq_user_account_one_owner"),
            ["enterprise_id"],
            unique=True,
            postgresql_where=sa.text("is_owner"),
            sqlite_where=sa.text("is_owner"),
        )
    # Working days as data (SPEC §1): the years an administrator loaded, and their days off on
    # weekdays and weekend days worked.
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("source IN ('package','admin')", name=op.f("ck_calendar_year_source")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
    )
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("is_working_day", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["year"], ["calendar_year.year"], name=op.f("fk_calendar_day_year_calendar_year")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    with op.batch_alter_table("calendar_day", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_day_year"), ["year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calendar_day", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_day_year"))
    op.drop_table("calendar_day")
    op.drop_table("calendar_year")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(op.f("uq_user_account_one_owner"))
        batch_op.drop_column("is_owner")
        batch_op.drop_column("mobile")
        batch_op.drop_column("email")
