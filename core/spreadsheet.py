"""CSV for people: UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly.

A cell that a spreadsheet would read as a formula (`=HYPERLINK(…)` as an outlet's name) is
written with a leading apostrophe (OWASP's rule for CSV injection), in every CSV we write.
Times are written as people read them: Beijing time `YYYY-MM-DD HH:MM`; dates `YYYY-MM-DD`.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from core.clock import CHINA_TZ

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _readable(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # stored UTC
        return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def safe_cell(value: Any) -> Any:
    value = _readable(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(title) for title in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()
