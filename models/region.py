from sqlmodel import CheckConstraint, Field, SQLModel

from domain.vocabulary import RegionLevel
from models.base import one_of


class Region(SQLModel, table=True):
    """An administrative division: GB/T 2260 county-level code or nine-digit township code."""

    __table_args__ = (CheckConstraint(one_of("level", RegionLevel), name="level"),)

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=64)
    level: str = Field(max_length=16)
    parent_code: str | None = Field(
        default=None, foreign_key="region.code", max_length=12, index=True
    )
