"""The working-day calendar as data (SPEC §1): years an administrator loads (a CSV file
`date,kind,note`, or the same rows as JSON), read back per year, and the `WorkingCalendar`
every deadline is counted on.

The calendar is cached per process; the cache is checked against a cheap stamp of the
`calendar_year` table on each use, so a year loaded by another worker or instance is seen at
once, and it is dropped when this process loads a year.
"""

import csv
import io
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from core import clock
from domain import working_days
from domain.errors import FieldError, ValidationFailed
from domain.vocabulary import CalendarDayKind, CalendarSource
from domain.working_days import WorkingCalendar, YearArrangement
from models.base import aware
from models.calendar import CalendarDay, CalendarYear
from models.user import User

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_NOTE = 100
MAX_ROWS = 366
CSV_HEADER = ("date", "kind", "note")


@dataclass(frozen=True)
class DayEntry:
    day: date
    kind: CalendarDayKind
    note: str = ""


# --- reading and validating a year's file ----------------------------------------------------


def _line_error(line: int, message: str, *, json: bool = False) -> FieldError:
    if json:  # `line` is the 0-based index into `days`
        return FieldError(f"days.{line}", "validation_error", f"第 {line + 1} 项：{message}")
    return FieldError(f"line {line}", "validation_error", f"第 {line} 行：{message}")


def parse_csv(text: str) -> list[DayEntry]:
    """The rows of a `date,kind,note` file (that header line first); every problem at once."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = tuple(cell.strip().lower() for cell in rows[0]) if rows else ()
    if header not in (CSV_HEADER, CSV_HEADER[:2]):
        raise ValidationFailed.single(
            "file", "validation_error", "第 1 行应为表头 date,kind,note（日期、类别、说明）"
        )
    raw = [dict(zip(CSV_HEADER, row, strict=False)) for row in rows[1:]]
    blank = [not any(cell.strip() for cell in row) for row in rows[1:]]
    return validate_rows(raw, first_line=2, skip_blank=blank)


def validate_rows(
    rows: Sequence[Mapping[str, object]],
    *,
    first_line: int = 0,
    skip_blank: Sequence[bool] | None = None,
    json: bool = False,
) -> list[DayEntry]:
    """Checks each row (`date` ISO, `kind` holiday|workday, `note` optional): a weekday cannot
    be a worked weekend day, a day appears once, and all days are of one year."""
    errors: list[FieldError] = []
    entries: list[DayEntry] = []
    seen: set[date] = set()
    allowed = CalendarDayKind.values()
    for index, row in enumerate(rows):
        line = first_line + index
        if skip_blank is not None and skip_blank[index]:
            continue
        raw_day, raw_kind, raw_note = row.get("date"), row.get("kind"), row.get("note") or ""
        try:
            day = date.fromisoformat(str(raw_day).strip())
        except ValueError:
            errors.append(_line_error(line, f"日期“{raw_day}”无效，应为 YYYY-MM-DD", json=json))
            continue
        kind_text = str(raw_kind).strip().lower()
        if kind_text not in allowed:
            errors.append(
                _line_error(
                    line,
                    f"类别“{raw_kind}”无效，应为 holiday（放假）或 workday（调休上班）",
                    json=json,
                )
            )
            continue
        kind = CalendarDayKind(kind_text)
        note = str(raw_note).strip()
        if len(note) > MAX_NOTE or any(ord(c) < 32 for c in note):
            errors.append(
                _line_error(line, f"说明不能超过 {MAX_NOTE} 个字符，也不能含控制字符", json=json)
            )
            continue
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            errors.append(_line_error(line, f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间", json=json))
            continue
        if day in seen:
            errors.append(_line_error(line, f"日期 {day.isoformat()} 重复", json=json))
            continue
        if kind == CalendarDayKind.WORKDAY and day.weekday() < 5:
            errors.append(
                _line_error(
                    line, f"{day.isoformat()} 是周一至周五，调休上班日应为周六或周日", json=json
                )
            )
            continue
        seen.add(day)
        entries.append(DayEntry(day, kind, note))
    if errors:
        raise ValidationFailed(errors)
    if not entries:
        raise ValidationFailed.single("file", "validation_error", "没有任何日期：至少应列出放假日")
    if len(entries) > MAX_ROWS:
        raise ValidationFailed.single("file", "validation_error", f"最多 {MAX_ROWS} 行")
    years = sorted({entry.day.year for entry in entries})
    if len(years) > 1:
        raise ValidationFailed.single(
            "file",
            "validation_error",
            f"一个文件只能是一年的安排，文件中有 {'、'.join(map(str, years))} 年",
        )
    return sorted(entries, key=lambda entry: entry.day)


# --- the cached calendar ---------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[tuple[int, datetime | None], WorkingCalendar] | None = None


def _stamp(session: Session) -> tuple[int, datetime | None]:
    count, latest = session.exec(select(func.count(), func.max(col(CalendarYear.loaded_at)))).one()
    return int(count), aware(latest)


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None


def current(session: Session) -> WorkingCalendar:
    """The calendar deadlines are counted on: loaded years, then the package's, then Mon–Fri."""
    global _cached
    stamp = _stamp(session)
    with _lock:
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for year in session.exec(select(CalendarYear.year)).all():
        holidays[year], workdays[year] = set(), set()
    for row in session.exec(select(CalendarDay)).all():
        target = workdays if row.is_working_day else holidays
        target.setdefault(row.year, set()).add(row.day)
    calendar = WorkingCalendar.of(
        YearArrangement(year, frozenset(holidays.get(year, ())), frozenset(workdays.get(year, ())))
        for year in holidays
    )
    with _lock:
        _cached = (stamp, calendar)
    return calendar


# --- loading and reading a year --------------------------------------------------------------


@dataclass(frozen=True)
class YearView:
    year: int
    source: CalendarSource | None  # None: not known, counted Monday to Friday (provisional)
    loaded_at: datetime | None
    days: list[DayEntry]


def replace_year(
    session: Session, year: int, entries: Iterable[DayEntry], *, actor: User | None = None
) -> CalendarYear:
    """Replaces `year`'s arrangement by `entries` (validated rows of that year). Callers load a
    year with `services.filings.calendar_years.load_year`, which also counts the open deadlines
    again and writes the audit entry."""
    entries = list(entries)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed.single(
            "year", "validation_error", f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间"
        )
    stray = [entry.day.isoformat() for entry in entries if entry.day.year != year]
    if stray:
        raise ValidationFailed.single(
            "days", "validation_error", f"日期不属于 {year} 年：{'、'.join(stray[:5])}"
        )
    session.execute(
        delete(CalendarDay).where(col(CalendarDay.year) == year),
        execution_options={"synchronize_session": False},
    )
    record = session.get(CalendarYear, year, populate_existing=True)
    if record is None:
        record = CalendarYear(year=year, source=CalendarSource.ADMIN)
    record.source = CalendarSource.ADMIN
    record.loaded_at = clock.now()
    record.loaded_by_id = actor.id if actor else None
    session.add(record)
    session.flush()
    for entry in entries:
        session.add(
            CalendarDay(
                day=entry.day,
                year=year,
                is_working_day=entry.kind == CalendarDayKind.WORKDAY,
                note=entry.note,
            )
        )
    session.flush()
    invalidate()
    return record


def known_years(session: Session) -> list[int]:
    """The years worth showing an administrator (the calendar page): every loaded year, and
    last, this and next year whatever their source, newest first."""
    this_year = clock.today().year
    loaded = set(session.exec(select(CalendarYear.year)).all())
    return sorted(loaded | {this_year - 1, this_year, this_year + 1}, reverse=True)


def year_view(session: Session, year: int) -> YearView:
    """A year as deadlines see it: loaded days, else the package's departures, else none."""
    record = session.get(CalendarYear, year)
    if record is not None:
        rows = session.exec(
            select(CalendarDay).where(CalendarDay.year == year).order_by(col(CalendarDay.day))
        ).all()
        return YearView(
            year,
            CalendarSource(record.source),
            aware(record.loaded_at),
            [
                DayEntry(
                    row.day,
                    CalendarDayKind.WORKDAY if row.is_working_day else CalendarDayKind.HOLIDAY,
                    row.note,
                )
                for row in rows
            ],
        )
    if working_days.package_knows(year):
        return YearView(year, CalendarSource.PACKAGE, None, _package_days(year))
    return YearView(year, None, None, [])


def _package_days(year: int) -> list[DayEntry]:
    import chinese_calendar

    days = [
        DayEntry(day, CalendarDayKind.HOLIDAY, str(name or ""))
        for day, name in chinese_calendar.holidays.items()
        if day.year == year
    ]
    days += [
        DayEntry(day, CalendarDayKind.WORKDAY, str(name or ""))
        for day, name in chinese_calendar.workdays.items()
        if day.year == year and day.weekday() >= 5
    ]
    return sorted(days, key=lambda entry: entry.day)


def is_provisional(session: Session, start: date | None, end: date | None) -> bool:
    """Whether a deadline from `start` to `end` was counted Monday to Friday for want of a year's
    arrangement."""
    if start is None or end is None:
        return False
    return working_days.is_provisional(start, end, current(session))
