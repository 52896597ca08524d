"""Bulk synthetic data for benchmarks: N filed outlets with receipts and directory rows, written
with batched Core inserts (the service path would take minutes per 100k and measure nothing new)."""

import json
import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text
from sqlmodel import col, select

from core.db import session_scope
from domain.vocabulary import RegionLevel
from models import (
    Enterprise,
    Filing,
    FilingRevision,
    PublicOutlet,
    Receipt,
    Region,
    ReviewDecision,
    RevisionBrand,
)
from services.receipts import signing

BRANDS = ["EMS", "SF", "ZTO", "YTO", "STO", "YUNDA", "JT", "JD"]
STREETS = [
    "新兴路",
    "建设路",
    "太白路",
    "民主街",
    "河东街",
    "中山路",
    "光明路",
    "江北路",
    "平安大道",
    "鞍山路",
    "城东路",
    "西环路",
    "灵峰北路",
    "八达路",
    "贺州大道",
    "站前路",
]
SHOPS = ["快递服务站", "驿站", "便民服务点", "快递超市", "综合服务站", "收发点"]


def populate(count: int, *, seed: int = 7) -> list[str]:
    """Creates `count` filed outlets; returns their receipt numbers."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with session_scope() as session:
        townships = session.exec(
            select(Region).where(
                col(Region.level).in_([RegionLevel.TOWNSHIP, RegionLevel.SUBDISTRICT])
            )
        ).all()
        enterprises = []
        for n, brand in enumerate(BRANDS):
            enterprise = Enterprise(
                name=f"基准{brand}快递有限公司",
                uscc=f"91451100BENCH{n:04d}X",
                licence_no=f"桂邮{n}",
                region_code="451102",
                contact_name="x",
                contact_mobile="13800000000",
                status="approved",
            )
            session.add(enterprise)
            session.flush()
            enterprises.append((enterprise, brand))
        token, kid = signing.sign({"receipt_no": "sample", "padding": "x" * 400})
        next_filing = (
            session.execute(text("SELECT COALESCE(MAX(id), 0) FROM filing")).scalar_one() + 1
        )
        receipt_nos: list[str] = []
        batch = 5000
        for start in range(0, count, batch):
            filings, revisions, receipts, outlets, brands, decisions = [], [], [], [], [], []
            for i in range(start, min(start + batch, count)):
                fid = next_filing + i
                township = townships[i % len(townships)]
                enterprise, brand = enterprises[i % len(enterprises)]
                county = township.parent_code
                filing_no = f"{county}-2026-{i + 1:06d}"
                receipt_no = f"{filing_no}-R1"
                name = f"{township.name}{rng.choice(STREETS)}{brand}{rng.choice(SHOPS)}{i}"
                address = f"{township.name}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
                opened = date(2025, 1, 1) + timedelta(days=i % 600)
                outlet = {
                    "name": name,
                    "type": "self_operated",
                    "scope": ["collect", "deliver"],
                    "brands": [brand],
                    "county_code": county,
                    "township_code": township.code,
                    "address": address,
                    "opened_on": opened.isoformat(),
                    "has_cctv": True,
                }
                filings.append(
                    dict(
                        id=fid,
                        enterprise_id=enterprise.id,
                        status="filed",
                        filing_no=filing_no,
                        county_code=county,
                        township_code=township.code,
                        current_revision_id=fid,
                        risk_override=None,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
                revisions.append(
                    dict(
                        id=fid,
                        filing_id=fid,
                        number=1,
                        status="filed",
                        outlet=outlet,
                        person_in_charge={
                            "name": "王五",
                            "id_number": "x",
                            "mobile": "13900000000",
                        },
                        outlet_name=name,
                        address=address,
                        county_code=county,
                        township_code=township.code,
                        opened_on=opened,
                        late=False,
                        corrections=[],
                        return_count=0,
                        receipt_no=receipt_no,
                        created_at=now,
                        decided_at=now,
                    )
                )
                brands.append(dict(revision_id=fid, brand_code=brand))
                payload = {
                    "receipt_no": receipt_no,
                    "filing_no": filing_no,
                    "revision": 1,
                    "issued_on": "2026-11-01",
                    "authority": "贺州市邮政管理局",
                    "outlet": {k: outlet[k] for k in ("name", "type", "scope", "address")}
                    | {"county_code": county, "township_code": township.code},
                    "operator": {"name": enterprise.name, "uscc": enterprise.uscc},
                    "brands": [{"code": brand, "name": brand}],
                    "opened_on": opened.isoformat(),
                }
                receipts.append(
                    dict(
                        receipt_no=receipt_no,
                        filing_id=fid,
                        revision_id=fid,
                        revision=1,
                        issued_on=date(2026, 11, 1),
                        issued_at=now,
                        kid=kid,
                        payload=json.dumps(payload, ensure_ascii=False),
                        jws=token,
                    )
                )
                outlets.append(
                    dict(
                        filing_id=fid,
                        revision_id=fid,
                        filing_no=filing_no,
                        receipt_no=receipt_no,
                        name=name,
                        address=address,
                        outlet_type="self_operated",
                        scope="collect,deliver",
                        brands=brand,
                        county_code=county,
                        township_code=township.code,
                        operator_name=enterprise.name,
                        operator_uscc=enterprise.uscc,
                        person_name_masked="王*",
                        mobile_masked="139****0000",
                        opened_on=opened,
                        issued_on=date(2026, 11, 1),
                    )
                )
                days = rng.randint(0, 8)
                decisions.append(
                    dict(
                        filing_id=fid,
                        revision_id=fid,
                        county_code=county,
                        action="accept",
                        submitted_on=date(2026, 11, 1),
                        decided_on=date(2026, 11, 2),
                        working_days=days,
                        within_deadline=days <= 5,
                        decided_at=now,
                    )
                )
                days = rng.randint(0, 8)
                decisions.append(
                    dict(
                        filing_id=fid,
                        revision_id=fid,
                        county_code=county,
                        action="accept",
                        submitted_on=date(2026, 11, 1),
                        decided_on=date(2026, 11, 2),
                        working_days=days,
                        within_deadline=days <= 5,
                        decided_at=now,
                    )
                )
                receipt_nos.append(receipt_no)
            for model, rows in (
                (Filing, filings),
                (FilingRevision, revisions),
                (RevisionBrand, brands),
                (Receipt, receipts),
                (PublicOutlet, outlets),
                (ReviewDecision, decisions),
            ):
                session.execute(insert(model), rows)
    from core.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        # The steady state autovacuum keeps a live table in: statistics, visibility map, hints.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return receipt_nos
