"""inspection follow-ups and snapshots

(owned by the inspections work: rectify_by, follow-up, outlet snapshots)

An inspection keeps the outlet's name and address as drawn (existing rows are filled from the
filing's revision in force, or its latest revision when none is in force), a `rectification`
result's deadline (`rectify_by`) and the follow-up check (整改复查) that closes it.

Revision ID: b7e2a4c6d8f0
Revises: ab4d6f8c0e1a
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2a4c6d8f0"
down_revision: str | None = "ab4d6f8c0e1a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLLOW_UP_OUTCOME = (
    "follow_up_outcome IS NULL OR follow_up_outcome IN ('rectified','not_rectified')"
)

# The revision each existing inspection's outlet is read from: the one in force, else the
# latest (every filing has at least its first revision). Plain SQL that SQLite and PostgreSQL
# both run.
_REVISION_OF_INSPECTION = """
    SELECT r.{column} FROM filing_revision r
    WHERE r.id = COALESCE(
        (SELECT f.current_revision_id FROM filing f WHERE f.id = inspection.filing_id),
        (SELECT MAX(r2.id) FROM filing_revision r2 WHERE r2.filing_id = inspection.filing_id)
    )
"""


def upgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outlet_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("outlet_address", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("rectify_by", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("follow_up_findings", sa.String(length=2000), nullable=True))
        batch_op.add_column(
            sa.Column("follow_up_recorded_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("follow_up_recorded_by_id", sa.Integer(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE inspection SET"
            f" outlet_name = ({_REVISION_OF_INSPECTION.format(column='outlet_name')}),"
            f" outlet_address = ({_REVISION_OF_INSPECTION.format(column='address')})"
        )
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.alter_column("outlet_name", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("outlet_address", existing_type=sa.String(length=256), nullable=False)
        batch_op.create_check_constraint(op.f("ck_inspection_follow_up_outcome"), FOLLOW_UP_OUTCOME)
        batch_op.create_foreign_key(
            op.f("fk_inspection_follow_up_recorded_by_id_inspector"),
            "inspector",
            ["follow_up_recorded_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_inspection_follow_up_recorded_by_id_inspector"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_inspection_follow_up_outcome"), type_="check")
        batch_op.drop_column("follow_up_recorded_by_id")
        batch_op.drop_column("follow_up_recorded_at")
        batch_op.drop_column("follow_up_findings")
        batch_op.drop_column("follow_up_outcome")
        batch_op.drop_column("follow_up_on")
        batch_op.drop_column("rectify_by")
        batch_op.drop_column("outlet_address")
        batch_op.drop_column("outlet_name")
