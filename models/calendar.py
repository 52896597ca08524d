"""The working-day calendar as data (SPEC §1): the years known and their departures from
Monday to Friday."""

from datetime import date, datetime

from sqlmodel import CheckConstraint, Field, SQLModel

from domain.vocabulary import CalendarSource
from models.base import one_of, timestamp_field


class CalendarYear(SQLModel, table=True):
    """A year whose arrangement is held here; it replaces `chinese-calendar` for that year."""

    __tablename__ = "calendar_year"
    __table_args__ = (CheckConstraint(one_of("source", CalendarSource), name="source"),)

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = Field(max_length=16)
    loaded_at: datetime = timestamp_field()
    loaded_by_id: int | None = Field(default=None)


class CalendarDay(SQLModel, table=True):
    """A day off on a weekday or holiday (`is_working_day` false) or a weekend day worked."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    year: int = Field(foreign_key="calendar_year.year", index=True)
    is_working_day: bool
    note: str = Field(default="", max_length=100)
