from fastapi import APIRouter, Response

from api.deps import Reviewer, SessionDep
from core import spreadsheet
from domain.errors import NotFound
from schemas.common import Filter
from schemas.oversight import StatsOverview
from services.oversight import stats

router = APIRouter(prefix="/stats", tags=["oversight"])


@router.get("/overview", response_model=StatsOverview)
def overview(session: SessionDep, user: Reviewer) -> StatsOverview:
    """Township coverage against the 100 % goal, filings, review deadlines kept, inspections —
    for the caller's jurisdiction."""
    return stats.overview(session, jurisdiction=user.jurisdiction)


@router.get("/overview/{table}.csv", response_class=Response)
def overview_table(session: SessionDep, user: Reviewer, table: Filter) -> Response:
    """One table of the overview as CSV (UTF-8 with BOM): coverage, uncovered, brand-coverage,
    filings-by-status, filings-by-county, filings-by-brand, overdue-submissions,
    inspection-outcomes."""
    tables = stats.tables(stats.overview(session, jurisdiction=user.jurisdiction), session)
    if table not in tables:
        raise NotFound("没有这张表")
    header, rows = tables[table]
    return Response(
        spreadsheet.to_csv(header, rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )
