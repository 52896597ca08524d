"""The one place the service reads the time, so tests can fix it."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware (UTC)."""
    return _now()


def today() -> date:
    """Today's date in China, where every deadline is counted."""
    return china_date(now())


def china_date(moment: datetime) -> date:
    """The date in China at `moment` (a naive value, as SQLite returns them, is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).date()


def set_clock(func: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); `None` restores the real one."""
    global _now
    _now = func or (lambda: datetime.now(UTC))


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """The clock stands still at `moment` inside the block (seeding history, tests)."""
    previous = _now
    set_clock(lambda: moment)
    try:
        yield
    finally:
        set_clock(previous)
