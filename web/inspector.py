"""The inspector's pages (SPEC §9): `/inspector/tasks` (its assignments, open ones first, with
the outlet, its address and a map link, the operator and contact, the period and items) and
`/inspector/tasks/{id}` (the task; while open the result form, evidence photos and, after a
rectification, the follow-up form; the filing's documents while the inspection is open).

The same services as the API's /api/v1/inspections routes (services/inspections/assignments.py,
results.py): a task of another team is a 404 page (results.get_assigned), every rule (a date not
in the future, 整改期限 for 责令整改, a result standing once followed up) is the service's.
Every POST checks the CSRF token first; the evidence upload checks it before the file is read.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session, col, select

from core import clock
from domain.documents import PayloadTooLarge, UnsupportedMediaType
from domain.errors import FieldError, NotFound, ValidationFailed
from domain.vocabulary import DocumentKind, FollowUpOutcome, Outcome
from models.base import aware, pk
from models.inspection import InspectionEvidence
from models.user import User
from schemas.common import Id
from schemas.inspections import FollowUpRecord, InspectionPublic, ResultRecord
from services.filings import access, queries
from services.inspections import assignments, results
from web.account import Form
from web.deps import SessionDep, reads_first
from web.documents import inline_document
from web.forms import in_savepoint, validated
from web.session import InspectorPage, check_csrf, render
from web.templating import templates
from web.uploads import CheckedUpload, store_checked_upload

router = APIRouter(tags=["pages"], include_in_schema=False)

RESULT_FIELDS = ("inspected_on", "outcome", "findings", "rectify_by")
FOLLOW_UP_FIELDS = ("inspected_on", "outcome", "findings")
DONE = {
    "result": "检查结果已记录并公示。",
    "follow-up": "整改复查已记录，检查已结束。",
    "evidence": "证据已上传。",
}


def map_link(task: InspectionPublic) -> str | None:
    """A `geo:` URI of the outlet (opens the phone's map app), or None without coordinates."""
    lat, lng = task.outlet.latitude, task.outlet.longitude
    if lat is None or lng is None:
        return None
    label = quote(f"{lat},{lng}({task.outlet.name})", safe=",")
    return f"geo:{lat},{lng}?q={label}"


def _tasks(session: Session, user: User) -> list[InspectionPublic]:
    """The inspector's assignments (as GET /api/v1/inspections), open ones first, then by
    period."""
    rows = assignments.for_inspectors(session, results.assignments_of(session, user))
    return sorted(rows, key=lambda row: (row.closed, row.period_start, row.id))


@router.get("/inspector/tasks", response_class=HTMLResponse)
def task_list(request: Request, session: SessionDep, user: InspectorPage) -> Response:
    """Inspector. Its assignments, open ones first."""
    tasks = [{"task": task, "map": map_link(task)} for task in _tasks(session, user)]
    return render(templates, request, "inspector_tasks.html", {"tasks": tasks}, user=user)


def _evidence(session: Session, inspection_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(InspectionEvidence)
        .where(InspectionEvidence.inspection_id == inspection_id)
        .order_by(col(InspectionEvidence.id))
    ).all()
    return [
        {
            "filename": row.filename,
            "size": row.size,
            "at": aware(row.uploaded_at).astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
        }
        for row in rows
    ]


def _filing_documents(session: Session, user: User, task: InspectionPublic) -> list[Any]:
    """The filing's documents in force, while the inspector may read them (the access rule)."""
    if task.closed:
        return []
    try:
        filing = access.get_for(session, task.filing_id, user)
    except NotFound:
        return []
    return queries.documents_of(session, pk(queries.shown_revision(session, filing)))


def _task_page(
    request: Request,
    session: Session,
    user: User,
    inspection_id: int,
    *,
    result_values: Mapping[str, str] | None = None,
    result_errors: list[FieldError] | None = None,
    follow_values: Mapping[str, str] | None = None,
    follow_errors: list[FieldError] | None = None,
    upload_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    inspection, _ = results.get_assigned(session, inspection_id, user)
    task = assignments.for_inspectors(session, [inspection])[0]
    today = clock.today().isoformat()
    if result_values is None:
        result_values = {
            "inspected_on": task.inspected_on.isoformat() if task.inspected_on else today,
            "outcome": task.outcome or "",
            "findings": task.findings or "",
            "rectify_by": task.rectify_by.isoformat() if task.rectify_by else "",
        }
    if follow_values is None:
        follow_values = {"inspected_on": today, "outcome": "", "findings": ""}
    done = request.query_params.get("done", "")
    return render(
        templates,
        request,
        "inspector_task.html",
        {
            "task": task,
            "map": map_link(task),
            "evidence": _evidence(session, inspection_id),
            "docs": _filing_documents(session, user, task),
            "kind_label": lambda kind: DocumentKind(kind).label,
            "outcomes": list(Outcome),
            "follow_outcomes": list(FollowUpOutcome),
            "result_values": result_values,
            "result_errors": {e.field: e.message for e in result_errors or []},
            "follow_values": follow_values,
            "follow_errors": {e.field: e.message for e in follow_errors or []},
            "upload_errors": upload_errors or [],
            "can_follow_up": task.outcome == Outcome.RECTIFICATION and not task.closed,
            "done": DONE.get(done, ""),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/inspector/tasks/{inspection_id}", response_class=HTMLResponse)
def task_page(
    request: Request, session: SessionDep, user: InspectorPage, inspection_id: Id
) -> Response:
    """Inspector on the task's team (404 page otherwise)."""
    return _task_page(request, session, user, inspection_id)


def _typed(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in names}


@router.post("/inspector/tasks/{inspection_id}/result", response_class=HTMLResponse)
def record_result(
    request: Request, session: SessionDep, user: InspectorPage, form: Form, inspection_id: Id
) -> Response:
    """`检查日期`, `检查结果`, `检查情况`, `整改期限` + `提交结果`, as PUT .../result."""
    check_csrf(request, form)
    typed = _typed(form, RESULT_FIELDS)
    body = {**typed, "rectify_by": typed["rectify_by"] or None}
    record, errors = validated(ResultRecord, body)
    if record is not None:
        inspection, member = results.get_assigned(session, inspection_id, user, for_update=True)
        errors = in_savepoint(
            session,
            lambda: results.record_result(session, inspection, member, **record.model_dump()),
        )
    else:
        results.get_assigned(session, inspection_id, user)  # 404 before any message
    if errors:
        return _task_page(
            request,
            session,
            user,
            inspection_id,
            result_values=typed,
            result_errors=errors,
            status_code=422,
        )
    return RedirectResponse(f"/inspector/tasks/{inspection_id}?done=result", status_code=303)


@router.post("/inspector/tasks/{inspection_id}/follow-up", response_class=HTMLResponse)
def record_follow_up(
    request: Request, session: SessionDep, user: InspectorPage, form: Form, inspection_id: Id
) -> Response:
    """`复查日期`, `复查结果`, `复查情况` + `提交复查结果`, as PUT .../follow-up."""
    check_csrf(request, form)
    typed = _typed(form, FOLLOW_UP_FIELDS)
    record, errors = validated(FollowUpRecord, typed)
    if record is not None:
        inspection, member = results.get_assigned(session, inspection_id, user, for_update=True)
        errors = in_savepoint(
            session,
            lambda: results.record_follow_up(session, inspection, member, **record.model_dump()),
        )
    else:
        results.get_assigned(session, inspection_id, user)
    if errors:
        return _task_page(
            request,
            session,
            user,
            inspection_id,
            follow_values=typed,
            follow_errors=errors,
            status_code=422,
        )
    return RedirectResponse(f"/inspector/tasks/{inspection_id}?done=follow-up", status_code=303)


@router.post("/inspector/tasks/{inspection_id}/evidence", response_class=HTMLResponse)
@reads_first
async def upload_evidence(
    request: Request, session: SessionDep, user: InspectorPage, inspection_id: Id
) -> Response:
    """`上传证据`: a photo (JPEG, PNG) or PDF, received and checked as POST .../evidence does;
    the CSRF token is checked before the file is read, a refused file stores nothing."""
    await run_in_threadpool(results.get_assigned, session, inspection_id, user)  # 404 first

    def attach(upload: CheckedUpload) -> None:
        inspection, member = results.get_assigned(session, inspection_id, user)
        results.add_evidence(
            session,
            inspection,
            member,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )

    try:
        await store_checked_upload(
            request,
            session,
            attach,
            check_fields=lambda fields: check_csrf(request, fields),
            before_file=lambda fields: check_csrf(request, fields),
        )
    except (ValidationFailed, UnsupportedMediaType, PayloadTooLarge) as refused:
        messages = (
            [error.message for error in refused.errors]
            if isinstance(refused, ValidationFailed)
            else [refused.message]
        )
        status = 415 if isinstance(refused, UnsupportedMediaType) else 422
        if isinstance(refused, PayloadTooLarge):
            status = 413

        def again() -> Response:
            return _task_page(
                request,
                session,
                user,
                inspection_id,
                upload_errors=messages,
                status_code=status,
            )

        return await run_in_threadpool(again)
    return RedirectResponse(
        f"/inspector/tasks/{inspection_id}?done=evidence#evidence", status_code=303
    )


@router.get("/inspector/tasks/{inspection_id}/documents/{document_id}")
def view_document(
    session: SessionDep, user: InspectorPage, inspection_id: Id, document_id: Id
) -> StreamingResponse:
    """A document of the inspected filing, while the team's inspection is open (the access
    rule: services/filings/access.py); reading an ID document is audited, as in the API."""
    inspection, _ = results.get_assigned(session, inspection_id, user)
    if assignments.is_closed(inspection):
        # This task is done: another open task of the team would be its own URL.
        raise NotFound("检查已结束，不能再查看该网点的文件")
    filing = access.get_for(session, inspection.filing_id, user)
    return inline_document(session, filing, document_id, user)
