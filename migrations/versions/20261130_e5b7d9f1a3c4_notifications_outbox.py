"""notifications: outbox, inbox, deliveries, password reset tokens

Revision ID: e5b7d9f1a3c4
Revises: d4a6c8e0f2b3
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

revision: str = "e5b7d9f1a3c4"
down_revision: str | None = "d4a6c8e0f2b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
