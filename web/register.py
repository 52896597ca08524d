"""Enterprise registration (SPEC §9 `/register`) and its status for the owner (`/register/status`).

The pages run the API's steps with the API's schema and services: the form becomes the body of
`POST /api/v1/enterprises/register` (or of the owner's `PATCH /enterprises/{id}`), is validated
by the same pydantic model, and every error comes back next to its field, with what was typed
kept (never the password).
"""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from core.config import get_settings
from core.security import hash_password
from domain.errors import (
    DomainError,
    DuplicateUscc,
    DuplicateUsername,
    FieldError,
    RateLimited,
    ValidationFailed,
    from_pydantic,
)
from domain.vocabulary import EnterpriseStatus, RegionLevel
from models.user import User
from schemas.enterprises import EnterpriseRegister, EnterpriseUpdate
from schemas.reference import RegionNode
from services.accounts import enterprises, throttling
from services.reference import regions
from web.account import Form
from web.deps import ClientAddress, SessionDep, run_between_transactions
from web.session import ApplicantPage, PageNotFound, PageUser, check_csrf, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)
M = TypeVar("M", bound=BaseModel)

# The registration's fields, in the order of the form (the API's field names).
TEXT_FIELDS = (
    "name",
    "uscc",
    "licence_no",
    "licence_valid_from",
    "licence_valid_until",
    "region_code",
    "contact_name",
    "contact_mobile",
    "contact_email",
)
ACCOUNT_FIELDS = ("username", "password")
OPTIONAL_FIELDS = ("contact_email", "licence_valid_from", "licence_valid_until")  # "" is null
FORM_FIELDS = (*TEXT_FIELDS, "licence_regions", "is_branch", *ACCOUNT_FIELDS)
# Conflicts that concern one field.
CONFLICT_FIELDS: dict[type[DomainError], str] = {
    DuplicateUscc: "uscc",
    DuplicateUsername: "username",
}
# Where a region may be: the levels offered for the enterprise's seat and its licensed area.
SEAT_LEVELS = (RegionLevel.CITY, RegionLevel.COUNTY)
LICENCE_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
MAX_FIELD = 500  # longer input is cut before it is kept for the page (the schema refuses it)


# --- shared by the registration pages ----------------------------------------------------------


def _flatten(nodes: Iterable[RegionNode]) -> Iterable[RegionNode]:
    for node in nodes:
        yield node
        yield from _flatten(node.children)


def region_choices(session: Session, levels: Iterable[RegionLevel]) -> list[tuple[str, str]]:
    """(code, name) of the regions at `levels`, from the region tree, parents first."""
    wanted = set(levels)
    return [(n.code, n.name) for n in _flatten(regions.region_tree(session)) if n.level in wanted]


def form_values(form: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """What the user typed, to show again: strings, the checked regions and the checkbox."""
    values: dict[str, Any] = {}
    for name in fields:
        if name == "password":
            continue  # never echoed back
        if name == "licence_regions":
            getlist = getattr(form, "getlist", None)
            chosen = getlist(name) if getlist else form.get(name) or []
            values[name] = [str(code)[:12] for code in chosen][:50]
        elif name == "is_branch":
            values[name] = form.get(name) == "true"
        else:
            values[name] = str(form.get(name, "")).strip()[:MAX_FIELD]
    return values


def body_of(values: Mapping[str, Any], form: Mapping[str, Any], fields: Iterable[str]) -> dict:
    """The API's JSON body for the form: empty optional fields are null, no region is none."""
    body: dict[str, Any] = {}
    for name in fields:
        if name == "password":
            body[name] = str(form.get(name, ""))
        elif name == "licence_regions" or name in OPTIONAL_FIELDS:
            body[name] = values[name] or None
        else:
            body[name] = values[name]
    return body


def field_messages(errors: Iterable[FieldError], known: Iterable[str]) -> dict[str, str]:
    """Each error under its form field (`licence_regions.2` under `licence_regions`); errors
    of no field of the form under `""` (shown above the form)."""
    fields = set(known)
    found: dict[str, str] = {}
    for error in errors:
        name = error.field
        while name not in fields and "." in name:
            name = name.rsplit(".", 1)[0]
        key = name if name in fields else ""
        found[key] = f"{found[key]}；{error.message}" if key in found else error.message
    return found


def validated(schema: type[M], body: dict[str, Any]) -> M:
    """The body through the API's schema; its errors as the API's field errors."""
    try:
        return schema.model_validate(body)
    except ValidationError as invalid:
        raise ValidationFailed(from_pydantic(invalid.errors())) from invalid


def errors_of(failure: DomainError, fields: Iterable[str]) -> dict[str, str]:
    if isinstance(failure, ValidationFailed):
        return field_messages(failure.errors, fields)
    field = CONFLICT_FIELDS.get(type(failure), "")
    return {field: failure.message}


# --- registration -------------------------------------------------------------------------------


def _register_page(
    request: Request,
    session: Session,
    user: User | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        templates,
        request,
        "register.html",
        {
            "values": values,
            "errors": errors,
            "seats": region_choices(session, SEAT_LEVELS),
            "licence_choices": region_choices(session, LICENCE_LEVELS),
            "with_account": True,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Public. The enterprise registration form."""
    return _register_page(request, session, user, form_values({}, FORM_FIELDS), {})


@router.post("/register", response_class=HTMLResponse)
def register_submit(
    request: Request, session: SessionDep, address: ClientAddress, user: PageUser, form: Form
) -> Response:
    """Public. As `POST /api/v1/enterprises/register`: the registration is counted against the
    client address's hourly share (committed first), the password hashed with no transaction
    open, then the pending enterprise and its owner account are written."""
    check_csrf(request, form)
    values = form_values(form, FORM_FIELDS)
    try:
        body = validated(EnterpriseRegister, body_of(values, form, FORM_FIELDS))
        throttling.count_registration(session, address)
        password_hash = run_between_transactions(session, lambda: hash_password(body.password))
        enterprises.register(
            session, **body.model_dump(exclude={"password"}), password_hash=password_hash
        )
    except RateLimited as limited:
        page = _register_page(request, session, user, values, {"": limited.message}, 429)
        page.headers["Retry-After"] = str(limited.retry_after_seconds)
        return page
    except (ValidationFailed, DuplicateUscc, DuplicateUsername) as failed:
        status = 422 if isinstance(failed, ValidationFailed) else 409
        errors = errors_of(failed, FORM_FIELDS)
        return _register_page(request, session, user, values, errors, status)
    return RedirectResponse("/register/done", status_code=303)


@router.get("/register/done", response_class=HTMLResponse)
def register_done(request: Request, user: PageUser) -> Response:
    """Public. What happens after a registration."""
    settings = get_settings()
    return render(
        templates,
        request,
        "register_done.html",
        {"by_email": bool(settings.smtp_url), "by_sms": bool(settings.sms_webhook_url)},
        user=user,
    )


# --- the owner's status, corrections and resubmission ------------------------------------------

UPDATE_FIELDS = (*TEXT_FIELDS, "licence_regions", "is_branch")
SAVED_NOTICES = {
    "saved": "修改已保存。确认无误后请点击“重新提交”。",
    "resubmitted": "已重新提交，请等待审核。",
}


def _current_values(session: Session, user: User) -> tuple[dict[str, Any], Any]:
    enterprise = enterprises.get_visible(session, _enterprise_id(user), user=user)
    shown = enterprises.present(enterprise)
    values = shown.model_dump(include=set(UPDATE_FIELDS))
    for name in ("licence_valid_from", "licence_valid_until"):
        values[name] = values[name].isoformat() if values[name] else ""
    values["contact_email"] = values["contact_email"] or ""
    return values, shown


def _enterprise_id(user: User) -> int:
    if user.enterprise_id is None:
        raise PageNotFound()
    return user.enterprise_id


def _status_page(
    request: Request,
    session: Session,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    current, shown = _current_values(session, user)
    region_names = dict(region_choices(session, LICENCE_LEVELS))
    return render(
        templates,
        request,
        "register_status.html",
        {
            "enterprise": shown,
            "status": EnterpriseStatus(shown.status),
            "statuses": EnterpriseStatus,
            "region_names": region_names,
            "values": values if values is not None else current,
            "errors": errors or {},
            "notice": notice,
            "seats": region_choices(session, SEAT_LEVELS),
            "licence_choices": region_choices(session, LICENCE_LEVELS),
            "with_account": False,
            "can_edit": user.is_owner and shown.status == EnterpriseStatus.REJECTED,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/register/status", response_class=HTMLResponse)
def register_status(
    request: Request, session: SessionDep, user: ApplicantPage, notice: str = ""
) -> Response:
    """An operator: its enterprise's registration, pending, rejected (with the reason and,
    for the owner, the form to correct and resubmit it) or approved."""
    return _status_page(request, session, user, notice=SAVED_NOTICES.get(notice))


@router.post("/register/status", response_class=HTMLResponse)
def register_correct(
    request: Request, session: SessionDep, user: ApplicantPage, form: Form
) -> Response:
    """The owner of a rejected registration: corrects it (as `PATCH /enterprises/{id}`) and,
    with `重新提交`, sends it back for approval (as `POST .../resubmission`)."""
    check_csrf(request, form)
    enterprise = enterprises.get_owned(session, _enterprise_id(user), user=user)
    if enterprise.status == EnterpriseStatus.APPROVED:
        return RedirectResponse("/register/status", status_code=303)  # nothing to correct here
    values = form_values(form, UPDATE_FIELDS)
    resubmit = form.get("action") == "resubmit"
    try:
        body = validated(EnterpriseUpdate, body_of(values, form, UPDATE_FIELDS))
        patch = body.model_dump(exclude_unset=True)
        enterprises.update(session, enterprise, owner=user, patch=patch)
        if resubmit:
            enterprises.resubmit(session, enterprise, owner=user)
    except (ValidationFailed, DuplicateUscc) as failed:
        status = 422 if isinstance(failed, ValidationFailed) else 409
        errors = errors_of(failed, UPDATE_FIELDS)
        return _status_page(
            request, session, user, values=values, errors=errors, status_code=status
        )
    done = "resubmitted" if resubmit else "saved"
    return RedirectResponse(f"/register/status?notice={done}", status_code=303)
