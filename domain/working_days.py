"""Working days on the official Chinese calendar, adjusted weekends included (SPEC §1).

A year's arrangement comes, in this order, from a year an administrator loaded (the State
Council publishes it each November or December), from `chinese-calendar` for the years it knows,
else Monday to Friday: a deadline that counts a day of such a year is *provisional*.

Pure: the loaded years are given as a `WorkingCalendar` (the services build it from the
database and cache it); without one, only the package's years are known.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import chinese_calendar


@dataclass(frozen=True)
class YearArrangement:
    """One year's departures from Monday to Friday: days off on weekdays are `holidays`,
    weekend days worked are `workdays` (holidays falling on a weekend may be listed too)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


@dataclass(frozen=True)
class WorkingCalendar:
    """The loaded years (each replaces the package for that year)."""

    loaded: Mapping[int, YearArrangement] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, years: Iterable[YearArrangement]) -> "WorkingCalendar":
        return cls(MappingProxyType({year.year: year for year in years}))

    def is_known(self, year: int) -> bool:
        """Whether `year` has an official arrangement (loaded, or in the package)."""
        return year in self.loaded or package_knows(year)

    def is_working_day(self, day: date) -> bool:
        arrangement = self.loaded.get(day.year)
        if arrangement is not None:
            return arrangement.is_working_day(day)
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5


PACKAGE_ONLY = WorkingCalendar()


def package_knows(year: int) -> bool:
    """Whether `chinese-calendar` carries `year`'s arrangement."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date, calendar: WorkingCalendar = PACKAGE_ONLY) -> bool:
    return calendar.is_working_day(day)


def add_working_days(start: date, days: int, calendar: WorkingCalendar = PACKAGE_ONLY) -> date:
    """The `days`-th working day after `start` (the start day itself does not count)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, calendar: WorkingCalendar = PACKAGE_ONLY) -> int:
    """Working days after `start` up to and including `end` (0 when `end` <= `start`)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def is_provisional(start: date, end: date, calendar: WorkingCalendar = PACKAGE_ONLY) -> bool:
    """Whether a deadline counted from `start` to `end` relied on a year with no official
    arrangement (then counted Monday to Friday)."""
    first = min(start + timedelta(days=1), end)
    return any(not calendar.is_known(year) for year in range(first.year, end.year + 1))
