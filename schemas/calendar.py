"""The working-day calendar (`GET/PUT /calendar/{year}`)."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from domain.vocabulary import CalendarDayKind, CalendarSource
from schemas.common import NoControl, Timestamp

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoControl]


class CalendarDayIn(BaseModel):
    date: date
    kind: CalendarDayKind
    note: Note = ""


class CalendarYearIn(BaseModel):
    """A year's days off on weekdays (`holiday`) and weekend days worked (`workday`); it
    replaces whatever was held for that year."""

    days: list[CalendarDayIn] = Field(min_length=1, max_length=366)


class CalendarDayOut(BaseModel):
    date: date
    kind: CalendarDayKind
    note: str


class CalendarYearOut(BaseModel):
    year: int
    # `admin`: loaded by an administrator; `package`: from chinese-calendar; null: not known,
    # deadlines in this year are counted Monday to Friday and shown as provisional.
    source: CalendarSource | None
    provisional: bool
    loaded_at: Timestamp | None
    days: list[CalendarDayOut]
