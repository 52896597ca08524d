"""Public endpoints: no login. Nothing here carries an ID number or an unmasked phone."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from joserfc.jwk import KeySetSerialization

from api.deps import SessionDep
from domain import draw
from domain.errors import NotFound
from schemas.audit import AuditHead
from schemas.common import Filter, Id, Offset, Page, PublicSearchText
from schemas.inspections import (
    DrawVerification,
    PublicInspectionItem,
    PublicPlanSummary,
    PublishedPlan,
)
from schemas.receipts import JsonWebKeySet, PublicOutletItem, PublicReceipt
from services.inspections import directories, plans, publication
from services.oversight import audit
from services.receipts import directory, signing
from web.deps import PublicReaderDep

router = APIRouter(prefix="/public", tags=["public"])

MAX_CSV_ROWS = 200_000
NO_CACHE = {"Cache-Control": "no-cache"}  # a status can change at any moment


@router.get("/receipts/{receipt_no}", response_model=PublicReceipt)
async def check_receipt(reader: PublicReaderDep, receipt_no: str) -> Response:
    """Whether a receipt is in force: valid, superseded, closed, revoked or lapsed."""
    found = await reader.receipt(receipt_no)
    if found is None:
        raise NotFound("回执编号不存在")
    return Response(found.as_json(), media_type="application/json", headers=NO_CACHE)


@router.get("/keys", response_model=JsonWebKeySet)
async def signing_keys() -> KeySetSerialization:
    """The receipt signing keys (JWKS) for offline verification."""
    return signing.keyring().jwks()


@router.get("/outlets", response_model=Page[PublicOutletItem])
def outlet_directory(
    session: SessionDep,
    county: Filter | None = None,
    township: Filter | None = None,
    brand: Annotated[Filter | None, Query(description="品牌代码或中文名称，如 SF 或 顺丰")] = None,
    q: PublicSearchText | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
    accept: Annotated[str, Header()] = "application/json",
) -> Page[PublicOutletItem] | Response:
    """Filed outlets in force, personal data masked (`Accept: text/csv` or `.csv` to export)."""
    filters = directory.DirectoryFilters(county=county, township=township, brand=brand, q=q)
    if "text/csv" in accept:
        return _csv(session, filters)
    rows, total, exact = directory.search(session, filters, limit=limit, offset=offset)
    return Page(
        items=[PublicOutletItem(**item) for item in directory.public_items(session, rows)],
        total=total,
        total_exact=exact,
        limit=limit,
        offset=offset,
    )


@router.get("/outlets.csv", response_class=Response)
def outlet_directory_csv(
    session: SessionDep,
    county: Filter | None = None,
    township: Filter | None = None,
    brand: Annotated[Filter | None, Query(description="品牌代码或中文名称，如 SF 或 顺丰")] = None,
    q: PublicSearchText | None = None,
) -> Response:
    """The directory as CSV (UTF-8 with BOM, opens in Excel)."""
    return _csv(
        session, directory.DirectoryFilters(county=county, township=township, brand=brand, q=q)
    )


def _csv(session: SessionDep, filters: directory.DirectoryFilters) -> Response:
    rows, _, _ = directory.search(session, filters, limit=MAX_CSV_ROWS, offset=0)
    return Response(
        directory.to_csv(rows, directory.names_for(session, rows)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="outlets.csv"'},
    )


@router.get("/inspection-items", response_model=list[PublicInspectionItem])
def inspection_items(session: SessionDep) -> list[PublicInspectionItem]:
    """The inspection-item list in use (一单): code, name, legal basis and method."""
    return [
        PublicInspectionItem.model_validate(item)
        for item in directories.list_items(session, active_only=True)
    ]


@router.get("/audit-head", response_model=AuditHead)
def audit_head(session: SessionDep, response: Response) -> AuditHead:
    """The audit chain's head `{entries, head_hash, at}`: whoever keeps it can later detect a
    rewritten history (`outlet-filing audit-verify --against HEAD_HASH`)."""
    response.headers.update(NO_CACHE)
    current = audit.head(session)
    return AuditHead(entries=current.entries, head_hash=current.head_hash, at=current.at)


@router.get("/inspection-plans", response_model=list[PublicPlanSummary])
def published_plans(session: SessionDep) -> list[PublicPlanSummary]:
    """Announced and drawn inspection plans (and those cancelled after announcement)."""
    return [
        PublicPlanSummary.model_validate(plan)
        for plan in plans.list_plans(session, published_only=True)
    ]


@router.get("/inspection-plans/{plan_id}", response_model=PublishedPlan)
def published_plan(session: SessionDep, plan_id: Id) -> PublishedPlan:
    """Everything needed to re-run the draw: key, sources, strata, pool, eligible lists, teams,
    and the results."""
    return publication.publication(session, publication.published_plan(session, plan_id))


@router.get("/inspection-plans/{plan_id}/verification", response_model=DrawVerification)
def verify_plan(session: SessionDep, plan_id: Id) -> DrawVerification:
    """The draw recomputed from the published data alone: `verified: true|false`."""
    published = publication.publication(session, publication.published_plan(session, plan_id))
    return DrawVerification.model_validate(draw.verify(published.model_dump(mode="json")).as_dict())
