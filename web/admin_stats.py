"""The statistics page (SPEC §9, §4.1): `/admin/stats` for reviewers and admins, over their own
jurisdiction — township coverage against the 100 % goal, review deadlines kept, late filings,
inspections and their outcomes, each as an SVG chart (web/charts.py) with its table and CSV.

The figures are the API's (`services.oversight.stats.overview`); the CSV files are the same
tables as `/api/v1/stats/overview/{table}.csv`, served here for the page's session cookie (the
API takes a bearer token)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from core import spreadsheet
from domain.vocabulary import FilingStatus, Outcome, PlanStatus
from services.oversight import stats
from services.reference import regions
from web.charts import bar_chart
from web.deps import SessionDep
from web.session import PageNotFound, ReviewerPage, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@router.get("/admin/stats", response_class=HTMLResponse)
def stats_page(request: Request, session: SessionDep, user: ReviewerPage) -> Response:
    """Reviewer or admin: the overview of its jurisdiction."""
    figures = stats.overview(session, jurisdiction=user.jurisdiction)
    cov, fil, dead, ins = figures.coverage, figures.filings, figures.deadlines, figures.inspections
    charts: dict[str, Any] = {
        "coverage": bar_chart(
            "chart-coverage",
            "各区县乡镇覆盖率（目标 100%）",
            [(c.county_name, c.ratio or 0.0) for c in cov.by_county],
            percent=True,
        ),
        "deadlines": bar_chart(
            "chart-deadlines",
            "审核时限遵守率",
            [
                ("5个工作日内通过", dead.accepted_within_share or 0.0),
                ("2个工作日内退回", dead.returned_within_share or 0.0),
            ],
            percent=True,
        ),
        "late": bar_chart(
            "chart-late",
            "逾期报备比例",
            [
                ("逾期备案", fil.late_filings.share or 0.0),
                ("逾期变更", fil.late_changes.share or 0.0),
            ],
            percent=True,
        ),
        "outcomes": bar_chart(
            "chart-outcomes",
            "抽查结果",
            [(outcome.label, float(ins.outcomes.get(outcome, 0))) for outcome in Outcome],
        ),
        "statuses": bar_chart(
            "chart-statuses",
            "备案状态",
            [(status.label, float(fil.by_status.get(status, 0))) for status in FilingStatus],
        ),
    }
    return render(
        templates,
        request,
        "admin_stats.html",
        {
            "figures": figures,
            "jurisdiction": regions.get_region(session, user.jurisdiction),
            "charts": charts,
            "share": _share,
            "outcome_labels": {o.value: o.label for o in Outcome},
            "plan_labels": {p.value: p.label for p in PlanStatus},
        },
        user=user,
    )


@router.get("/admin/stats/{table}.csv")
def stats_table(request: Request, session: SessionDep, user: ReviewerPage, table: str) -> Response:
    """One table of the overview as CSV (UTF-8 with BOM), as the API's."""
    tables = stats.tables(stats.overview(session, jurisdiction=user.jurisdiction), session)
    if table not in tables:
        raise PageNotFound()
    header, rows = tables[table]
    return Response(
        spreadsheet.to_csv(header, rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{table}.csv"',
            "Cache-Control": "no-store",
        },
    )
