"""Login and registration throttling, shared by every worker and instance."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import timestamp_field


class Throttle(SQLModel, table=True):
    """Failures counted per key (`user:<name>`, `addr:<client address>`, ...) in a window."""

    __tablename__ = "throttle"
    key: str = Field(primary_key=True, max_length=160)
    window_start: datetime = timestamp_field()
    count: int = Field(default=0)
    locked_until: datetime | None = timestamp_field(nullable=True)
