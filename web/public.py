"""Pages for everyone (SPEC §9): the home page, the outlet directory and the inspection
publications. They answer from the same services as the public API (`/api/v1/public/...`), so
a page never shows what the API would not (no ID number, no full mobile number)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from core.clock import CHINA_TZ
from core.config import get_settings
from domain import draw
from domain.vocabulary import (
    BusinessScope,
    FollowUpOutcome,
    Outcome,
    OutletType,
    PlanStatus,
    RegionLevel,
    RiskLevel,
    SamplingMode,
)
from models.region import Region
from schemas.common import Filter, Id, PublicSearchText
from schemas.inspections import DrawVerification, PublishedPlan
from services.inspections import assignments, plans, publication
from services.receipts import directory, issuing
from services.reference import brands
from web.deps import SessionDep
from web.session import PageNotFound, PageUser, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 10_000  # 200,000 outlets: more than the city will ever have
CANDIDATES_SHOWN = 30  # longer candidate lists fold into <details>


# --- home -----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: PageUser) -> Response:
    """Public. What this is, a receipt check by number, a directory search, the publications."""
    return render(templates, request, "home.html", user=user)


@router.get("/verify")
def verify_by_number(receipt_no: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Public. The home page's receipt check without JavaScript: on to `/verify/{receipt_no}`."""
    number = receipt_no.strip().upper()
    if not number:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/verify/{quote(number, safe='')}", status_code=303)


# --- the directory --------------------------------------------------------------------------


def _regions(session: Session, *, level: str | None = None, parent: str | None = None) -> Any:
    query = select(Region.code, Region.name).order_by(col(Region.code))
    if level is not None:
        query = query.where(Region.level == level)
    if parent is not None:
        query = query.where(Region.parent_code == parent)
    return session.exec(query).all()


@router.get("/outlets", response_class=HTMLResponse)
def outlets(
    request: Request,
    session: SessionDep,
    user: PageUser,
    q: PublicSearchText | None = None,
    county: Filter | None = None,
    township: Filter | None = None,
    brand: Filter | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Public. The directory of outlets in force (the service of GET /api/v1/public/outlets)."""
    county = county or None
    # A township only within the chosen county (a stale township after a county change is
    # dropped rather than matching nothing).
    township = township if county and township and township.startswith(county) else None
    filters = directory.DirectoryFilters(
        county=county, township=township, brand=brand or None, q=(q or "").strip() or None
    )
    rows, total, exact = directory.search(
        session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # past the end (an old link, a typed URL): the last page
        page = pages
        rows, total, exact = directory.search(
            session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        pages = max(1, -(-total // PAGE_SIZE))
    chosen = {
        key: value
        for key, value in (
            ("q", filters.q),
            ("county", county),
            ("township", township),
            ("brand", filters.brand),
        )
        if value
    }

    def page_url(number: int) -> str:
        return "/outlets?" + urlencode({**chosen, "page": number})

    return render(
        templates,
        request,
        "outlets.html",
        {
            "items": [_listed(item) for item in directory.public_items(session, rows)],
            "total": total,
            "exact": exact,
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
            "csv_url": "/api/v1/public/outlets.csv" + ("?" + urlencode(chosen) if chosen else ""),
            "chosen": chosen,
            "counties": _regions(session, level=RegionLevel.COUNTY),
            "townships": _regions(session, parent=county) if county else [],
            "brands": [(b.code, b.name) for b in brands.list_brands(session)],
        },
        user=user,
    )


def _listed(item: dict[str, Any]) -> dict[str, Any]:
    """A directory item with its labels (names, never codes, on the page)."""
    return {
        **item,
        "type_label": OutletType(item["type"]).label,
        "scope_label": "、".join(BusinessScope(s).label for s in item["scope"] if s),
        "brand_names": "、".join(b["name"] for b in item["brands"]),
    }


@router.get("/outlets/{filing_no}", response_class=HTMLResponse)
def outlet(request: Request, session: SessionDep, user: PageUser, filing_no: str) -> Response:
    """Public. One outlet in force: what it is, where, who runs it, its receipt and the
    published inspection results. A 404 page for an unknown outlet or one not in force."""
    row = directory.get_by_filing_no(session, filing_no)
    if row is None:
        raise PageNotFound("没有找到这个网点：备案编号不存在，或网点已不在备案名录中。")
    item = _listed(directory.public_items(session, [row])[0])
    check = issuing.check_in(session.connection(), row.receipt_no)
    return render(
        templates,
        request,
        "outlet.html",
        {
            "outlet": item,
            "receipt": check.as_dict() if check else None,
            "results": _results_of(session, row.filing_id),
        },
        user=user,
    )


@dataclass
class OutletResult:
    plan_id: int
    plan_name: str
    inspected_on: Any
    outcome_label: str
    findings: str | None
    rectify_by: Any
    follow_up: str | None


def _results_of(session: Session, filing_id: int) -> list[OutletResult]:
    """The outlet's results as the publications show them: recorded results of announced plans."""
    found = publication.results_of_outlet(session, filing_id)
    results = []
    for inspection, plan in found:
        follow_up = assignments.follow_up_of(inspection)
        results.append(
            OutletResult(
                plan_id=plan.id or 0,
                plan_name=plan.name,
                inspected_on=inspection.inspected_on,
                outcome_label=Outcome(inspection.outcome).label if inspection.outcome else "",
                findings=inspection.findings,
                rectify_by=inspection.rectify_by,
                follow_up=_follow_up_text(follow_up) if follow_up else None,
            )
        )
    return results


def _follow_up_text(follow_up: Any) -> str:
    text = f"{follow_up.inspected_on} 复查：{FollowUpOutcome(follow_up.outcome).label}"
    return f"{text}（{follow_up.findings}）" if follow_up.findings else text


# --- inspection publications ----------------------------------------------------------------


def _region_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        session.exec(select(Region.code, Region.name).where(col(Region.code).in_(codes))).all()
    )


@router.get("/inspection-plans", response_class=HTMLResponse)
def inspection_plans(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Public. Announced and drawn plans (and those cancelled after announcement)."""
    found = plans.list_plans(session, published_only=True)
    names = _region_names(session, {plan.region_code for plan in found})
    return render(
        templates,
        request,
        "plans.html",
        {
            "plans": [
                {
                    "id": plan.id,
                    "name": plan.name,
                    "region_name": names.get(plan.region_code, plan.region_code),
                    "status": plan.status,
                    "status_label": PlanStatus(plan.status).label,
                    "period_start": plan.period_start,
                    "period_end": plan.period_end,
                }
                for plan in found
            ]
        },
        user=user,
    )


def _stratum_label(label: str) -> str:
    if label in RiskLevel.values():
        return RiskLevel(label).label
    return "全部网点" if label == "all" else label


@router.get("/inspection-plans/{plan_id}", response_class=HTMLResponse)
def inspection_plan(request: Request, session: SessionDep, user: PageUser, plan_id: Id) -> Response:
    """Public. Everything the plan publishes, its verification and how to re-run the draw."""
    published = publication.publication(session, publication.published_plan(session, plan_id))
    verification = DrawVerification.model_validate(
        draw.verify(published.model_dump(mode="json")).as_dict()
    )
    return render(
        templates,
        request,
        "plan.html",
        {
            "plan": published,
            "region_name": _region_names(session, {published.region_code}).get(
                published.region_code, published.region_code
            ),
            "status_label": PlanStatus(published.status).label,
            "sampling_label": _sampling_label(published),
            "strata": [
                {
                    "label": _stratum_label(stratum.label),
                    "rate": stratum.rate,
                    "candidates": stratum.candidates,
                    "selected": stratum.selected,
                    "fold": len(stratum.candidates) > CANDIDATES_SHOWN,
                }
                for stratum in published.strata
            ],
            "results": [
                {
                    "result": result,
                    "outcome_label": Outcome(result.outcome).label,
                    "follow_up": _follow_up_text(result.follow_up) if result.follow_up else None,
                }
                for result in published.results
            ],
            "verification": verification,
            "times": {
                "announced": _china_time(published.announced_at),
                "drawn": _china_time(published.drawn_at),
                "cancelled": _china_time(published.cancelled_at),
            },
            "plan_url": f"{get_settings().public_base_url.rstrip('/')}"
            f"/api/v1/public/inspection-plans/{published.id}",
        },
        user=user,
    )


def _china_time(moment: datetime | None) -> str | None:
    """A moment as people in Hezhou read it (China time, to the minute)."""
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment else None


def _sampling_label(plan: PublishedPlan) -> str:
    mode = plan.sampling.mode
    if mode == SamplingMode.COUNT:
        return f"{SamplingMode.COUNT.label}（{getattr(plan.sampling, 'count', '')} 个）"
    return SamplingMode(mode).label
