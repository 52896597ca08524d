"""The operator's filing pages (SPEC §9): `/my/filings` (its enterprise's filings, what to do
next, its notices), `/my/filings/new` and `/my/filings/{id}` (the form in fieldsets, documents,
submission, corrections, the receipt, a change, a closure).

Every write goes through the same schemas and services as the API (services/filings/actions.py,
documents.py); an error is shown next to the field or document it concerns and the form keeps
what was typed. Every POST checks the CSRF token first. A filing of another enterprise is a 404
page (access.get_for), as the API's 404.
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from core import clock
from core.db import begin_session
from core.storage import get_storage
from domain.documents import PayloadTooLarge, UnsupportedMediaType
from domain.errors import FieldError, NotFound, ValidationFailed, from_pydantic
from domain.vocabulary import (
    BusinessScope,
    DocumentKind,
    FilingStatus,
    LicenceStatus,
    OutletType,
    RevisionStatus,
)
from models.base import aware, pk
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from models.user import User
from schemas.common import Id
from schemas.filings import ChangeOpen, Closure, FilingContent, FilingPatch, FilingPublic
from services.filings import access, actions, documents, numbering, presenters, queries, rules
from services.notifications import inbox
from services.receipts import issuing
from services.receipts import pdf as receipt_pdf
from services.reference import regions
from web import operator_forms as forms
from web.account import Form
from web.deps import SessionDep, reads_first
from web.session import OperatorPage, check_csrf, render
from web.templating import templates
from web.uploads import CheckedUpload, store_checked_upload

router = APIRouter(tags=["pages"], include_in_schema=False)

EDITABLE = (RevisionStatus.DRAFT, RevisionStatus.RETURNED)
LIST_LIMIT = 500  # an enterprise's filings on one page, the ones needing action first
NOTICES_SHOWN = 20
CHANGE_FIELDS = frozenset({"changed_on"})  # the inputs of the small forms (申请变更, 停业)
CLOSURE_FIELDS = frozenset({"closed_on", "reason"})

DONE = {
    "saved": "已保存。",
    "uploaded": "文件已上传。",
    "deleted": "文件已删除。",
    "submitted": "已提交，请等待邮政管理部门审核。",
    "change": "已发起变更：请修改需要变更的内容并提交。",
    "closed": "已报告停业。",
}


# --- the list -----------------------------------------------------------------------------------


def _next_step(row: queries.FilingRow) -> tuple[int, str, str | None]:
    """(order, what the operator does next, the receipt number for a filed outlet)."""
    filing, shown, change = row
    working = change or (shown if filing.current_revision_id is None else None)
    state = working.status if working is not None else None
    if state == RevisionStatus.RETURNED:
        return 0, "按补正意见修改后重新提交", None
    if state == RevisionStatus.DRAFT:
        return 1, "补全资料并提交", None
    if state == RevisionStatus.SUBMITTED:
        return 2, "等待审核", None
    if filing.status == FilingStatus.FILED and filing.filing_no:
        return 3, "查看回执", numbering.receipt_number(filing.filing_no, shown.number)
    return 4, "", None


def _due(row: queries.FilingRow) -> str:
    """The deadline that matters now: the review's, or the filing's (20 days from opening, 10
    from a change)."""
    filing, shown, change = row
    working = change or (shown if filing.current_revision_id is None else None)
    if working is None:
        return ""
    if working.status == RevisionStatus.SUBMITTED and working.review_due_on:
        return f"审核期限 {working.review_due_on.isoformat()}"
    if working.status in EDITABLE and working.submitted_at is None:
        if change is None:
            due = shown.opened_on + timedelta(days=rules.FILING_DAYS)
            return f"应于 {due.isoformat()} 前提交"
        if change.changed_on is not None:
            due = change.changed_on + timedelta(days=rules.CHANGE_DAYS)
            return f"变更应于 {due.isoformat()} 前提交"
    return ""


@router.get("/my/filings", response_class=HTMLResponse)
def my_filings(request: Request, session: SessionDep, user: OperatorPage) -> Response:
    """Operator (approved enterprise). Its enterprise's filings, those needing action first, and
    its notices (newest first, unread marked)."""
    rows, total = queries.list_filings(
        session, user, queries.ListFilters(), limit=LIST_LIMIT, offset=0
    )
    summaries = presenters.summaries(session, rows)
    items: list[dict[str, Any]] = []
    for row, summary in zip(rows, summaries, strict=True):
        order, step, receipt_no = _next_step(row)
        items.append(
            {
                "summary": summary,
                "status_label": FilingStatus(summary.status).label,
                "change_label": (
                    RevisionStatus(summary.change_status).label if summary.change_status else ""
                ),
                "step": step,
                "receipt_no": receipt_no,
                "due": _due(row),
                "order": order,
                "place": _place(session, summary.county_code, summary.township_code),
            }
        )
    items.sort(key=lambda item: item["order"])  # stable: latest changed first within a group
    notices, _, unread = inbox.list_for(session, user, limit=NOTICES_SHOWN, offset=0)
    shown_notices = [
        {
            "id": notice.id,
            "title": notice.title,
            "body": notice.body,
            "link": notice.link,
            "unread": notice.read_at is None,
            "at": aware(notice.created_at).astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
        }
        for notice in notices
    ]
    return render(
        templates,
        request,
        "my_filings.html",
        {"items": items, "total": total, "notices": shown_notices, "unread": unread},
        user=user,
    )


@router.post("/my/notifications/{notification_id}/read")
def mark_notice_read(
    request: Request, session: SessionDep, user: OperatorPage, form: Form, notification_id: Id
) -> Response:
    """Operator. Marks one of its notices read."""
    check_csrf(request, form)
    inbox.mark_read(session, user, notification_id)
    return RedirectResponse("/my/filings#notices", status_code=303)


def _place(session: Session, county_code: str, township_code: str) -> str:
    names = [regions.get_region(session, code) for code in (county_code, township_code)]
    return " ".join(region.name for region in names if region is not None)


# --- the form ------------------------------------------------------------------------------------


def _validated(model: type[BaseModel], data: Mapping[str, Any]) -> tuple[Any, list[FieldError]]:
    """`data` validated by the API's schema: (model or None, its field errors in Chinese)."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, from_pydantic(error.errors())


def _in_savepoint(session: Session, work: Callable[[], object]) -> list[FieldError]:
    """Runs a service call in a SAVEPOINT: when it refuses (ValidationFailed) nothing it did is
    kept, and its field errors are returned for the page shown again in the same transaction."""
    try:
        with session.begin_nested():
            work()
    except ValidationFailed as failed:
        return list(failed.errors)
    return []


def _form_page(
    request: Request,
    session: Session,
    user: User,
    values: Mapping[str, Any],
    errors: list[FieldError],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        templates,
        request,
        "filing_form.html",
        {
            "values": values,
            "errors": forms.remarks_from_errors(errors),
            "corrections": forms.Remarks(),
            "choices": forms.choices(session),
            "labels": forms.FIELD_LABELS,
            "fid": forms.field_id,
            "where": forms.where_label,
            "is_change": False,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/my/filings/new", response_class=HTMLResponse)
def new_filing(request: Request, session: SessionDep, user: OperatorPage) -> Response:
    """Operator (approved enterprise). An empty filing form."""
    return _form_page(request, session, user, forms.empty_values(), [])


@router.post("/my/filings/new", response_class=HTMLResponse)
def create_filing(
    request: Request, session: SessionDep, user: OperatorPage, form: Form
) -> Response:
    """Operator. `保存草稿`: creates the draft as POST /api/v1/filings does."""
    check_csrf(request, form)
    values = forms.values_from_form(form)
    content = forms.content_from_values(values)
    _, errors = _validated(FilingContent, content)
    created: list[Filing] = []
    if not errors:
        errors = _in_savepoint(
            session,
            lambda: created.append(actions.create(session, operator=user, raw=content)),
        )
    if errors:
        return _form_page(request, session, user, values, errors, status_code=422)
    return RedirectResponse(f"/my/filings/{pk(created[0])}?done=saved", status_code=303)


# --- one filing ----------------------------------------------------------------------------------


def _working(shown: FilingPublic) -> tuple[Mapping[str, Any] | None, bool]:
    """(what the operator works on: the open change or the first filing, whether it is a change)."""
    if shown.change is not None:
        return shown.change.model_dump(mode="json"), True
    if shown.filing_no is None and shown.status in (
        FilingStatus.DRAFT,
        FilingStatus.RETURNED,
        FilingStatus.SUBMITTED,
    ):
        return shown.model_dump(mode="json"), False
    return None, False


def _filing_page(
    request: Request,
    session: Session,
    user: User,
    filing: Filing,
    *,
    values: Mapping[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    change_errors: list[FieldError] | None = None,
    change_values: Mapping[str, str] | None = None,
    closure_errors: list[FieldError] | None = None,
    closure_values: Mapping[str, str] | None = None,
    upload_errors: list[str] | None = None,
    upload_kind: str = "",
    status_code: int = 200,
) -> Response:
    shown = presenters.present(session, filing)
    working, is_change = _working(shown)
    editable = working is not None and working["status"] in EDITABLE
    enterprise = session.get(Enterprise, filing.enterprise_id)
    missing: list[str] = []
    if working is not None:
        missing = rules.missing_documents(
            {document["kind"] for document in working["documents"]},
            outlet_type=working["outlet"].get("type", OutletType.SELF_OPERATED),
            is_branch=bool(enterprise and enterprise.is_branch),
        )
    if values is None and working is not None:
        values = forms.values_from_content(working, changed_on=working.get("changed_on"))
    choice_lists = forms.choices(session)
    brand_names = dict(choice_lists.brands)
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        templates,
        request,
        "filing.html",
        {
            "filing": shown,
            "status_label": FilingStatus(shown.status).label,
            "working": working,
            "working_label": RevisionStatus(working["status"]).label if working else "",
            "is_change": is_change,
            "editable": editable,
            "values": values or forms.empty_values(),
            "errors": forms.remarks_from_errors(errors or []),
            "corrections": forms.remarks_from_corrections(
                working["corrections"] if working else []
            ),
            "change_errors": forms.remarks_from_errors(change_errors or [], known=CHANGE_FIELDS),
            "change_values": change_values or {},
            "closure_errors": forms.remarks_from_errors(closure_errors or [], known=CLOSURE_FIELDS),
            "closure_values": closure_values or {},
            "upload_errors": upload_errors or [],
            "upload_kind": upload_kind,
            "missing": [DocumentKind(kind) for kind in missing],
            "choices": choice_lists,
            "labels": forms.FIELD_LABELS,
            "fid": forms.field_id,
            "where": forms.where_label,
            "kind_label": lambda kind: DocumentKind(kind).label,
            "type_label": lambda value: OutletType(value).label if value else "",
            "scope_label": lambda value: BusinessScope(value).label,
            "no_preview": DocumentKind.ID_DOCUMENT,
            "S": FilingStatus,
            "L": LicenceStatus,
            "brand_names": brand_names,
            "place": _place(
                session,
                (working or shown.model_dump())["outlet"].get("county_code", ""),
                (working or shown.model_dump())["outlet"].get("township_code", ""),
            ),
            "shown_place": _place(
                session,
                shown.outlet.get("county_code", ""),
                shown.outlet.get("township_code", ""),
            ),
            "done": done,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/my/filings/{filing_id}", response_class=HTMLResponse)
def filing_page(
    request: Request, session: SessionDep, user: OperatorPage, filing_id: Id
) -> Response:
    """Operator of the filing's enterprise (another's is a 404 page)."""
    filing = access.get_for(session, filing_id, user)
    return _filing_page(request, session, user, filing)


@router.post("/my/filings/{filing_id}", response_class=HTMLResponse)
def save_filing(
    request: Request, session: SessionDep, user: OperatorPage, form: Form, filing_id: Id
) -> Response:
    """Operator. `保存草稿`: edits the draft, the returned submission or the open change, as
    PATCH /api/v1/filings/{id} does (the whole form: every section, and a change's 变更日期)."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    values = forms.values_from_form(form)
    content = forms.content_from_values(values)
    validated, errors = _validated(FilingContent, content)
    patch: dict[str, Any] = {}
    if validated is not None:
        patch = validated.model_dump(mode="json")
        patch["partner"] = patch.get("partner")
    if filing.current_revision_id is not None:
        body, patch_errors = _validated(FilingPatch, {"changed_on": values["changed_on"] or None})
        errors += patch_errors
        if body is not None:
            patch["changed_on"] = body.changed_on
    if not errors:
        errors = _in_savepoint(
            session, lambda: actions.update(session, filing, actor=user, patch=patch)
        )
    if errors:
        return _filing_page(
            request, session, user, filing, values=values, errors=errors, status_code=422
        )
    return RedirectResponse(f"/my/filings/{filing_id}?done=saved", status_code=303)


@router.post("/my/filings/{filing_id}/submit", response_class=HTMLResponse)
def submit_filing(
    request: Request, session: SessionDep, user: OperatorPage, form: Form, filing_id: Id
) -> Response:
    """Operator. `提交备案`: submits the draft, the corrected submission or the open change."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    errors = _in_savepoint(session, lambda: actions.submit(session, filing, actor=user))
    if errors:
        return _filing_page(request, session, user, filing, errors=errors, status_code=422)
    return RedirectResponse(f"/my/filings/{filing_id}?done=submitted", status_code=303)


@router.post("/my/filings/{filing_id}/changes", response_class=HTMLResponse)
def open_change(
    request: Request, session: SessionDep, user: OperatorPage, form: Form, filing_id: Id
) -> Response:
    """Operator. `申请变更` with `变更日期`: opens a change of a filed outlet (the form then edits
    the change), as POST /api/v1/filings/{id}/changes does."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    typed = {"changed_on": str(form.get("changed_on", "")).strip()[:32]}
    body, errors = _validated(ChangeOpen, {"changed_on": typed["changed_on"] or None})
    if body is not None and body.changed_on is None:
        errors = [FieldError("changed_on", "missing", "请填写变更日期（变更发生之日）")]
    if not errors:
        errors = _in_savepoint(
            session,
            lambda: actions.open_new_change(
                session, filing, actor=user, changed_on=body.changed_on, reason=None
            ),
        )
    if errors:
        return _filing_page(
            request,
            session,
            user,
            filing,
            change_errors=errors,
            change_values=typed,
            status_code=422,
        )
    return RedirectResponse(f"/my/filings/{filing_id}?done=change", status_code=303)


@router.post("/my/filings/{filing_id}/closure", response_class=HTMLResponse)
def close_filing(
    request: Request, session: SessionDep, user: OperatorPage, form: Form, filing_id: Id
) -> Response:
    """Operator. `停业` with `停业日期` and `停业原因`, as POST /api/v1/filings/{id}/closure."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    typed = {
        "closed_on": str(form.get("closed_on", "")).strip()[:32],
        "reason": str(form.get("reason", "")).strip()[:2000],
    }
    body, errors = _validated(Closure, {k: v for k, v in typed.items() if v})
    if not errors:
        errors = _in_savepoint(
            session,
            lambda: actions.close(
                session, filing, actor=user, closed_on=body.closed_on, reason=body.reason
            ),
        )
    if errors:
        return _filing_page(
            request,
            session,
            user,
            filing,
            closure_errors=errors,
            closure_values=typed,
            status_code=422,
        )
    return RedirectResponse(f"/my/filings/{filing_id}?done=closed", status_code=303)


# --- documents -----------------------------------------------------------------------------------


@router.post("/my/filings/{filing_id}/documents", response_class=HTMLResponse)
@reads_first
async def upload_document(
    request: Request, session: SessionDep, user: OperatorPage, filing_id: Id
) -> Response:
    """Operator. `文件类别` + `选择文件` + `上传`: PDF, JPEG or PNG judged by content, streamed
    and checked as POST /api/v1/filings/{id}/documents does; a refused file stores nothing."""
    await run_in_threadpool(access.get_for, session, filing_id, user)  # 404 before any upload
    kind_typed: list[str] = []

    def check_fields(fields: dict[str, str]) -> None:
        check_csrf(request, fields)
        kind = fields.get("kind", "")
        kind_typed.append(kind)
        if kind not in DocumentKind.values():
            raise ValidationFailed.single("kind", "validation_error", "请选择文件类别")

    def attach(upload: CheckedUpload) -> None:
        filing = access.get_for(session, filing_id, user, for_update=True)
        documents.add_document(
            session,
            filing,
            actor=user,
            file=documents.StoredFile(
                upload.fields["kind"],
                upload.filename,
                upload.content_type,
                upload.size,
                upload.sha256,
            ),
        )

    try:
        await store_checked_upload(request, session, attach, check_fields=check_fields)
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
            filing = access.get_for(session, filing_id, user)
            return _filing_page(
                request,
                session,
                user,
                filing,
                upload_errors=messages,
                upload_kind=kind_typed[0] if kind_typed else "",
                status_code=status,
            )

        return await run_in_threadpool(again)
    return RedirectResponse(f"/my/filings/{filing_id}?done=uploaded#documents", status_code=303)


@router.post("/my/filings/{filing_id}/documents/{document_id}/delete")
def delete_document(
    request: Request,
    session: SessionDep,
    user: OperatorPage,
    form: Form,
    filing_id: Id,
    document_id: Id,
) -> Response:
    """Operator. Removes a document from the draft, returned submission or open change."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    documents.remove_document(session, filing, actor=user, document_id=document_id)
    return RedirectResponse(f"/my/filings/{filing_id}?done=deleted#documents", status_code=303)


@router.get("/my/filings/{filing_id}/documents/{document_id}")
def view_document(
    session: SessionDep, user: OperatorPage, filing_id: Id, document_id: Id
) -> StreamingResponse:
    """Operator of the filing. The file, shown in the browser (images are previewed on the
    filing page); reading a person's ID document is audited, as in the API."""
    filing = access.get_for(session, filing_id, user)
    document = queries.find_document(session, filing, document_id)
    if document.kind == DocumentKind.ID_DOCUMENT:
        session.commit()  # a reader cannot start writing on SQLite: begin a writer for the audit
        begin_session(session, for_write=True)
        documents.record_document_read(session, filing, document, actor=user)
    try:
        handle = get_storage().open(document.sha256)
    except FileNotFoundError as error:
        raise NotFound("文件内容不存在") from error
    return StreamingResponse(
        _chunks(handle),
        media_type=document.content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(document.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(64 * 1024), b"")


# --- the receipt ---------------------------------------------------------------------------------


@router.get("/my/receipts/{receipt_no}/pdf")
def receipt_pdf_file(session: SessionDep, user: OperatorPage, receipt_no: str) -> Response:
    """Operator of the filing. `下载回执`: the receipt PDF, with the check of
    GET /api/v1/receipts/{no}/pdf (another enterprise's receipt is a 404 page)."""
    receipt = issuing.get_receipt(session, receipt_no)
    access.get_for(session, receipt.filing_id, user)
    revision = session.get(FilingRevision, receipt.revision_id)
    assert revision is not None
    content = receipt_pdf.render(receipt, person_in_charge=revision.person_in_charge["name"])
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{receipt_no}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
