"""inspection follow-ups and snapshots

(owned by the inspections work: rectify_by, follow-up, outlet snapshots)

Revision ID: b7e2a4c6d8f0
Revises: ab4d6f8c0e1a
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

revision: str = "b7e2a4c6d8f0"
down_revision: str | None = "ab4d6f8c0e1a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
