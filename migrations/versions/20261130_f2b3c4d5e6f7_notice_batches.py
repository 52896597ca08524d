"""notice batches: one outbox row for a large fan-out, expanded after commit

A draw writes one `notice_batch` row in its transaction instead of every notice (SPEC §10); the
worker expands it afterwards in chunks, recording its progress, under a lease.

Revision ID: f2b3c4d5e6f7
Revises: f1a2b3c4d5e6
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2b3c4d5e6f7"
down_revision: str | None = "f1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("inspections_drawn",)
KIND_CHECK = f"kind IN ({','.join(repr(kind) for kind in KINDS)})"


def upgrade() -> None:
    op.create_table(
        "notice_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(KIND_CHECK, name=op.f("ck_notice_batch_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_batch")),
    )


def downgrade() -> None:
    # Batches not yet expanded are dropped with the table: run the worker dry before going back.
    op.drop_table("notice_batch")
