"""enterprise licence data, rejection and reviewed changes

Revision ID: c3f5a7b9d1e2
Revises: b7e2a4c6d8f0
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

revision: str = "c3f5a7b9d1e2"
down_revision: str | None = "b7e2a4c6d8f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
