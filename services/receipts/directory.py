"""The public directory of outlets in force: maintained on every status change, searched fast.

Text search uses an index built for substring search: SQLite's FTS5 trigram tokenizer and
PostgreSQL's pg_trgm (both created by the migration). A trigram index answers queries of three
or more characters; shorter ones (a two-character place name) fall back to a scan with LIKE.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, or_, text, union_all
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
    """Text matching `q` anywhere in the name or address, for the statements that also match
    numbers (and one-character queries): the FTS5 trigram index on SQLite when it can answer."""
    pattern = contains_pattern(q)
    if is_postgresql(session):
        return or_(
            col(PublicOutlet.name).ilike(pattern, escape=LIKE_ESCAPE),
            col(PublicOutlet.address).ilike(pattern, escape=LIKE_ESCAPE),
        )
    if len(q) >= TRIGRAM:
        matches = text(
            "SELECT rowid FROM public_outlet_fts WHERE public_outlet_fts MATCH :phrase"
        ).bindparams(phrase="{name address} : " + _fts_phrase(q))
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


BIGRAM = 2
# Follows every bigram in the SQLite index's `grams` column (see the migration), so the phrase
# "ab" + GRAM_END is one trigram token that only a bigram of the name or address produces.
GRAM_END = "\x01"


def _rows(session: Session, ids: list[int]) -> list[PublicOutlet]:
    if not ids:
        return []
    return list(
        session.exec(
            select(PublicOutlet)
            .where(col(PublicOutlet.filing_id).in_(ids))
            .order_by(col(PublicOutlet.filing_id))
        ).all()
    )


def _capped(total: int) -> tuple[int, bool]:
    return (COUNT_CAP, False) if total > COUNT_CAP else (total, True)


def _fts_token(key_id: int) -> str:
    """The index's token of a county, township or brand (the migration's `_sqlite_token`)."""
    return chr(0xF0000) + chr(0xF1000 + (key_id >> 12)) + chr(0xF1000 + (key_id & 4095))


def _fts_match(session: Session, q: str, filters: DirectoryFilters) -> str | None:
    """One FTS5 query for the text and every filter; None when a filter matches no outlet."""
    if len(q) >= TRIGRAM:
        parts = ["{name address} : " + _fts_phrase(q)]
    else:
        parts = ["grams : " + _fts_phrase(q + GRAM_END)]
    if not (filters.county or filters.township or filters.brand):
        return parts[0]
    # The numbers of the filter values, and of the brand codes a brand name means, in one query.
    result = session.execute(
        text(
            "SELECT value, id FROM public_outlet_fts_key WHERE value IN (:county, :township) "
            "OR value IN (SELECT 'b' || code FROM brand WHERE code = :brand OR name = :brand)"
        ),
        {
            "county": f"c{filters.county}" if filters.county else None,
            "township": f"t{filters.township}" if filters.township else None,
            "brand": filters.brand.strip() if filters.brand else None,
        },
    )
    found: dict[str, int] = {value: key_id for value, key_id in result}
    for key in (
        f"c{filters.county}" if filters.county else None,
        f"t{filters.township}" if filters.township else None,
    ):
        if key is not None:
            if key not in found:
                return None
            parts.append("keys : " + _fts_phrase(_fts_token(found[key])))
    if filters.brand:
        brands = [_fts_phrase(_fts_token(i)) for key, i in found.items() if key.startswith("b")]
        if not brands:
            return None
        parts.append("keys : (" + " OR ".join(brands) + ")")
    return " AND ".join(parts)


def _search_sqlite(
    session: Session, match: str, *, limit: int, offset: int
) -> tuple[list[PublicOutlet], int, bool]:
    """FTS5 gives matches in rowid (filing) order: a capped count and the page are two short
    walks of the index (cheaper than fetching COUNT_CAP rowids once)."""
    matches = "SELECT rowid FROM public_outlet_fts WHERE public_outlet_fts MATCH :match"
    found = session.execute(
        text(f"SELECT count(*) FROM ({matches} LIMIT :cap)"),
        {"match": match, "cap": COUNT_CAP + 1},
    ).scalar_one()
    page = text(f"{matches} ORDER BY rowid LIMIT :limit OFFSET :offset").bindparams(
        match=match, limit=limit, offset=offset
    )
    rows = session.exec(
        select(PublicOutlet)
        .where(col(PublicOutlet.filing_id).in_(page))
        .order_by(col(PublicOutlet.filing_id))
    ).all()
    total, exact = _capped(found)
    return list(rows), total, exact


# PostgreSQL: the expression of the GIN index (see the migration) and the keys a search needs:
# the bigrams of the lowered text, `c:`county, `t:`township, `b:`brand.
PG_KEYS = "public_outlet_search_keys(name, address, county_code, township_code, brands)"
PG_WANTED = f"{PG_KEYS} @> (public_outlet_bigrams(lower(:q)) || CAST(:keys AS text[]))"
# The most rows a dense match's page walks in filing order before sorting candidates instead.
PG_WALK_MAX = 10000


def _pg_conditions(
    q: str, filters: DirectoryFilters, codes: list[str] | None
) -> tuple[str, dict[str, Any]]:
    """The plain conditions of a search (SQL over public_outlet's columns) and their values."""
    conditions = ["(name ILIKE :pattern ESCAPE '\\' OR address ILIKE :pattern ESCAPE '\\')"]
    values: dict[str, Any] = {"pattern": contains_pattern(q), "q": q}
    keys: list[str] = []
    if filters.county:
        conditions.append("county_code = :county")
        values["county"] = filters.county
        keys.append(f"c:{filters.county}")
    if filters.township:
        conditions.append("township_code = :township")
        values["township"] = filters.township
        keys.append(f"t:{filters.township}")
    if codes is not None:
        conditions.append("string_to_array(brands, ',') && CAST(:codes AS text[])")
        values["codes"] = codes
        if len(codes) == 1:
            keys.append(f"b:{codes[0]}")
    values["keys"] = keys
    return " AND ".join(conditions), values


def _search_postgresql(
    session: Session,
    q: str,
    filters: DirectoryFilters,
    codes: list[str] | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[PublicOutlet], int, bool]:
    """The GIN index finds the matches (a bitmap, in no order): up to COUNT_CAP + 1 of them
    are the count and, when that is all of them, the page once sorted."""
    plain, values = _pg_conditions(q, filters, codes)
    indexed = f"{PG_WANTED} AND {plain}"
    wanted = offset + limit
    # The count and the first `wanted` of them in one row (not COUNT_CAP rows to the client).
    found, first = session.execute(
        text(
            f"WITH m AS (SELECT filing_id FROM public_outlet WHERE {indexed} LIMIT :cap) "
            "SELECT (SELECT count(*) FROM m), "
            "ARRAY(SELECT filing_id FROM m ORDER BY filing_id LIMIT :wanted)"
        ),
        {**values, "cap": COUNT_CAP + 1, "wanted": wanted},
    ).one()
    total, exact = _capped(found)
    if exact:
        page = first[offset:]
    else:
        page = _pg_first(session, plain, indexed, values, first, wanted)[offset:]
    return _rows(session, page), total, exact


def _pg_first(
    session: Session,
    plain: str,
    indexed: str,
    values: dict[str, Any],
    some: list[int],
    wanted: int,
) -> list[int]:
    """The first `wanted` matching filing ids, in order, of a match with more than COUNT_CAP
    (`some`: the first `wanted` of COUNT_CAP + 1 of them, sorted). Sorting every match would
    cost more than the page: the first `wanted` all lie at or below the last of `some`, so
    walking the primary key towards it and filtering finds them, stopping as soon as it has
    them. A walk longer than PG_WALK_MAX rows (sparse matches) gives way to sorting the index's
    candidates."""
    if wanted <= COUNT_CAP + 1:
        bound = {"bound": some[wanted - 1], "wanted": wanted, "walk": PG_WALK_MAX}
        found = list(
            session.execute(
                text(
                    "SELECT filing_id FROM (SELECT * FROM public_outlet WHERE filing_id <= :bound "
                    f"ORDER BY filing_id LIMIT :walk) AS w WHERE {plain} "
                    "ORDER BY filing_id LIMIT :wanted"
                ),
                {**values, **bound},
            ).scalars()
        )
        if len(found) == wanted:
            return found
        within = "AND filing_id <= :bound"
    else:  # a page beyond the count
        bound, within = {"wanted": wanted}, ""
    return list(
        session.execute(
            text(
                f"SELECT filing_id FROM public_outlet WHERE {indexed} {within} "
                "ORDER BY filing_id LIMIT :wanted"
            ),
            {**values, **bound},
        ).scalars()
    )


def search(
    session: Session, filters: DirectoryFilters, *, limit: int, offset: int
) -> tuple[list[PublicOutlet], int, bool]:
    """Outlets in force matching the filters, in filing order (oldest first), the total and
    whether it is exact. A text search counts at most COUNT_CAP matches: counting every one
    of 16,000 outlets that contain a common word would cost more than the page itself."""
    q = (filters.q or "").strip()
    by_number = bool(NUMBER_LIKE.match(q))
    if q and not by_number and len(q) >= BIGRAM:
        # Text of two characters or more, with its filters, answered by one index.
        if is_postgresql(session):
            codes = brand_codes(session, filters.brand) if filters.brand else None
            if codes == []:
                return [], 0, True
            return _search_postgresql(session, q, filters, codes, limit=limit, offset=offset)
        if GRAM_END not in q:
            match = _fts_match(session, q, filters)
            if match is None:
                return [], 0, True
            return _search_sqlite(session, match, limit=limit, offset=offset)
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
        total, exact = _capped(
            session.exec(select(func.count()).select_from(counted.subquery())).one()
        )
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
    if not rows:
        return Names(regions={}, brands={})
    region_codes = {row.county_code for row in rows} | {row.township_code for row in rows}
    brand_codes_ = {code for row in rows for code in row.brands.split(",") if code}
    # One statement for both (a page of search results pays for each round trip).
    found = session.execute(
        union_all(
            select(literal("region"), col(Region.code), col(Region.name)).where(
                col(Region.code).in_(region_codes)
            ),
            select(literal("brand"), col(Brand.code), col(Brand.name)).where(
                col(Brand.code).in_(brand_codes_)
            ),
        )
    ).all()
    names: dict[str, dict[str, str]] = {"region": {}, "brand": {}}
    for kind, code, name in found:
        names[kind][code] = name
    return Names(regions=names["region"], brands=names["brand"])


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
