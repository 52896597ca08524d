"""Oversight figures for a jurisdiction, every one an SQL aggregate (they stay fast at 100k).

The plan's goal: a courier outlet in every town and township (镇 and 乡; urban 街道 excluded).
"""

from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core import clock
from domain.vocabulary import (
    Decision,
    FilingStatus,
    LabelledEnum,
    Outcome,
    RegionLevel,
    RevisionStatus,
)
from models.base import aware
from models.brand import Brand
from models.filing import Filing, FilingRevision, ReviewDecision, RevisionBrand
from models.inspection import Inspection, InspectionPlan
from models.receipt import PublicOutlet
from models.region import Region
from schemas.oversight import (
    BrandCoverage,
    BrandOutlets,
    CountyCoverage,
    CountyFilings,
    Coverage,
    DeadlineFigures,
    FilingFigures,
    InspectionFigures,
    LateShare,
    OverdueSubmission,
    StatsOverview,
    Township,
    UncoveredInCounty,
)
from services.inspections import results
from services.reference import regions


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _brand_townships(session: Session, prefix: str) -> list[tuple[str, str, int]]:
    """(brand, township, outlets in force): one pass over the public directory, which holds
    exactly the outlets in force."""
    return [
        (brand, township, count)
        for brand, township, count in session.exec(
            select(RevisionBrand.brand_code, PublicOutlet.township_code, func.count())
            .join(PublicOutlet, col(PublicOutlet.revision_id) == RevisionBrand.revision_id)
            .where(col(PublicOutlet.county_code).startswith(prefix[:6]))
            .where(col(PublicOutlet.township_code).startswith(prefix))
            .group_by(RevisionBrand.brand_code, PublicOutlet.township_code)
            .order_by(RevisionBrand.brand_code, PublicOutlet.township_code)
        ).all()
    ]


def _township_rows(session: Session, prefix: str) -> list[tuple[str, str, str, bool]]:
    """(code, name, county, covered) of every town and township in scope."""
    has_outlet = (
        select(Filing.id)
        .where(Filing.township_code == Region.code, Filing.status == FilingStatus.FILED)
        .exists()
    )
    return [
        (code, name, county or "", bool(covered))
        for code, name, county, covered in session.exec(
            select(Region.code, Region.name, Region.parent_code, has_outlet)
            .where(Region.level == RegionLevel.TOWNSHIP, col(Region.code).startswith(prefix))
            .order_by(Region.code)
        ).all()
    ]


def _coverage_by_county(
    session: Session, rows: list[tuple[str, str, str, bool]]
) -> list[CountyCoverage]:
    county_names = dict(
        session.exec(
            select(Region.code, Region.name).where(Region.level == RegionLevel.COUNTY)
        ).all()
    )
    by_county: dict[str, CountyCoverage] = {}
    for code, name, county, covered in rows:
        entry = by_county.setdefault(
            county,
            CountyCoverage(
                county_code=county,
                county_name=county_names.get(county, ""),
                townships=0,
                covered=0,
                uncovered=[],
                ratio=None,
            ),
        )
        entry.townships += 1
        if covered:
            entry.covered += 1
        else:
            entry.uncovered.append(Township(code=code, name=name))
    for entry in by_county.values():
        entry.ratio = _share(entry.covered, entry.townships)
    return list(by_county.values())


def _coverage_by_brand(
    session: Session,
    brand_townships: list[tuple[str, str, int]],
    township_codes: set[str],
) -> list[BrandCoverage]:
    brand_names = dict(session.exec(select(Brand.code, Brand.name)).all())
    by_brand: dict[str, BrandCoverage] = {}
    for brand, township, _count in brand_townships:
        if township not in township_codes:
            continue  # an urban subdistrict (街道): not part of the goal
        entry = by_brand.setdefault(
            brand,
            BrandCoverage(
                brand=brand,
                name=brand_names.get(brand, brand),
                covered=0,
                townships=[],
                ratio=None,
            ),
        )
        entry.covered += 1
        entry.townships.append(township)
    for entry in by_brand.values():
        entry.ratio = _share(entry.covered, len(township_codes))
    return list(by_brand.values())


def coverage(
    session: Session, prefix: str, brand_townships: list[tuple[str, str, int]]
) -> Coverage:
    rows = _township_rows(session, prefix)
    counties = _coverage_by_county(session, rows)
    total = sum(entry.townships for entry in counties)
    covered_total = sum(entry.covered for entry in counties)
    return Coverage(
        townships=total,
        covered=covered_total,
        ratio=_share(covered_total, total),
        by_county=counties,
        uncovered=[
            UncoveredInCounty(
                county_code=entry.county_code,
                county_name=entry.county_name,
                townships=entry.uncovered,
            )
            for entry in counties
            if entry.uncovered
        ],
        by_brand=_coverage_by_brand(session, brand_townships, {code for code, *_ in rows}),
    )


def _late(session: Session, prefix: str, *, changes: bool) -> LateShare:
    number = FilingRevision.number > 1 if changes else FilingRevision.number == 1
    submitted, late = session.exec(
        select(
            func.count(), func.coalesce(func.sum(case((col(FilingRevision.late), 1), else_=0)), 0)
        )
        .select_from(FilingRevision)
        .join(Filing, col(Filing.id) == FilingRevision.filing_id)
        .where(
            number,
            col(FilingRevision.submitted_at).is_not(None),
            col(Filing.county_code).startswith(prefix),
        )
    ).one()
    return LateShare(submitted=submitted, late=int(late), share=_share(int(late), submitted))


def filing_figures(
    session: Session, prefix: str, brand_townships: list[tuple[str, str, int]]
) -> FilingFigures:
    scoped = col(Filing.county_code).startswith(prefix)
    by_status = dict(
        session.exec(
            select(Filing.status, func.count()).where(scoped).group_by(Filing.status)
        ).all()
    )
    county_rows = session.exec(
        select(
            Filing.county_code,
            func.count(),
            func.sum(case((col(Filing.status) == FilingStatus.FILED, 1), else_=0)),
        )
        .where(scoped)
        .group_by(Filing.county_code)
        .order_by(Filing.county_code)
    ).all()
    brand_counts: dict[str, int] = {}
    for brand, _township, count in brand_townships:
        brand_counts[brand] = brand_counts.get(brand, 0) + count
    return FilingFigures(
        by_status=by_status,
        by_county=[
            CountyFilings(county_code=c, total=t, in_force=int(f or 0)) for c, t, f in county_rows
        ],
        by_brand=[
            BrandOutlets(brand=b, outlets_in_force=n) for b, n in sorted(brand_counts.items())
        ],
        late_filings=_late(session, prefix, changes=False),
        late_changes=_late(session, prefix, changes=True),
    )


def _median_working_days(session: Session, prefix: str) -> float | None:
    """Median from the histogram: working days are small integers, so GROUP BY gives a few
    rows however many decisions there are."""
    histogram = session.exec(
        select(ReviewDecision.working_days, func.count())
        .where(col(ReviewDecision.county_code).startswith(prefix))
        .group_by(col(ReviewDecision.working_days))
        .order_by(col(ReviewDecision.working_days))
    ).all()
    total = sum(count for _, count in histogram)
    if not total:
        return None

    def nth(position: int) -> int:  # 0-based position in the sorted list of all decisions
        seen = 0
        for days, count in histogram:
            seen += count
            if position < seen:
                return days
        raise IndexError(position)

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def deadline_figures(session: Session, prefix: str) -> DeadlineFigures:
    rows = session.exec(
        select(
            ReviewDecision.action,
            func.count(),
            func.sum(case((col(ReviewDecision.within_deadline), 1), else_=0)),
        )
        .where(col(ReviewDecision.county_code).startswith(prefix))
        .group_by(ReviewDecision.action)
    ).all()
    totals = {action: (count, int(within or 0)) for action, count, within in rows}
    accepted, accepted_within = totals.get(Decision.ACCEPT, (0, 0))
    returned, returned_within = totals.get(Decision.RETURN, (0, 0))
    today = clock.today()
    overdue_rows = session.execute(
        sa_select(
            col(Filing.id),
            col(Filing.filing_no),
            col(FilingRevision.number),
            col(FilingRevision.outlet_name),
            col(Filing.county_code),
            col(FilingRevision.submitted_at),
            col(FilingRevision.review_due_on),
        )
        .join(FilingRevision, col(FilingRevision.id) == Filing.open_revision_id)
        .where(
            col(Filing.county_code).startswith(prefix),
            col(FilingRevision.status) == RevisionStatus.SUBMITTED,
            col(FilingRevision.review_due_on) < today,
        )
        .order_by(col(FilingRevision.review_due_on), col(Filing.id))
    ).all()
    return DeadlineFigures(
        accepted=accepted,
        accepted_within_5_working_days=accepted_within,
        accepted_within_share=_share(accepted_within, accepted),
        returned=returned,
        returned_within_2_working_days=returned_within,
        returned_within_share=_share(returned_within, returned),
        median_working_days_to_decision=_median_working_days(session, prefix),
        overdue=[
            OverdueSubmission(
                filing_id=fid,
                filing_no=no,
                revision=rev,
                outlet_name=name,
                county_code=county,
                submitted_at=aware(submitted),
                review_due_on=due,
            )
            for fid, no, rev, name, county, submitted, due in overdue_rows
        ],
    )


def inspection_figures(session: Session, jurisdiction: str, prefix: str) -> InspectionFigures:
    in_scope = col(InspectionPlan.region_code).startswith(prefix)
    plans = dict(
        session.exec(
            select(InspectionPlan.status, func.count())
            .where(in_scope)
            .group_by(InspectionPlan.status)
        ).all()
    )
    objects, recorded, on_time = session.exec(
        select(
            func.count(),
            func.count(col(Inspection.outcome)),
            func.coalesce(
                func.sum(case((col(Inspection.published_on_time).is_(True), 1), else_=0)), 0
            ),
        )
        .select_from(Inspection)
        .join(InspectionPlan, col(InspectionPlan.id) == Inspection.plan_id)
        .where(in_scope)
    ).one()
    outcomes = dict(
        session.exec(
            select(Inspection.outcome, func.count())
            .join(InspectionPlan, col(InspectionPlan.id) == Inspection.plan_id)
            .where(in_scope, col(Inspection.outcome).is_not(None))
            .group_by(Inspection.outcome)
        ).all()
    )
    overdue = results.overdue(session, within=jurisdiction)
    return InspectionFigures(
        plans=plans,
        objects_drawn=objects,
        results_recorded=recorded,
        outcomes=outcomes,
        published_within_20_working_days=int(on_time),
        published_within_share=_share(int(on_time), recorded),
        overdue=len(overdue),
        overdue_list=overdue,
    )


def overview(session: Session, *, jurisdiction: str) -> StatsOverview:
    prefix = regions.region_prefix(jurisdiction)
    brand_townships = _brand_townships(session, prefix)
    return StatsOverview(
        jurisdiction=jurisdiction,
        as_of=clock.today(),
        coverage=coverage(session, prefix, brand_townships),
        filings=filing_figures(session, prefix, brand_townships),
        deadlines=deadline_figures(session, prefix),
        inspections=inspection_figures(session, jurisdiction, prefix),
    )


# --- CSV exports: one per table of the overview ------------------------------------------


def _label(vocabulary: type[LabelledEnum], value: str) -> str:
    return vocabulary(value).label if value in vocabulary.values() else value


def tables(
    figures: StatsOverview, session: Session
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each table with names next to codes: counties, brands, Chinese labels of statuses and
    outcomes (SPEC §4.1)."""
    cov, fil, dead, ins = figures.coverage, figures.filings, figures.deadlines, figures.inspections
    county = dict(
        session.exec(
            select(Region.code, Region.name).where(Region.level == RegionLevel.COUNTY)
        ).all()
    )
    brand = dict(session.exec(select(Brand.code, Brand.name)).all())
    return {
        "coverage": (
            ["区县代码", "区县", "乡镇数", "已覆盖", "覆盖率"],
            [
                [c.county_code, c.county_name, c.townships, c.covered, c.ratio]
                for c in cov.by_county
            ],
        ),
        "uncovered": (
            ["区县代码", "区县", "乡镇代码", "乡镇"],
            [
                [u.county_code, u.county_name, t.code, t.name]
                for u in cov.uncovered
                for t in u.townships
            ],
        ),
        "brand-coverage": (
            ["品牌", "品牌名称", "覆盖乡镇数", "覆盖率", "覆盖乡镇代码"],
            [[b.brand, b.name, b.covered, b.ratio, " ".join(b.townships)] for b in cov.by_brand],
        ),
        "filings-by-status": (
            ["状态", "状态名称", "数量"],
            [[k, _label(FilingStatus, k), v] for k, v in sorted(fil.by_status.items())],
        ),
        "filings-by-county": (
            ["区县代码", "区县", "备案总数", "在用网点"],
            [
                [c.county_code, county.get(c.county_code, ""), c.total, c.in_force]
                for c in fil.by_county
            ],
        ),
        "filings-by-brand": (
            ["品牌", "品牌名称", "在用网点"],
            [[b.brand, brand.get(b.brand, b.brand), b.outlets_in_force] for b in fil.by_brand],
        ),
        "overdue-submissions": (
            [
                "备案ID",
                "备案编号",
                "版本",
                "网点名称",
                "区县代码",
                "区县",
                "提交时间",
                "应办结日期",
            ],
            [
                [
                    o.filing_id,
                    o.filing_no,
                    o.revision,
                    o.outlet_name,
                    o.county_code,
                    county.get(o.county_code, ""),
                    o.submitted_at,
                    o.review_due_on,
                ]
                for o in dead.overdue
            ],
        ),
        "inspection-outcomes": (
            ["检查结果", "检查结果名称", "数量"],
            [[k, _label(Outcome, k), v] for k, v in sorted(ins.outcomes.items())],
        ),
    }
