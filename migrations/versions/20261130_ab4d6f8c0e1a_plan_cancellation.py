"""inspection plan cancellation

A plan can be cancelled (with a reason) until it is drawn: the plan gets `cancellation_reason`
and `cancelled_at`, and its status CHECK constraint allows `cancelled`.

Revision ID: ab4d6f8c0e1a
Revises: 9c3e5f7a1b2d
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ab4d6f8c0e1a"
down_revision: str | None = "9c3e5f7a1b2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_CANCELLED = "status IN ('draft','announced','drawn','cancelled')"
WITHOUT_CANCELLED = "status IN ('draft','announced','drawn')"


def upgrade() -> None:
    with op.batch_alter_table("inspection_plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancellation_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_inspection_plan_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_inspection_plan_status"), WITH_CANCELLED)


def downgrade() -> None:
    # A cancelled plan has no status in the older schema: it goes back to being a draft if it
    # was never announced, else to announced (its reason is dropped with the column).
    plan = sa.table(
        "inspection_plan",
        sa.column("status", sa.String),
        sa.column("announced_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        plan.update()
        .where(plan.c.status == "cancelled", plan.c.announced_at.is_(None))
        .values(status="draft")
    )
    op.execute(plan.update().where(plan.c.status == "cancelled").values(status="announced"))
    with op.batch_alter_table("inspection_plan", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_inspection_plan_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_inspection_plan_status"), WITHOUT_CANCELLED)
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancellation_reason")
