"""The reviewer's pages (SPEC §9): `/review` (the queue inside the jurisdiction, earliest due
first), `/review/filings/{id}` (every field, what a change alters, the documents inline, the
history; `通过`, `退回` with its corrections, `撤销`) and `/review/enterprises` (registrations and
registration changes awaiting a decision: `批准`, `驳回`).

Every decision goes through the same schemas and services as the API (services/filings/actions.py,
services/accounts/enterprises.py); every POST checks the CSRF token first. A filing or enterprise
outside the jurisdiction is a 404 page (access.get_for, enterprises.get_within), as in the API.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from core import clock
from domain import working_days
from domain.errors import FieldError
from domain.vocabulary import (
    BusinessScope,
    ChangeDecision,
    Decision,
    DocumentKind,
    EnterpriseStatus,
    FilingAction,
    FilingStatus,
    OutletType,
    RevisionStatus,
)
from models.base import aware
from models.enterprise import Enterprise
from models.filing import Filing
from models.user import User
from schemas.common import Id, Offset
from schemas.enterprises import Approval, ChangeReview, Rejection
from schemas.filings import ReviewDecision, Revocation
from services.accounts import enterprises
from services.filings import access, actions, diff, presenters, queries
from services.reference import brands as brand_list
from services.reference import calendar as working_calendar
from services.reference import regions
from web import operator_forms as forms
from web.account import Form
from web.deps import SessionDep
from web.documents import inline_document
from web.forms import in_savepoint, validated
from web.operator import CONFLICT_MESSAGE, _stale
from web.session import ReviewerPage, check_csrf, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)

QUEUE_LIMIT = 50
EMPTY_ROWS = 3  # the return form's rows without JavaScript (`增加补正项` adds one)
MAX_ROWS = 50  # as ReviewDecision.corrections
DONE = {
    "accepted": "已通过，备案回执已签发。",
    "returned": "已退回，补正通知已发送给企业。",
    "revoked": "备案已撤销。",
    "approved": "企业登记已批准。",
    "rejected": "企业登记已驳回。",
    "change_accepted": "已同意企业登记信息变更。",
    "change_rejected": "已不予变更企业登记信息。",
}


def _place(session: Session, *codes: str) -> str:
    names = [regions.get_region(session, code) for code in codes if code]
    return " ".join(region.name for region in names if region is not None)


def _days_left(session: Session, due: Any) -> int | None:
    """Working days from today to the due date (negative: overdue by that many)."""
    if due is None:
        return None
    today, calendar = clock.today(), working_calendar.current(session)
    if due >= today:
        return working_days.working_days_between(today, due, calendar)
    return -max(1, working_days.working_days_between(due, today, calendar))


def _pending_enterprises(session: Session, user: User) -> tuple[list[Enterprise], list[Enterprise]]:
    """Registrations awaiting approval, and approved enterprises with a change awaiting review."""
    pending = enterprises.list_within(
        session, within=user.jurisdiction, status=EnterpriseStatus.PENDING
    )
    changes = [
        enterprise
        for enterprise in enterprises.list_within(
            session, within=user.jurisdiction, status=EnterpriseStatus.APPROVED
        )
        if enterprise.pending_change is not None
    ]
    return pending, changes


# --- the queue -----------------------------------------------------------------------------------


@router.get("/review", response_class=HTMLResponse)
def review_queue(
    request: Request,
    session: SessionDep,
    user: ReviewerPage,
    county: str = "",
    status: str = "",
    brand: str = "",
    offset: Offset = 0,
) -> Response:
    """Reviewer or admin. The submissions it decides, earliest due first (as GET
    /api/v1/filings?queue=true), with the working days left."""
    county, status, brand = county[:12], status[:16], brand[:64]
    filters = queries.ListFilters(
        county=county or None, status=status or None, brand=brand or None, queue=True
    )
    rows, total = queries.list_filings(session, user, filters, limit=QUEUE_LIMIT, offset=offset)
    brand_names = {b.code: b.name for b in brand_list.list_brands(session)}
    items = []
    for row, summary in zip(rows, presenters.summaries(session, rows), strict=True):
        working = presenters.working_of(row)
        items.append(
            {
                "summary": summary,
                "is_change": row.change is not None,
                "late": working.late if working is not None else summary.late,
                "days_left": _days_left(session, summary.review_due_on),
                "place": _place(session, summary.county_code, summary.township_code),
                "brands": "、".join(brand_names.get(code, code) for code in summary.brands),
            }
        )
    pending, changes = _pending_enterprises(session, user)
    kept = {"county": county, "status": status, "brand": brand}
    query = {k: v for k, v in kept.items() if v}
    return render(
        templates,
        request,
        "review_queue.html",
        {
            "items": items,
            "total": total,
            "offset": offset,
            "limit": QUEUE_LIMIT,
            "filters": kept,
            "counties": forms.choices(session).counties,
            "statuses": [
                (FilingStatus.SUBMITTED.value, "新备案"),
                (FilingStatus.FILED.value, "变更"),
            ],
            "brands": sorted(brand_names.items()),
            "prev_url": (
                "/review?" + urlencode({**query, "offset": max(0, offset - QUEUE_LIMIT)})
                if offset
                else ""
            ),
            "next_url": (
                "/review?" + urlencode({**query, "offset": offset + QUEUE_LIMIT})
                if offset + QUEUE_LIMIT < total
                else ""
            ),
            "awaiting": len(pending) + len(changes),
        },
        user=user,
    )


# --- one filing ----------------------------------------------------------------------------------


def _target_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """What a correction may name: the filing's fields and the document kinds, in Chinese."""
    fields = [(f"field:{name}", label) for name, label in forms.FIELD_LABELS.items()]
    kinds = [(f"document:{kind.value}", kind.label) for kind in DocumentKind]
    return [("填报内容", fields), ("文件", kinds)]


def _rows_from_form(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """The return form's rows as typed (`corrections.N.target`, `corrections.N.reason`)."""
    rows: list[dict[str, str]] = []
    for index in range(MAX_ROWS + 1):
        target, reason = (
            form.get(f"corrections.{index}.target"),
            form.get(f"corrections.{index}.reason"),
        )
        if target is None and reason is None:
            break
        rows.append(
            {
                "target": str(target or "").strip()[:80],
                "reason": str(reason or "").strip()[:2000],
            }
        )
    return rows[:MAX_ROWS]


def _corrections(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[int]]:
    """The API's corrections from the rows filled in (empty rows left out), and the row each
    came from (to show an error next to it)."""
    items: list[dict[str, str]] = []
    origin: list[int] = []
    for index, row in enumerate(rows):
        if not row["target"] and not row["reason"]:
            continue
        item: dict[str, str] = {"reason": row["reason"]} if row["reason"] else {}
        kind, _, name = row["target"].partition(":")
        if kind in ("field", "document") and name:
            item[kind] = name
        items.append(item)
        origin.append(index)
    return items, origin


def _row_errors(
    errors: list[FieldError], origin: list[int]
) -> tuple[dict[int, list[str]], list[str]]:
    """Errors by the row they concern (`corrections.N…` of the API's list), and the others."""
    by_row: dict[int, list[str]] = {}
    general: list[str] = []
    for error in errors:
        parts = error.field.split(".")
        if len(parts) >= 2 and parts[0] == "corrections" and parts[1].isdigit():
            position = int(parts[1])
            if position < len(origin):
                by_row.setdefault(origin[position], []).append(error.message)
                continue
        general.append(error.message)
    return by_row, general


def _status_label(status: str | None) -> str:
    """A filing's or a revision's status in Chinese (the history records both)."""
    for vocabulary in (FilingStatus, RevisionStatus):
        if status in vocabulary.values():
            return vocabulary(status).label
    return status or ""


def _history(session: Session, filing: Filing) -> list[dict[str, Any]]:
    shown = []
    for event, name in queries.history(session, filing):
        try:
            action = FilingAction(event.action).label
        except ValueError:
            action = event.action
        shown.append(
            {
                "at": aware(event.at).astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
                "action": action,
                "revision": event.revision,
                "actor": name or "",
                "to": _status_label(event.to_status),
                "detail": event.detail,
            }
        )
    return shown


def _diff_rows(session: Session, filing: Filing) -> list[dict[str, str]]:
    """What the open change alters against the revision in force, in words."""
    current = queries.revision(session, filing.current_revision_id)
    change = queries.open_change(session, filing)
    if current is None or change is None:
        return []
    brand_names = {b.code: b.name for b in brand_list.list_brands(session)}
    rows = []
    for found in diff.compare(session, current, change):
        if found.field.startswith("documents."):
            before, after = f"{found.before} 个文件", f"{found.after} 个文件"
        else:
            before = _words(session, found.field, found.before, brand_names)
            after = _words(session, found.field, found.after, brand_names)
        rows.append({"label": forms.where_label(found.field), "before": before, "after": after})
    return rows


def _words(session: Session, name: str, value: Any, brand_names: Mapping[str, str]) -> str:
    """A field's value as a reviewer reads it."""
    if value is None or value == "" or value == []:
        return "（空）"
    if name == "outlet.type":
        return OutletType(value).label
    if name == "outlet.scope":
        return "、".join(BusinessScope(v).label for v in value)
    if name == "outlet.brands":
        return "、".join(brand_names.get(v, v) for v in value)
    if name in ("outlet.county_code", "outlet.township_code"):
        return _place(session, value) or str(value)
    if name == "outlet.has_cctv":
        return "有" if value else "无"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _filing_page(
    request: Request,
    session: Session,
    user: User,
    filing: Filing,
    *,
    rows: list[dict[str, str]] | None = None,
    row_errors: dict[int, list[str]] | None = None,
    return_errors: list[str] | None = None,
    revoke_reason: str = "",
    revoke_errors: list[str] | None = None,
    accept_errors: list[str] | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> Response:
    shown = presenters.present(session, filing)
    working, is_change = presenters.working_view(shown)
    deciding = working is not None and working["status"] == RevisionStatus.SUBMITTED
    content = working or shown.model_dump(mode="json")
    rows = rows or []
    rows = rows + [{"target": "", "reason": ""}] * max(0, EMPTY_ROWS - len(rows))
    brand_names = {b.code: b.name for b in brand_list.list_brands(session)}
    return render(
        templates,
        request,
        "review_filing.html",
        {
            "filing": shown,
            "status_label": FilingStatus(shown.status).label,
            "working": working,
            "working_label": RevisionStatus(working["status"]).label if working else "",
            "is_change": is_change,
            "deciding": deciding,
            "content": content,
            "place": _place(
                session,
                content["outlet"].get("county_code", ""),
                content["outlet"].get("township_code", ""),
            ),
            # The revision under review's own documents, even when it has none yet.
            "docs": working["documents"]
            if working is not None
            else [d.model_dump() for d in shown.documents],
            "diff": _diff_rows(session, filing) if is_change else [],
            "history": _history(session, filing),
            "days_left": (
                _days_left(session, queries.working_revision(session, filing).review_due_on)
                if deciding
                else None
            ),
            "due_on": (working or {}).get("review_due_on"),
            "rows": rows,
            "row_errors": row_errors or {},
            "return_errors": return_errors or [],
            "targets": _target_choices(),
            "revoke_reason": revoke_reason,
            "revoke_errors": revoke_errors or [],
            "accept_errors": accept_errors or [],
            "conflict": CONFLICT_MESSAGE if conflict else "",
            "done": DONE.get(request.query_params.get("done", "")),
            "brand_names": brand_names,
            "type_label": lambda value: OutletType(value).label if value else "",
            "scope_label": lambda value: BusinessScope(value).label,
            "kind_label": lambda kind: DocumentKind(kind).label,
            "no_preview": DocumentKind.ID_DOCUMENT,
            "where": forms.where_label,
            "S": FilingStatus,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/review/filings/{filing_id}", response_class=HTMLResponse)
def review_filing(
    request: Request, session: SessionDep, user: ReviewerPage, filing_id: Id
) -> Response:
    """Reviewer or admin covering the filing (another county's is a 404 page)."""
    filing = access.get_for(session, filing_id, user)
    return _filing_page(request, session, user, filing)


@router.post("/review/filings/{filing_id}/accept", response_class=HTMLResponse)
def accept_filing(
    request: Request, session: SessionDep, user: ReviewerPage, form: Form, filing_id: Id
) -> Response:
    """`通过`: accepts the submission (a filing number and receipt are issued at once), as POST
    /api/v1/filings/{id}/review with `{"decision": "accept"}`."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    if _stale(filing, form):
        return _filing_page(request, session, user, filing, conflict=True, status_code=409)
    errors = in_savepoint(session, lambda: actions.accept(session, filing, reviewer=user))
    if errors:
        return _filing_page(
            request,
            session,
            user,
            filing,
            accept_errors=[e.message for e in errors],
            status_code=422,
        )
    return RedirectResponse(f"/review/filings/{filing_id}?done=accepted", status_code=303)


@router.post("/review/filings/{filing_id}/return", response_class=HTMLResponse)
def return_filing(
    request: Request, session: SessionDep, user: ReviewerPage, form: Form, filing_id: Id
) -> Response:
    """`退回` with rows of `补正项` + `说明`: one notice of every correction, as POST
    /api/v1/filings/{id}/review with `{"decision": "return", "corrections": [...]}`.
    `增加补正项` (without JavaScript) shows the form again with one more row."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    rows = _rows_from_form(form)
    if form.get("action") == "add_row":
        rows = [*rows, {"target": "", "reason": ""}] if len(rows) < MAX_ROWS else rows
        return _filing_page(request, session, user, filing, rows=rows)
    if _stale(filing, form):
        return _filing_page(
            request, session, user, filing, rows=rows, conflict=True, status_code=409
        )
    items, origin = _corrections(rows)
    body, errors = validated(
        ReviewDecision, {"decision": Decision.RETURN.value, "corrections": items}
    )
    if not errors:
        errors = in_savepoint(
            session,
            lambda: actions.return_for_correction(
                session,
                filing,
                reviewer=user,
                corrections=[item.model_dump(exclude_none=True) for item in body.corrections],
            ),
        )
    if errors:
        by_row, general = _row_errors(errors, origin)
        return _filing_page(
            request,
            session,
            user,
            filing,
            rows=rows,
            row_errors=by_row,
            return_errors=general,
            status_code=422,
        )
    return RedirectResponse(f"/review/filings/{filing_id}?done=returned", status_code=303)


@router.post("/review/filings/{filing_id}/revocation", response_class=HTMLResponse)
def revoke_filing(
    request: Request, session: SessionDep, user: ReviewerPage, form: Form, filing_id: Id
) -> Response:
    """`撤销` with `撤销原因`: revokes a filed outlet, as POST /api/v1/filings/{id}/revocation."""
    check_csrf(request, form)
    filing = access.get_for(session, filing_id, user, for_update=True)
    reason = str(form.get("reason", "")).strip()[:2000]
    if _stale(filing, form):
        return _filing_page(
            request, session, user, filing, revoke_reason=reason, conflict=True, status_code=409
        )
    body, errors = validated(Revocation, {"reason": reason} if reason else {})
    if not errors:
        errors = in_savepoint(
            session, lambda: actions.revoke(session, filing, reviewer=user, reason=body.reason)
        )
    if errors:
        return _filing_page(
            request,
            session,
            user,
            filing,
            revoke_reason=reason,
            revoke_errors=[e.message for e in errors],
            status_code=422,
        )
    return RedirectResponse(f"/review/filings/{filing_id}?done=revoked", status_code=303)


@router.get("/review/filings/{filing_id}/documents/{document_id}")
def view_document(
    session: SessionDep, user: ReviewerPage, filing_id: Id, document_id: Id
) -> StreamingResponse:
    """Reviewer or admin covering the filing. The file shown in the browser, with the check of
    GET /api/v1/filings/{id}/documents/{doc}; reading a person's ID document is audited."""
    filing = access.get_for(session, filing_id, user)
    return inline_document(session, filing, document_id, user)


# --- enterprises ---------------------------------------------------------------------------------


def _enterprises_page(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: Mapping[int, list[str]] | None = None,
    typed: Mapping[int, Mapping[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    pending, changes = _pending_enterprises(session, user)
    return render(
        templates,
        request,
        "review_enterprises.html",
        {
            "pending": [{"e": e, "place": _place(session, e.region_code)} for e in pending],
            "changes": [
                {
                    "e": e,
                    "place": _place(session, e.region_code),
                    "fields": [
                        (CHANGE_LABELS.get(k, k), _change_value(session, k, v))
                        for k, v in (e.pending_change or {}).items()
                    ],
                }
                for e in changes
            ],
            "errors": errors or {},
            "typed": typed or {},
            "done": DONE.get(request.query_params.get("done", "")),
        },
        user=user,
        status_code=status_code,
    )


CHANGE_LABELS = {
    "name": "企业名称",
    "uscc": "统一社会信用代码",
    "licence_no": "快递业务经营许可证编号",
    "licence_valid_from": "许可有效期起",
    "licence_valid_until": "许可有效期止",
    "licence_regions": "许可经营地域",
}


def _labelled(errors: list[FieldError]) -> list[str]:
    """Errors of the licence fields, each with the label of its field."""
    return [
        f"{CHANGE_LABELS[e.field]}：{e.message}" if e.field in CHANGE_LABELS else e.message
        for e in errors
    ]


def _change_value(session: Session, name: str, value: Any) -> str:
    if name == "licence_regions" and isinstance(value, list):
        return "、".join(_place(session, str(code)) or str(code) for code in value)
    return str(value)


@router.get("/review/enterprises", response_class=HTMLResponse)
def review_enterprises(request: Request, session: SessionDep, user: ReviewerPage) -> Response:
    """Reviewer or admin. Registrations and registration changes awaiting a decision inside
    the jurisdiction."""
    return _enterprises_page(request, session, user)


@router.post("/review/enterprises/{enterprise_id}/approve", response_class=HTMLResponse)
def approve_enterprise(
    request: Request, session: SessionDep, user: ReviewerPage, form: Form, enterprise_id: Id
) -> Response:
    """`批准` (optionally with the licence validity), as POST /api/v1/enterprises/{id}/approve."""
    check_csrf(request, form)
    enterprise = enterprises.get_within(
        session, enterprise_id, within=user.jurisdiction, for_update=True
    )
    typed = {
        key: str(form.get(key, "")).strip()[:32]
        for key in ("licence_valid_from", "licence_valid_until")
    }
    body, errors = validated(Approval, {k: v for k, v in typed.items() if v})
    if not errors:
        licence = body.model_dump(exclude_unset=True)
        errors = in_savepoint(
            session,
            lambda: enterprises.approve(session, enterprise, approver=user, licence=licence),
        )
    if errors:
        return _enterprises_page(
            request,
            session,
            user,
            errors={enterprise_id: _labelled(errors)},
            typed={enterprise_id: typed},
            status_code=422,
        )
    return RedirectResponse("/review/enterprises?done=approved", status_code=303)


@router.post("/review/enterprises/{enterprise_id}/rejection", response_class=HTMLResponse)
def reject_enterprise(
    request: Request, session: SessionDep, user: ReviewerPage, form: Form, enterprise_id: Id
) -> Response:
    """`驳回` with `驳回原因`, as POST /api/v1/enterprises/{id}/rejection."""
    check_csrf(request, form)
    enterprise = enterprises.get_within(
        session, enterprise_id, within=user.jurisdiction, for_update=True
    )
    reason = str(form.get("reason", "")).strip()[:2000]
    body, errors = validated(Rejection, {"reason": reason} if reason else {})
    if not errors:
        errors = in_savepoint(
            session,
            lambda: enterprises.reject(session, enterprise, reviewer=user, reason=body.reason),
        )
    if errors:
        return _enterprises_page(
            request,
            session,
            user,
            errors={enterprise_id: ["驳回原因：" + e.message for e in errors]},
            typed={enterprise_id: {"reason": reason}},
            status_code=422,
        )
    return RedirectResponse("/review/enterprises?done=rejected", status_code=303)


@router.post("/review/enterprises/{enterprise_id}/change-review", response_class=HTMLResponse)
def review_enterprise_change(
    request: Request, session: SessionDep, user: ReviewerPage, form: Form, enterprise_id: Id
) -> Response:
    """`同意变更` or `不予变更` (with an optional reason), as POST
    /api/v1/enterprises/{id}/change-review."""
    check_csrf(request, form)
    enterprise = enterprises.get_within(
        session, enterprise_id, within=user.jurisdiction, for_update=True
    )
    reason = str(form.get("reason", "")).strip()[:2000]
    decision = str(form.get("decision", ""))[:16]
    body, errors = validated(ChangeReview, {"decision": decision, "reason": reason or None})
    if not errors:
        errors = in_savepoint(
            session,
            lambda: enterprises.review_change(
                session, enterprise, reviewer=user, decision=body.decision, reason=body.reason
            ),
        )
    if errors:
        return _enterprises_page(
            request,
            session,
            user,
            errors={enterprise_id: [e.message for e in errors]},
            typed={enterprise_id: {"change_reason": reason}},
            status_code=422,
        )
    done = "change_accepted" if body.decision == ChangeDecision.ACCEPT else "change_rejected"
    return RedirectResponse(f"/review/enterprises?done={done}", status_code=303)
