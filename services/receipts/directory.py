"""The public directory of outlets in force: maintained on every status change, searched fast.

Text search uses an index built for substring search: SQLite's FTS5 trigram tokenizer and
PostgreSQL's pg_trgm (both created by the migration). A trigram index answers queries of three
or more characters; shorter ones (a two-character place name) fall back to a scan with LIKE.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, text
from sqlmodel import Session, col, select

from core import spreadsheet
from core.clock import china_date
from core.db import is_postgresql
from domain.identifiers import mask_mobile, mask_name
from domain.vocabulary import FilingStatus
from models.base import pk
from models.brand import Brand
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision, RevisionBrand
from models.receipt import PublicOutlet, Receipt
from models.region import Region

TRIGRAM = 3
COUNT_CAP = 1000  # beyond this a search reports "more than 1000" instead of counting them all


def get_by_filing_no(session: Session, filing_no: str) -> PublicOutlet | None:
    """The directory's row of the outlet in force with this filing number (None when the
    number is unknown or the outlet is no longer in force)."""
    if len(filing_no) > 32:
        return None
    filing_id = session.exec(select(Filing.id).where(Filing.filing_no == filing_no)).first()
    return session.get(PublicOutlet, filing_id) if filing_id is not None else None


def refresh(session: Session, filing: Filing) -> None:
    """Makes the filing's directory row match its state: present (masked) while filed, else gone."""
    row = session.get(PublicOutlet, filing.id)
    if filing.status != FilingStatus.FILED or filing.current_revision_id is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    rev = session.get(FilingRevision, filing.current_revision_id)
    enterprise = session.get(Enterprise, filing.enterprise_id)
    assert rev is not None and enterprise is not None
    receipt_issued_on = session.exec(
        select(col(Receipt.issued_on)).where(col(Receipt.revision_id) == rev.id)
    ).first()
    values: dict[str, Any] = {
        "revision_id": rev.id,
        "filing_no": filing.filing_no,
        "receipt_no": rev.receipt_no,
        "name": rev.outlet_name,
        "address": rev.address,
        "outlet_type": rev.outlet["type"],
        "scope": ",".join(rev.outlet["scope"]),
        "brands": ",".join(rev.outlet["brands"]),
        "county_code": rev.county_code,
        "township_code": rev.township_code,
        "operator_name": enterprise.name,
        "operator_uscc": enterprise.uscc,
        "person_name_masked": mask_name(rev.person_in_charge["name"]),
        "mobile_masked": mask_mobile(rev.person_in_charge["mobile"]),
        "opened_on": rev.opened_on,
        "issued_on": _issued_on(receipt_issued_on, rev),
    }
    if row is None:
        session.add(PublicOutlet(filing_id=pk(filing), **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
    session.flush()


def _issued_on(receipt_issued_on: date | None, rev: FilingRevision) -> date:
    """The receipt's issue date (a China date), so the directory and the receipt agree; without
    a receipt, the China date of the decision."""
    if receipt_issued_on is not None:
        return receipt_issued_on
    if rev.decided_at is not None:
        return china_date(rev.decided_at)
    return rev.opened_on


@dataclass
class DirectoryFilters:
    county: str | None = None
    township: str | None = None
    brand: str | None = None
    q: str | None = None


def brand_codes(session: Session, brand: str) -> list[str]:
    """The brand codes a `brand` filter means: a code or a Chinese name (`SF` or `顺丰`), in one
    small query; an unknown brand means none, so the filter matches nothing."""
    value = brand.strip()
    found = session.exec(
        select(Brand.code).where(or_(col(Brand.code) == value, col(Brand.name) == value))
    ).all()
    return list(found)


def serving_brand(session: Session, revision_id: Any, brand: str) -> ColumnElement[bool]:
    """The condition that the revision `revision_id` (a column of the outer query) serves
    `brand` (a code or a Chinese name)."""
    return exists().where(
        col(RevisionBrand.revision_id) == revision_id,
        col(RevisionBrand.brand_code).in_(brand_codes(session, brand)),
    )


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, literally: its `%`, `_` and escape character
    escaped (use with `escape=LIKE_ESCAPE`), so `q=%` finds a literal percent sign only."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _text_condition(session: Session, q: str) -> ColumnElement[bool]:
    pattern = contains_pattern(q)
    if len(q) >= TRIGRAM and is_postgresql(session):
        # ILIKE, answered by the GIN trigram indexes on name and address.
        return or_(
            col(PublicOutlet.name).ilike(pattern, escape=LIKE_ESCAPE),
            col(PublicOutlet.address).ilike(pattern, escape=LIKE_ESCAPE),
        )
    if len(q) >= TRIGRAM:
        matches = text(
            "SELECT rowid FROM public_outlet_fts WHERE public_outlet_fts MATCH :phrase"
        ).bindparams(phrase=_fts_phrase(q))
        return col(PublicOutlet.filing_id).in_(matches)
    return or_(
        col(PublicOutlet.name).like(pattern, escape=LIKE_ESCAPE),
        col(PublicOutlet.address).like(pattern, escape=LIKE_ESCAPE),
    )


# A filing or receipt number, or its start (`451102-2026-000001`, `451102-2026-000001-R2`).
NUMBER_LIKE = re.compile(r"^\d{6}-[0-9R-]*$", re.IGNORECASE)


def _number_condition(q: str) -> ColumnElement[bool]:
    """Filing and receipt numbers, matched from their start (case-insensitive `r2`)."""
    pattern = contains_pattern(q.upper())[1:]  # no leading %: a prefix
    return or_(
        col(PublicOutlet.filing_no).like(pattern, escape=LIKE_ESCAPE),
        col(PublicOutlet.receipt_no).like(pattern, escape=LIKE_ESCAPE),
    )


def _search_text_only_sqlite(
    session: Session, q: str, *, limit: int, offset: int
) -> tuple[list[PublicOutlet], int]:
    """Text alone on SQLite: FTS5 gives both the count and the page in rowid order, so a common
    word matching thousands of outlets does not join every match back to the table."""
    phrase = _fts_phrase(q)
    total = session.execute(
        text("SELECT count(*) FROM public_outlet_fts WHERE public_outlet_fts MATCH :phrase"),
        {"phrase": phrase},
    ).scalar_one()
    ids = (
        session.execute(
            text(
                "SELECT rowid FROM public_outlet_fts WHERE public_outlet_fts MATCH :phrase "
                "ORDER BY rowid LIMIT :limit OFFSET :offset"
            ),
            {"phrase": phrase, "limit": limit, "offset": offset},
        )
        .scalars()
        .all()
    )
    rows = session.exec(
        select(PublicOutlet)
        .where(col(PublicOutlet.filing_id).in_(ids))
        .order_by(col(PublicOutlet.filing_id))
    ).all()
    return list(rows), total


def search(
    session: Session, filters: DirectoryFilters, *, limit: int, offset: int
) -> tuple[list[PublicOutlet], int, bool]:
    """Outlets in force matching the filters, in filing order (oldest first), the total and
    whether it is exact. A text search counts at most COUNT_CAP matches: counting every one
    of 16,000 outlets that contain a common word would cost more than the page itself."""
    q = (filters.q or "").strip()
    only_text = not (filters.county or filters.township or filters.brand)
    by_number = bool(NUMBER_LIKE.match(q))
    if q and only_text and not by_number and len(q) >= TRIGRAM and not is_postgresql(session):
        rows, total = _search_text_only_sqlite(session, q, limit=limit, offset=offset)
        return rows, total, True
    query = select(PublicOutlet)
    if filters.county:
        query = query.where(PublicOutlet.county_code == filters.county)
    if filters.township:
        query = query.where(PublicOutlet.township_code == filters.township)
    if filters.brand:
        query = query.where(serving_brand(session, PublicOutlet.revision_id, filters.brand))
    exact = True
    if q:
        condition = _text_condition(session, q)
        if by_number:
            condition = or_(condition, _number_condition(q))
        query = query.where(condition)
        counted = query.with_only_columns(col(PublicOutlet.filing_id)).limit(COUNT_CAP + 1)
        total = session.exec(select(func.count()).select_from(counted.subquery())).one()
        if total > COUNT_CAP:
            total, exact = COUNT_CAP, False
    else:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = session.exec(
        query.order_by(col(PublicOutlet.filing_id)).limit(limit).offset(offset)
    ).all()
    return list(page), total, exact


@dataclass
class Names:
    """Region and brand names for a page of directory rows (two small queries)."""

    regions: dict[str, str]
    brands: dict[str, str]

    def region(self, code: str) -> str:
        return self.regions.get(code, "")

    def brand(self, code: str) -> str:
        return self.brands.get(code, code)


def names_for(session: Session, rows: list[PublicOutlet]) -> Names:
    region_codes = {row.county_code for row in rows} | {row.township_code for row in rows}
    brand_codes_ = {code for row in rows for code in row.brands.split(",") if code}
    regions = (
        dict(
            session.exec(
                select(Region.code, Region.name).where(col(Region.code).in_(region_codes))
            ).all()
        )
        if region_codes
        else {}
    )
    brands = (
        dict(
            session.exec(
                select(Brand.code, Brand.name).where(col(Brand.code).in_(brand_codes_))
            ).all()
        )
        if brand_codes_
        else {}
    )
    return Names(regions=regions, brands=brands)


def as_public(row: PublicOutlet, names: Names) -> dict[str, Any]:
    return {
        "filing_no": row.filing_no,
        "receipt_no": row.receipt_no,
        "name": row.name,
        "type": row.outlet_type,
        "scope": row.scope.split(","),
        "brands": [
            {"code": code, "name": names.brand(code)} for code in row.brands.split(",") if code
        ],
        "county_code": row.county_code,
        "county_name": names.region(row.county_code),
        "township_code": row.township_code,
        "township_name": names.region(row.township_code),
        "address": row.address,
        "operator": {"name": row.operator_name, "uscc": row.operator_uscc},
        "person_in_charge": {"name": row.person_name_masked, "mobile": row.mobile_masked},
        "opened_on": row.opened_on.isoformat(),
        "issued_on": row.issued_on.isoformat(),
    }


def public_items(session: Session, rows: list[PublicOutlet]) -> list[dict[str, Any]]:
    """Directory items with county, township and brand names."""
    names = names_for(session, rows)
    return [as_public(row, names) for row in rows]


CSV_COLUMNS = [
    ("备案编号", "filing_no"),
    ("回执编号", "receipt_no"),
    ("网点名称", "name"),
    ("区县代码", "county_code"),
    ("乡镇（街道）代码", "township_code"),
    ("地址", "address"),
    ("服务品牌", "brands"),
    ("开办者", "operator_name"),
    ("统一社会信用代码", "operator_uscc"),
    ("负责人", "person_name_masked"),
    ("联系电话", "mobile_masked"),
    ("开办日期", "opened_on"),
    ("备案日期", "issued_on"),
    # names, after the original columns so readers that count columns keep working
    ("区县", "county_name"),
    ("乡镇（街道）", "township_name"),
    ("服务品牌名称", "brand_names"),
]


def _csv_cell(row: PublicOutlet, field: str, names: Names) -> Any:
    if field == "county_name":
        return names.region(row.county_code)
    if field == "township_name":
        return names.region(row.township_code)
    if field == "brand_names":
        return "、".join(names.brand(code) for code in row.brands.split(",") if code)
    return getattr(row, field)


def to_csv(rows: list[PublicOutlet], names: Names) -> str:
    return spreadsheet.to_csv(
        [title for title, _ in CSV_COLUMNS],
        ([_csv_cell(row, field, names) for _, field in CSV_COLUMNS] for row in rows),
    )
