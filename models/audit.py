from datetime import datetime

from sqlmodel import Column, Field, SQLModel, Text

from models.base import timestamp_field


class AuditEntry(SQLModel, table=True):
    """One state change. `hash` = SHA-256(prev_hash + canonical JSON of the entry): a chain."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp_field()
    actor_id: int | None = Field(default=None)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    # Where the subject lies (a region code), so each admin reads its own jurisdiction's entries;
    # None for city-wide subjects and for entries written before it was recorded.
    region_code: str | None = Field(default=None, max_length=12, index=True)
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
