"""The working-day calendar (SPEC §1): read a year; an administrator loads a new one."""

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import Admin, AnyUser, SessionDep
from schemas.calendar import CalendarDayOut, CalendarYearIn, CalendarYearOut
from services.filings import calendar_years
from services.reference import calendar as working_calendar
from services.reference import regions

router = APIRouter(prefix="/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=working_calendar.MIN_YEAR, le=working_calendar.MAX_YEAR)]


def _out(view: working_calendar.YearView) -> CalendarYearOut:
    return CalendarYearOut(
        year=view.year,
        source=view.source,
        provisional=view.source is None,
        loaded_at=view.loaded_at,
        days=[CalendarDayOut(date=d.day, kind=d.kind, note=d.note) for d in view.days],
    )


@router.get("/{year}", response_model=CalendarYearOut)
def get_year(session: SessionDep, _user: AnyUser, year: Year) -> CalendarYearOut:
    """A year's days off on weekdays and weekend days worked, and where they come from
    (`admin`, `package`, or null: not known yet, deadlines counted Monday to Friday)."""
    return _out(working_calendar.year_view(session, year))


@router.put("/{year}", response_model=CalendarYearOut)
def put_year(
    session: SessionDep, admin: Admin, year: Year, body: CalendarYearIn
) -> CalendarYearOut:
    """Loads a year's arrangement as the State Council published it (city-level admins only):
    JSON `{"days": [{"date": "2027-02-08", "kind": "holiday", "note": "春节"}, ...]}`, the same
    rows as `outlet-filing calendar load FILE`. It replaces that year's days; open review
    deadlines are counted again on it."""
    regions.require_city_level(admin.jurisdiction, "工作日历全市通用，只有市级以上管理人员可以导入")
    entries = working_calendar.validate_rows(
        [day.model_dump(mode="json") for day in body.days], json=True
    )
    calendar_years.load_year(session, year, entries, actor=admin)
    return _out(working_calendar.year_view(session, year))
