"""Directory search through its indexes (SQLite FTS5 with filter tokens and bigrams, PostgreSQL's
GIN keys) answers exactly what a plain LIKE scan of the table answers, in filing order, on both
databases; every change of a directory row shows in the next search."""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, or_
from sqlmodel import Session, col, select

from domain.vocabulary import FilingStatus
from models.filing import Filing, FilingRevision, RevisionBrand
from models.receipt import PublicOutlet
from services.receipts import directory
from services.receipts.directory import DirectoryFilters
from tests.factories import make_enterprise

# (county, township) pairs of the loaded regions
PLACES = [
    ("451102", "451102101"),
    ("451102", "451102102"),
    ("451121", "451121100"),
    ("451123", "451123100"),
]
BRAND_SETS = [["SF"], ["ZTO"], ["SF", "ZTO"], ["EMS", "JT", "SF"], ["YUNDA"]]
NAME_PARTS = [
    "八步",
    "贺街",
    "快递超市",
    "Abc",
    "ABC驿站",
    "x1",
    "100%满意",
    "a_b",
    "路\\口",
    "中山",
]
STREETS = ["建设路", "八达路", "太白路", "平安大道", "中山路"]


def _outlets(session: Session, count: int, *, seed: int = 11) -> list[int]:
    """`count` filed outlets with varied names, places and brands (Core inserts, as the bench
    and the bulk loader write them: the indexes are the database's business)."""
    rng = random.Random(seed)
    enterprise = make_enterprise(session)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    filings: list[Filing] = []
    revisions: list[dict[str, Any]] = []
    brands: list[dict[str, Any]] = []
    outlets: list[dict[str, Any]] = []
    for n in range(count):
        county, township = PLACES[n % len(PLACES)]
        filing = Filing(
            enterprise_id=enterprise.id or 0,
            status=FilingStatus.FILED,
            filing_no=f"{county}-2026-{900000 + n:06d}",
            county_code=county,
            township_code=township,
        )
        session.add(filing)
        filings.append(filing)
    session.flush()
    for n, filing in enumerate(filings):
        fid = filing.id
        county, township = filing.county_code, filing.township_code
        codes = BRAND_SETS[(n * 7) % len(BRAND_SETS)]
        name = "".join(rng.sample(NAME_PARTS, 2)) + f"{n}号"
        address = f"{rng.choice(STREETS)}{rng.randint(1, 120)}号"
        outlet = {"name": name, "address": address, "brands": codes, "type": "self_operated"}
        outlet |= {"scope": ["collect"], "county_code": county, "township_code": township}
        revisions.append(
            {
                "filing_id": fid,
                "number": 1,
                "status": "filed",
                "outlet": outlet,
                "person_in_charge": {"name": "王五", "id_number": "x", "mobile": "13900000000"},
                "outlet_name": name,
                "address": address,
                "county_code": county,
                "township_code": township,
                "opened_on": date(2026, 1, 1),
                "receipt_no": f"{filing.filing_no}-R1",
                "created_at": now,
                "decided_at": now,
                "corrections": [],
            }
        )
    session.execute(insert(FilingRevision), revisions)
    by_filing: dict[int | None, int | None] = dict(
        session.execute(
            select(col(FilingRevision.filing_id), col(FilingRevision.id)).where(
                col(FilingRevision.filing_id).in_([f.id for f in filings])
            )
        ).all()
    )
    for filing, revision in zip(filings, revisions, strict=True):
        rev_id = by_filing[filing.id]
        filing.current_revision_id = rev_id
        session.add(filing)
        codes = revision["outlet"]["brands"]
        brands += [{"revision_id": rev_id, "brand_code": code} for code in codes]
        outlets.append(
            {
                "filing_id": filing.id,
                "revision_id": rev_id,
                "filing_no": filing.filing_no,
                "receipt_no": revision["receipt_no"],
                "name": revision["outlet_name"],
                "address": revision["address"],
                "outlet_type": "self_operated",
                "scope": "collect",
                "brands": ",".join(codes),
                "county_code": filing.county_code,
                "township_code": filing.township_code,
                "operator_name": "贺州测试快递有限公司",
                "operator_uscc": "91451100MA5KXXXX0X",
                "person_name_masked": "王*",
                "mobile_masked": "139****0000",
                "opened_on": date(2026, 1, 1),
                "issued_on": date(2026, 11, 30),
            }
        )
    session.execute(insert(RevisionBrand), brands)
    session.execute(insert(PublicOutlet), outlets)
    session.flush()
    return [f.id or 0 for f in filings]


def naive(session: Session, filters: DirectoryFilters) -> list[int]:
    """Every matching filing id, in order, by a plain scan: LIKE (ILIKE on PostgreSQL, lower()
    LIKE lower() on SQLite), column equality, the revision's brands."""
    query = select(col(PublicOutlet.filing_id)).order_by(col(PublicOutlet.filing_id))
    if filters.county:
        query = query.where(col(PublicOutlet.county_code) == filters.county)
    if filters.township:
        query = query.where(col(PublicOutlet.township_code) == filters.township)
    if filters.brand:
        query = query.where(
            directory.serving_brand(session, PublicOutlet.revision_id, filters.brand)
        )
    q = (filters.q or "").strip()
    if q:
        pattern = directory.contains_pattern(q)
        text = or_(
            col(PublicOutlet.name).ilike(pattern, escape=directory.LIKE_ESCAPE),
            col(PublicOutlet.address).ilike(pattern, escape=directory.LIKE_ESCAPE),
        )
        if directory.NUMBER_LIKE.match(q):
            prefix = directory.contains_pattern(q.upper())[1:]
            text = or_(
                text,
                col(PublicOutlet.filing_no).like(prefix, escape=directory.LIKE_ESCAPE),
                col(PublicOutlet.receipt_no).like(prefix, escape=directory.LIKE_ESCAPE),
            )
        query = query.where(text)
    return list(session.execute(query).scalars())


def assert_same(
    session: Session, filters: DirectoryFilters, *, limit: int = 20, offset: int = 0
) -> list[int]:
    everything = naive(session, filters)
    rows, total, exact = directory.search(session, filters, limit=limit, offset=offset)
    expected_page = everything[offset : offset + limit]
    text_search = bool((filters.q or "").strip())
    capped = text_search and len(everything) > directory.COUNT_CAP
    assert [row.filing_id for row in rows] == expected_page, filters
    assert (total, exact) == (
        (directory.COUNT_CAP, False) if capped else (len(everything), True)
    ), filters
    return [row.filing_id for row in rows]


@pytest.fixture
def outlets(session: Session) -> Iterator[list[int]]:
    yield _outlets(session, 240)


QUERIES = [
    "八步",  # two CJK characters: the bigram index
    "贺街",
    "中山",
    "步贺",  # across two name parts
    "ab",  # Latin, two characters, either case
    "AB",
    "x1",
    "12",  # digits
    "7号",
    "%",  # literal percent: one character, a scan
    "0%",  # two characters with a literal percent
    "%满",
    "a_",  # literal underscore
    "_b",
    "\\口",  # the escape character itself
    "路\\",
    "快递超市",  # three or more: the trigram index
    "abc驿",
    "ABC驿站",
    "平安大道1",
    "贺街快递",
    "满意",
    "无此网点",
    "1",  # one character: a scan
    "451102-2026-9000",  # a number's start
    "451121-2026-900002-r1",
]
FILTERS: list[dict[str, Any]] = [
    {},
    {"county": "451102"},
    {"county": "451121", "brand": "SF"},
    {"county": "451102", "township": "451102102", "brand": "ZTO"},
    {"brand": "顺丰"},  # a brand by its Chinese name
    {"township": "451123100"},
    {"county": "451102", "brand": "JD"},  # a brand no outlet serves
    {"county": "999999"},  # a county with no outlet
    {"county": "451102", "township": "451121100"},  # a township outside the county
    {"brand": "NOPE"},
]


@pytest.mark.parametrize("extra", FILTERS, ids=lambda f: ",".join(f.values()) or "text-only")
def test_search_equals_a_naive_like_scan(
    session: Session, outlets: list[int], extra: dict[str, Any]
) -> None:
    for q in QUERIES:
        assert_same(session, DirectoryFilters(q=q, **extra))
    assert_same(session, DirectoryFilters(**extra))
    assert_same(session, DirectoryFilters(q="号", **extra), limit=7, offset=5)


def test_capped_counts_and_pages_deep_in_a_dense_match(
    session: Session, outlets: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the cap the count says "more"; the pages still come in filing order (PostgreSQL
    walks the primary key, or sorts the index's candidates when the walk would be long)."""
    monkeypatch.setattr(directory, "COUNT_CAP", 15)
    for walk in (10000, 3):
        monkeypatch.setattr(directory, "PG_WALK_MAX", walk)
        for q, extra in [("号", {}), ("八步", {}), ("路", {"county": "451102"}), ("中山", {})]:
            for offset in (0, 7, 14, 30, 500):
                assert_same(session, DirectoryFilters(q=q, **extra), limit=4, offset=offset)
        assert_same(session, DirectoryFilters(q="大道", brand="SF"), limit=10, offset=0)


def test_two_character_queries_find_cjk_latin_and_digits(
    session: Session, outlets: list[int]
) -> None:
    def names(q: str, **extra: Any) -> list[str]:
        rows, _, _ = directory.search(session, DirectoryFilters(q=q, **extra), limit=500, offset=0)
        return [row.name for row in rows]

    babu = names("八步")
    assert babu and all("八步" in name for name in babu)
    assert names("Ab") == names("aB") == names("ab")
    assert all("ab" in name.lower() for name in names("ab"))
    assert all("x1" in name for name in names("X1"))
    assert all("12" in row.name + row.address for row in _rows(session, "12"))
    percent = names("0%")
    assert percent and all("0%" in name for name in percent)
    assert names("0_") == []  # `_` is literal, not any character
    in_county = names("八步", county="451121", brand="SF")
    assert in_county and set(in_county) < set(babu)


def _rows(session: Session, q: str) -> list[PublicOutlet]:
    rows, _, _ = directory.search(session, DirectoryFilters(q=q), limit=500, offset=0)
    return rows


def test_a_change_of_brand_county_or_closure_shows_in_the_next_search(
    session: Session, outlets: list[int]
) -> None:
    filing = session.get(Filing, outlets[0])
    assert filing is not None and filing.current_revision_id is not None
    rev = session.get(FilingRevision, filing.current_revision_id)
    assert rev is not None
    marker = "变更测试专用网点"
    rev.outlet_name = marker
    rev.outlet = {**rev.outlet, "name": marker, "brands": ["JD"]}
    session.add(rev)
    session.flush()
    directory.refresh(session, filing)

    def found(**filters: Any) -> list[int]:
        rows, _, _ = directory.search(session, DirectoryFilters(**filters), limit=20, offset=0)
        return [row.filing_id for row in rows]

    assert found(q="变更测试", brand="JD") == [filing.id]
    assert found(q="专用", brand="京东") == [filing.id]  # two characters, brand by name
    assert found(q="变更测试", brand="JD", county="451121") == []

    # another county and township, the brand back to SF
    rev.outlet = {**rev.outlet, "brands": ["SF"], "county_code": "451121"}
    rev.county_code, rev.township_code = "451121", "451121100"
    session.add(rev)
    session.flush()
    directory.refresh(session, filing)
    assert found(q="变更测试", brand="JD") == []
    assert found(q="变更测试", county="451102") == []
    assert found(q="专用", county="451121", township="451121100", brand="SF") == [filing.id]

    # closed: gone from every search
    filing.status = FilingStatus.CLOSED
    session.add(filing)
    session.flush()
    directory.refresh(session, filing)
    assert found(q="变更测试") == []
    assert found(q="专用") == []
    assert found(q="专用", county="451121", brand="SF") == []
    assert_same(session, DirectoryFilters(q="八步", county="451102"))


def test_plain_inserts_updates_and_deletes_keep_the_index_right(
    session: Session, outlets: list[int]
) -> None:
    """What a bulk loader or a hand-written UPDATE does, without the service."""
    first, second = outlets[0], outlets[1]
    session.execute(
        PublicOutlet.__table__.update()  # type: ignore[attr-defined]
        .where(PublicOutlet.__table__.c.filing_id == first)  # type: ignore[attr-defined]
        .values(name="手工更新站Zq", brands="EMS,YUNDA", county_code="451123")
    )
    # the revision's brands as well: the directory row's copy is what the search reads
    revision_id = session.get(PublicOutlet, first).revision_id  # type: ignore[union-attr]
    session.execute(
        RevisionBrand.__table__.delete().where(  # type: ignore[attr-defined]
            RevisionBrand.__table__.c.revision_id == revision_id  # type: ignore[attr-defined]
        )
    )
    session.execute(
        insert(RevisionBrand),
        [{"revision_id": revision_id, "brand_code": code} for code in ("EMS", "YUNDA")],
    )
    session.execute(
        PublicOutlet.__table__.delete().where(  # type: ignore[attr-defined]
            PublicOutlet.__table__.c.filing_id == second  # type: ignore[attr-defined]
        )
    )
    session.flush()
    for filters in (
        DirectoryFilters(q="zQ"),
        DirectoryFilters(q="手工更新", brand="YUNDA", county="451123"),
        DirectoryFilters(q="工更", brand="EMS"),
        DirectoryFilters(q="手工更新", brand="SF"),
        DirectoryFilters(q="八步", county="451102"),
    ):
        assert_same(session, filters)
    assert [row.filing_id for row in _rows(session, "Zq")] == [first]
