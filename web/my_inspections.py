"""`/my/inspections`: an operator's notices that its outlets were drawn for inspection (items,
period, the team's certificate numbers, what to prepare) and each result and follow-up. The
inspection notices and result notices (SPEC §10) link here."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.inspections import assignments
from web.deps import SessionDep
from web.session import OperatorPage, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/my/inspections", response_class=HTMLResponse)
def my_inspections(request: Request, session: SessionDep, user: OperatorPage) -> Response:
    """Operators: the inspections of their own enterprise's outlets, newest plan first."""
    rows = sorted(
        assignments.for_operator(session, user), key=lambda row: (row.period_start, row.id)
    )
    rows.reverse()
    return render(templates, request, "my_inspections.html", {"inspections": rows}, user=user)
