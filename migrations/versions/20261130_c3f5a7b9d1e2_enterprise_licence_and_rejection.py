"""enterprise licence data, rejection and reviewed changes

An enterprise gains its contact e-mail, its licence's validity and licensed area (region codes),
the reason a registration was rejected (status `rejected`), and a change of name, USCC or
licence data awaiting review (`pending_change`, `change_requested_at`).

Revision ID: c3f5a7b9d1e2
Revises: b7e2a4c6d8f0
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f5a7b9d1e2"
down_revision: str | None = "b7e2a4c6d8f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_REJECTED = "status IN ('pending','approved','rejected')"
WITHOUT_REJECTED = "status IN ('pending','approved')"


def upgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("licence_valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("licence_valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("licence_regions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("pending_change", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("change_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(op.f("ck_enterprise_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_enterprise_status"), WITH_REJECTED)


def downgrade() -> None:
    # A rejected registration has no status in the older schema: it is pending again (the
    # reason is dropped with its column).
    enterprise = sa.table("enterprise", sa.column("status", sa.String))
    op.execute(
        enterprise.update().where(enterprise.c.status == "rejected").values(status="pending")
    )
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_enterprise_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_enterprise_status"), WITHOUT_REJECTED)
        batch_op.drop_column("change_requested_at")
        batch_op.drop_column("pending_change")
        batch_op.drop_column("rejection_reason")
        batch_op.drop_column("rejected_at")
        batch_op.drop_column("licence_regions")
        batch_op.drop_column("licence_valid_until")
        batch_op.drop_column("licence_valid_from")
        batch_op.drop_column("contact_email")
