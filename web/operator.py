"""The operator's filing pages (SPEC §9): `/my/filings` (its enterprise's filings, what to do
next, its notices), `/my/filings/new` and `/my/filings/{id}` (the form in fieldsets, documents,
submission, corrections, the receipt, a change, a closure).

Every write goes through the same schemas and services as the API (services/filings/actions.py,
documents.py); an error is shown next to the field or document it concerns and the form keeps
what was typed. Every POST checks the CSRF token first. A filing of another enterprise is a 404
page (access.get_for), as the API's 404.
"""

import re
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.datastructures import FormData

from core import clock
from core.config import get_settings
from domain.documents import PayloadTooLarge, UnsupportedMediaType, size_text
from domain.errors import FieldError, ValidationFailed, VersionConflict
from domain.vocabulary import (
    BusinessScope,
    DocumentKind,
    FilingStatus,
    LicenceStatus,
    OutletType,
    RevisionStatus,
)
from models.base import aware, pk
from models.filing import Filing
from models.user import User
from schemas.common import Id
from schemas.filings import ChangeOpen, Closure, FilingContent, FilingPatch
from services import idempotency
from services.filings import access, actions, documents, presenters, queries, rules
from services.notifications import inbox
from services.receipts import pdf as receipt_pdf
from services.reference import regions
from web import operator_forms as forms
from web.account import Form
from web.deps import SessionDep, reads_first
from web.documents import inline_document
from web.forms import in_savepoint, validated
from web.session import OperatorPage, check_csrf, render
from web.templating import templates
from web.uploads import CheckedUpload, store_checked_upload

router = APIRouter(tags=["pages"], include_in_schema=False)

CONFLICT_MESSAGE = (
    "另一位用户已修改此备案，您的修改尚未保存。页面已显示最新的备案状态和您填写的内容，"
    "请核对后重新提交。"
)
NONCE_KEY = "page:new-filing:"  # + the form's nonce: an Idempotency-Key of the user
NONCE_BYTES = 18
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
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


DEADLINE_TEXT = {
    "review": "审核期限 {on}",
    "filing": "应于 {on} 前提交",
    "change": "变更应于 {on} 前提交",
}


def _due(row: queries.FilingRow) -> str:
    """The deadline that matters now (presenters.deadline), in words."""
    found = presenters.deadline(row)
    return DEADLINE_TEXT[found.kind].format(on=found.on.isoformat()) if found else ""


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
        order, step, receipt_no = presenters.next_step(row)
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
        {
            "items": items,
            "total": total,
            "notices": shown_notices,
            "unread": unread,
            "limits": _limits(),
        },
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


def _limits() -> dict[str, Any]:
    """The deadlines and limits the pages state, from the rules that enforce them."""
    return {
        "filing_days": rules.FILING_DAYS,
        "change_days": rules.CHANGE_DAYS,
        "max_upload_bytes": get_settings().max_upload_bytes,
        "max_upload": size_text(get_settings().max_upload_bytes),
    }


def _place(session: Session, county_code: str, township_code: str) -> str:
    names = [regions.get_region(session, code) for code in (county_code, township_code)]
    return " ".join(region.name for region in names if region is not None)


# --- the form ------------------------------------------------------------------------------------


def _stale(filing: Filing, form: FormData) -> bool:
    """Whether the form's hidden `version` is not the filing's, checked as the API's If-Match:
    a form shown before someone else's write is refused, not applied over it."""
    version = form.get("version")
    try:
        access.check_form_version(filing, version if isinstance(version, str) else None)
    except VersionConflict:
        return True
    return False


def _nonce(form: FormData) -> str | None:
    """The new-filing form's one-time nonce (None when missing or malformed)."""
    nonce = form.get("form_nonce")
    if isinstance(nonce, str) and NONCE_PATTERN.fullmatch(nonce):
        return nonce
    return None


def _form_page(
    request: Request,
    session: Session,
    user: User,
    values: Mapping[str, Any],
    errors: list[FieldError],
    *,
    nonce: str | None = None,
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
            "form_nonce": nonce or secrets.token_urlsafe(NONCE_BYTES),
            "limits": _limits(),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/my/filings/new", response_class=HTMLResponse)
def new_filing(request: Request, session: SessionDep, user: OperatorPage) -> Response:
    """Operator (approved enterprise). An empty filing form (with a one-time nonce)."""
    return _form_page(request, session, user, forms.empty_values(), [])


@router.post("/my/filings/new", response_class=HTMLResponse)
def create_filing(
    request: Request, session: SessionDep, user: OperatorPage, form: Form
) -> Response:
    """Operator. `保存草稿`: creates the draft as POST /api/v1/filings does. The form's one-time
    nonce is claimed as an Idempotency-Key of the user (services/idempotency.py): a second post
    of the same form (a double click) creates nothing and goes to the draft the first made."""
    check_csrf(request, form)
    values = forms.values_from_form(form)
    content = forms.content_from_values(values)
    nonce = _nonce(form)
    _, errors = validated(FilingContent, content)
    created: list[str] = []

    def create() -> None:
        record = None
        if nonce is not None:
            record = idempotency.claim(
                session, user_id=pk(user), key=NONCE_KEY + nonce, fingerprint=NONCE_KEY
            )
        filing = actions.create(session, operator=user, raw=content)
        created.append(f"/my/filings/{pk(filing)}?done=saved")
        if record is not None:
            idempotency.complete(
                session, record, status_code=303, body={"location": created[0]}, headers={}
            )

    if not errors:
        try:
            errors = in_savepoint(session, create)
        except idempotency.Replay as replay:  # this form was saved already
            return RedirectResponse(str(replay.body["location"]), status_code=303)
    if errors:
        return _form_page(request, session, user, values, errors, nonce=nonce, status_code=422)
    return RedirectResponse(created[0], status_code=303)


# --- one filing ----------------------------------------------------------------------------------


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
    conflict: bool = False,
    status_code: int = 200,
) -> Response:
    """The filing page; `conflict`: the form was stale (CONFLICT_MESSAGE on top, what was typed
    kept in its form, the hidden versions now the filing's)."""
    shown = presenters.present(session, filing)
    working, is_change = presenters.working_view(shown)
    editable = working is not None and working["status"] in presenters.EDITABLE_STATUSES
    missing: list[str] = []
    if working is not None:
        missing = queries.missing_documents(
            session, filing, queries.working_revision(session, filing)
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
            "conflict": CONFLICT_MESSAGE if conflict else "",
            "licence_blocks": shown.licence is not None
            and not rules.licence_allows_filing(shown.licence.status),
            "limits": _limits(),
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
    if _stale(filing, form):
        return _filing_page(
            request, session, user, filing, values=values, conflict=True, status_code=409
        )
    content = forms.content_from_values(values)
    filled, errors = validated(FilingContent, content)
    patch: dict[str, Any] = {}
    if filled is not None:
        patch = filled.model_dump(mode="json")
        patch["partner"] = patch.get("partner")
    if filing.current_revision_id is not None:
        body, patch_errors = validated(FilingPatch, {"changed_on": values["changed_on"] or None})
        errors += patch_errors
        if body is not None:
            patch["changed_on"] = body.changed_on
    if not errors:
        errors = in_savepoint(
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
    if _stale(filing, form):
        return _filing_page(request, session, user, filing, conflict=True, status_code=409)
    errors = in_savepoint(session, lambda: actions.submit(session, filing, actor=user))
    if errors:
        return _filing_page(request, session, user, filing, errors=errors, status_code=422)
    return RedirectResponse(f"/my/filings/{filing_id}?done=submitted", status_code=303)


@router.post("/my/filings/{filing_id}/changes", response_class=HTMLResponse)
def open_change(
    request: Request, session: SessionDep, user: OperatorPage, form: Form, filing_id: Id
) -> Response:
    """Operator. `申请变更` with `变更日期`: opens a change of a filed outlet (the form then edits
    the change), as POST /api/v1/filings/{id}/changes does: 变更日期 may be left empty until the
    change is submitted (the submit requires it)."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    typed = {"changed_on": str(form.get("changed_on", "")).strip()[:32]}
    if _stale(filing, form):
        return _filing_page(
            request, session, user, filing, change_values=typed, conflict=True, status_code=409
        )
    body, errors = validated(ChangeOpen, {"changed_on": typed["changed_on"] or None})
    if not errors:
        errors = in_savepoint(
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
    if _stale(filing, form):
        return _filing_page(
            request, session, user, filing, closure_values=typed, conflict=True, status_code=409
        )
    body, errors = validated(Closure, {k: v for k, v in typed.items() if v})
    if not errors:
        errors = in_savepoint(
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
        await store_checked_upload(
            request,
            session,
            attach,
            check_fields=check_fields,
            before_file=lambda fields: check_csrf(request, fields),  # before the file is read
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
    if _stale(filing, form):
        return _filing_page(request, session, user, filing, conflict=True, status_code=409)
    documents.remove_document(session, filing, actor=user, document_id=document_id)
    return RedirectResponse(f"/my/filings/{filing_id}?done=deleted#documents", status_code=303)


@router.get("/my/filings/{filing_id}/documents/{document_id}")
def view_document(
    session: SessionDep, user: OperatorPage, filing_id: Id, document_id: Id
) -> StreamingResponse:
    """Operator of the filing. The file, shown in the browser (images are previewed on the
    filing page); reading a person's ID document is audited, as in the API."""
    filing = access.get_for(session, filing_id, user)
    return inline_document(session, filing, document_id, user)


# --- the receipt ---------------------------------------------------------------------------------


@router.get("/my/receipts/{receipt_no}/pdf")
def receipt_pdf_file(session: SessionDep, user: OperatorPage, receipt_no: str) -> Response:
    """Operator of the filing. `下载回执`: the receipt PDF, with the check of
    GET /api/v1/receipts/{no}/pdf (another enterprise's receipt is a 404 page)."""
    receipt = receipt_pdf.visible_receipt(session, user, receipt_no)
    content = receipt_pdf.render_stored(session, receipt)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{receipt_no}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
