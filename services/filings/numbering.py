"""Filing numbers `{county}-{year}-{serial:06d}`: per county and year, gapless, never repeated.

The counter row is incremented with one INSERT … ON CONFLICT DO UPDATE … RETURNING: the row stays
locked until the accepting transaction ends, so concurrent acceptances in one county queue, and a
rolled-back acceptance gives its serial back with everything else (no gap).
"""

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.db import is_postgresql
from models.base import table_of
from models.filing import FilingCounter


def allocate_serial(session: Session, *, county_code: str, year: int) -> int:
    dialect_insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    table = table_of(FilingCounter)
    statement = (
        dialect_insert(table)
        .values(county_code=county_code, year=year, last_serial=1)
        .on_conflict_do_update(
            index_elements=["county_code", "year"],
            set_={"last_serial": table.c.last_serial + 1},
        )
        .returning(table.c.last_serial)
    )
    return int(session.execute(statement).scalar_one())


def filing_number(county_code: str, year: int, serial: int) -> str:
    return f"{county_code}-{year}-{serial:06d}"


def receipt_number(filing_no: str, revision: int) -> str:
    return f"{filing_no}-R{revision}"
