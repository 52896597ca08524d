"""The administrator's pages about people and the record (SPEC §9): `/admin/users` (staff
accounts), `/admin/audit` (the trail) and `/admin/calendar` (the working-day years known and
loading a year's holiday file).

The same services as the API (services/accounts/users.py as /api/v1/users, services/oversight/
audit.py as /api/v1/audit, services/reference/calendar.py and services/filings/calendar_years.py
as PUT /api/v1/calendar/{year} and `outlet-filing calendar load`): the pages write no rule of
their own. Every POST checks the CSRF token first (an upload before its file); passwords are
hashed with no transaction open (@reads_first + run_between_transactions), as the API does.
"""

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from core import clock
from core.db import begin_session
from core.security import hash_password
from domain.documents import PayloadTooLarge
from domain.errors import DuplicateUsername, FieldError, Forbidden, ValidationFailed, from_pydantic
from domain.vocabulary import CalendarDayKind, Role
from models.base import aware, pk
from models.user import User
from schemas.accounts import UserCreate, UserUpdate
from schemas.common import Id
from services.accounts import users as accounts
from services.filings import calendar_years
from services.oversight import audit
from services.reference import calendar as working_calendar
from services.reference import regions
from web.account import Form
from web.deps import SessionDep, reads_first, run_between_transactions
from web.session import AdminPage, check_csrf, render
from web.templating import templates
from web.uploads import receive_multipart

router = APIRouter(tags=["pages"], include_in_schema=False)

CITY_ONLY = "工作日历全市通用，只有市级以上管理人员可以导入"


# --- the working-day calendar -------------------------------------------------------------------


def _years(session: Session) -> list[dict[str, Any]]:
    rows = []
    for year in working_calendar.known_years(session):
        view = working_calendar.year_view(session, year)
        holidays = sum(day.kind == CalendarDayKind.HOLIDAY for day in view.days)
        rows.append(
            {
                "year": year,
                "source": view.source.label if view.source else "尚无（暂按周一至周五计算期限）",
                "known": view.source is not None,
                "loaded_at": (
                    view.loaded_at.astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M")
                    if view.loaded_at
                    else ""
                ),
                "holidays": holidays,
                "workdays": len(view.days) - holidays,
            }
        )
    return rows


def _calendar_page(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("loaded", "")
    return render(
        templates,
        request,
        "admin_calendar.html",
        {
            "years": _years(session),
            "errors": errors or [],
            "loaded": done if done.isdigit() else "",
        },
        user=user,
        status_code=status_code,
    )


@router.get("/admin/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, session: SessionDep, user: AdminPage) -> Response:
    """City-level admins (a county admin's is a 403 page): the years and their sources."""
    regions.require_city_level(user.jurisdiction, CITY_ONLY)
    return _calendar_page(request, session, user)


@router.post("/admin/calendar", response_class=HTMLResponse)
@reads_first
async def load_calendar(request: Request, session: SessionDep, user: AdminPage) -> Response:
    """`节假日文件` + `导入`: a UTF-8 CSV `date,kind,note` replacing its year, as PUT
    /api/v1/calendar/{year}; every problem shown in Chinese, by line."""
    regions.require_city_level(user.jurisdiction, CITY_ONLY)
    try:
        form = await receive_multipart(request, before_file=lambda f: check_csrf(request, f))
    except PayloadTooLarge as refused:
        too_large = [refused.message]
        return await run_in_threadpool(
            lambda: _calendar_page(request, session, user, errors=too_large, status_code=413)
        )
    except ValidationFailed as failed:
        messages = [error.message for error in failed.errors]
        return await run_in_threadpool(
            lambda: _calendar_page(request, session, user, errors=messages, status_code=422)
        )
    check_csrf(request, form.fields)  # also when no file part came
    upload = form.file
    try:
        if upload is not None:
            upload.finish()  # written out: now it can be read
        raw = upload.path.read_bytes() if upload is not None else b""
    finally:
        if upload is not None:
            upload.discard()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None

    def load() -> Response:
        if upload is None or not raw:
            return _calendar_page(
                request, session, user, errors=["请选择要导入的 CSV 文件"], status_code=422
            )
        if text is None:
            return _calendar_page(
                request, session, user, errors=["文件须为 UTF-8 编码的 CSV"], status_code=422
            )
        try:
            entries = working_calendar.parse_csv(text)
        except ValidationFailed as failed:
            messages = [error.message for error in failed.errors]
            return _calendar_page(request, session, user, errors=messages, status_code=422)
        year = entries[0].day.year
        session.commit()
        begin_session(session, for_write=True)
        try:
            with session.begin_nested():  # a refused year (e.g. out of range) loads nothing
                calendar_years.load_year(session, year, entries, actor=user)
        except ValidationFailed as failed:
            messages = [error.message for error in failed.errors]
            return _calendar_page(request, session, user, errors=messages, status_code=422)
        return RedirectResponse(f"/admin/calendar?loaded={year}", status_code=303)

    return await run_in_threadpool(load)


# --- staff accounts -----------------------------------------------------------------------------

STAFF_ROLES = (Role.REVIEWER, Role.INSPECTOR, Role.ADMIN)
USER_FIELDS = ("username", "display_name", "role", "jurisdiction", "password")
USERS_DONE = {
    "created": "账号已创建。",
    "password": "新密码已设置，该用户的登录已全部失效，请把新密码告知本人。",
    "deactivated": "账号已停用，该用户的登录已全部失效。",
    "activated": "账号已启用。",
}


def region_choices(session: Session, user: User) -> list[tuple[str, str]]:
    """The city and counties inside the admin's jurisdiction: (code, name)."""
    return regions.cities_and_counties_within(session, user.jurisdiction)


def _region_name(session: Session, code: str | None, names: dict[str, str]) -> str:
    if not code:
        return "全市"
    if code not in names:
        region = regions.get_region(session, code)
        names[code] = region.name if region else code
    return names[code]


def _by_field(errors: list[FieldError], fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Each error under its input (the first part of its path); others under `form`."""
    found: dict[str, list[str]] = {}
    for error in errors:
        head = error.field.split(".")[0]
        found.setdefault(head if head in fields else "form", []).append(error.message)
    return found


def _users_page(
    request: Request,
    session: Session,
    admin: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    reset_errors: dict[int, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    names: dict[str, str] = {}
    rows = [
        {
            "user": account,
            "id": pk(account),
            "role_label": Role(account.role).label,
            "region": _region_name(session, account.jurisdiction, names),
        }
        for account in accounts.list_users(session, within=admin.jurisdiction)
    ]
    choices = region_choices(session, admin)
    done = request.query_params.get("done", "")
    return render(
        templates,
        request,
        "admin_users.html",
        {
            "rows": rows,
            "roles": [(role.value, role.label) for role in STAFF_ROLES],
            "regions": choices,
            "values": values
            or {
                "username": "",
                "display_name": "",
                "role": Role.REVIEWER.value,
                "jurisdiction": choices[0][0] if choices else admin.jurisdiction,
            },
            "errors": errors or {},
            "reset_errors": reset_errors or {},
            "done": USERS_DONE.get(done, ""),
        },
        user=admin,
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """The staff accounts inside the admin's jurisdiction, and a form to create one."""
    return _users_page(request, session, admin)


@router.post("/admin/users", response_class=HTMLResponse)
@reads_first
def create_user(request: Request, session: SessionDep, admin: AdminPage, form: Form) -> Response:
    """`创建账号`, as POST /api/v1/users: errors next to their fields, the values typed kept
    (never the password)."""
    check_csrf(request, form)
    values = {name: str(form.get(name, ""))[:200] for name in USER_FIELDS}
    password = values.pop("password")

    def again(errors: list[FieldError]) -> Response:
        return _users_page(
            request,
            session,
            admin,
            values=values,
            errors=_by_field(errors, USER_FIELDS),
            status_code=422,
        )

    try:
        body = UserCreate.model_validate({**values, "password": password})
    except ValidationError as invalid:
        return again(from_pydantic(invalid.errors()))
    if not regions.covers(admin.jurisdiction, body.jurisdiction):
        raise Forbidden("不能在本辖区以外创建用户")
    password_hash = run_between_transactions(session, lambda: hash_password(body.password))
    try:
        accounts.create_user(
            session,
            **body.model_dump(exclude={"password"}),
            password_hash=password_hash,
            actor=admin,
        )
    except ValidationFailed as failed:
        return again(list(failed.errors))
    except DuplicateUsername as taken:
        return again([FieldError("username", taken.code, taken.message)])
    return RedirectResponse("/admin/users?done=created", status_code=303)


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
@reads_first
def reset_password(
    request: Request, session: SessionDep, admin: AdminPage, user_id: Id, form: Form
) -> Response:
    """`重置密码` (`新密码`), as PATCH /api/v1/users/{id} with a password: every login the user
    holds ends. A user outside the admin's jurisdiction is a 404 page."""
    check_csrf(request, form)
    accounts.get_user_within(session, user_id, within=admin.jurisdiction)
    try:
        body = UserUpdate.model_validate({"password": str(form.get("password", ""))[:200]})
    except ValidationError as invalid:
        messages = [error.message for error in from_pydantic(invalid.errors())]
        return _users_page(
            request, session, admin, reset_errors={user_id: messages}, status_code=422
        )
    password = body.password or ""
    password_hash = run_between_transactions(session, lambda: hash_password(password))
    account = accounts.get_user_within(session, user_id, within=admin.jurisdiction, for_update=True)
    accounts.update_user(
        session,
        account,
        manager_jurisdiction=admin.jurisdiction,
        actor=admin,
        password_hash=password_hash,
    )
    return RedirectResponse(f"/admin/users?done=password#user-{user_id}", status_code=303)


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
def set_active(
    request: Request, session: SessionDep, admin: AdminPage, user_id: Id, form: Form
) -> Response:
    """`停用` / `启用`, as PATCH /api/v1/users/{id} with `active`: a deactivation ends every
    login the user holds."""
    check_csrf(request, form)
    account = accounts.get_user_within(session, user_id, within=admin.jurisdiction, for_update=True)
    active = form.get("active") == "true"
    accounts.update_user(
        session, account, manager_jurisdiction=admin.jurisdiction, actor=admin, active=active
    )
    done = "activated" if active else "deactivated"
    return RedirectResponse(f"/admin/users?done={done}#user-{user_id}", status_code=303)


# --- the audit trail ----------------------------------------------------------------------------

AUDIT_PAGE = 50
AUDIT_FILTERS = ("entity", "action", "from", "to")


def _day(value: str, field: str, label: str, errors: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "validation_error", f"{label}应为 YYYY-MM-DD 格式的日期"))
        return None


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    """The trail newest first (as GET /api/v1/audit), paged by `before_id`, filtered by entity,
    action and Beijing dates; a city-level admin also sees the chain's head, and its verification
    on request (`?verify=1`)."""
    query = request.query_params
    values = {name: query.get(name, "").strip()[:64] for name in AUDIT_FILTERS}
    problems: list[FieldError] = []
    since = _day(values["from"], "from", "起始日期", problems)
    until = _day(values["to"], "to", "截止日期", problems)
    before = query.get("before_id", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    entries = []
    if not problems:
        entries = audit.entries_within(
            session,
            within=admin.jurisdiction,
            entity=values["entity"] or None,
            action=values["action"] or None,
            on_or_after=since,
            on_or_before=until,
            before_id=before_id,
            limit=AUDIT_PAGE,
        )
    names: dict[str, str] = {}
    rows = [
        {
            "entry": entry,
            "at": aware_beijing(entry.at),
            "region": _region_name(session, entry.region_code, names),
        }
        for entry in entries
    ]
    older = ""
    if len(entries) == AUDIT_PAGE:
        kept = {name: value for name, value in values.items() if value}
        kept["before_id"] = str(pk(entries[-1]))
        older = "/admin/audit?" + urlencode(kept)
    city = regions.covers_city(admin.jurisdiction)
    # Verifying walks and hashes the whole chain: only when asked, never on a paged view.
    asked = query.get("verify") == "1"
    report = audit.verify_within(session, within=admin.jurisdiction) if city and asked else None
    head = audit.head(session) if city else None
    return render(
        templates,
        request,
        "admin_audit.html",
        {
            "rows": rows,
            "values": values,
            "errors": _by_field(problems, AUDIT_FILTERS),
            "older": older,
            "paged": before_id is not None,
            "report": report,
            "head": head,
            "head_at": aware_beijing(head.at) if head and head.at else "",
        },
        user=admin,
        status_code=422 if problems else 200,
    )


def aware_beijing(moment: datetime) -> str:
    """A stored timestamp (UTC) as Beijing time."""
    return aware(moment).astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
