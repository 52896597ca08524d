"""The administrator's directories (一单两库, SPEC §6, §9): `/admin` (the index of the admin
pages), `/admin/inspectors` (the inspectors inside the jurisdiction: create, edit active and
conflicts) and `/admin/items` (the city-wide inspection-item list: create, edit).

Every write goes through the API's schemas (InspectorCreate/Update, InspectionItemCreate/Update)
and services (services/inspections/directories.py), as /api/v1/inspectors and
/api/v1/inspection-items: the page writes no rule of its own. Field errors are shown next to
their inputs and the form keeps what was typed. An inspector outside the jurisdiction is a 404
page; a county admin changing the city-wide item list is the service's 403 page. Every POST
checks the CSRF token first.
"""

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from domain.errors import Conflict, DuplicateUsername, FieldError, ValidationFailed
from models.inspection import InspectionItem, Inspector
from models.user import User
from schemas.common import Id
from schemas.inspections import (
    InspectionItemCreate,
    InspectionItemUpdate,
    InspectorCreate,
    InspectorUpdate,
)
from services.inspections import directories
from services.reference import regions
from web.account import Form
from web.admin_plans import errors_by_field, region_choices
from web.deps import SessionDep
from web.forms import validated
from web.session import AdminPage, PageNotFound, check_csrf, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)

LINE_SPLIT = re.compile(r"[\s,，、；;]+")

ADMIN_LINKS = (
    ("/admin/users", "账号", "创建和停用工作人员账号，重置密码。"),
    ("/admin/inspectors", "检查人员", "执法检查人员名录（一库）：执法证号、辖区、回避企业。"),
    ("/admin/items", "检查事项", "抽查事项清单（一单）：代码、名称、依据和检查方法。"),
    ("/admin/plans", "抽查计划", "“双随机、一公开”：创建、公示、抽取抽查计划。"),
    ("/admin/stats", "统计", "备案和抽查的统计图表，可下载 CSV。"),
    ("/admin/audit", "审计", "谁在何时做了什么：操作审计记录。"),
    ("/admin/calendar", "工作日历", "法定节假日和调休，用于计算办理期限。"),
)

INSPECTOR_FIELDS = ("name", "certificate_no", "jurisdiction", "conflicts", "username", "active")
ITEM_FIELDS = ("code", "name", "legal_basis", "method", "active")
SAVED = {
    "created": "已添加。",
    "saved": "已保存。",
}


# --- helpers -------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _attempt(session: Session, work: Callable[[], object], conflict_field: str) -> list[FieldError]:
    """A service call whose refusal keeps nothing it did: its field errors (a conflict, e.g. a
    certificate number already known, under `conflict_field`; a login taken under `username`)."""
    try:
        with session.begin_nested():
            work()
    except ValidationFailed as failed:
        return list(failed.errors)
    except DuplicateUsername as taken:
        return [FieldError("username", taken.code, taken.message)]
    except Conflict as conflict:
        return [FieldError(conflict_field, conflict.code, conflict.message)]
    return []


def _conflicts(text: str) -> list[str]:
    """The USCCs typed one a line (commas and spaces also separate them)."""
    return [part for part in LINE_SPLIT.split(text) if part]


def _notice(request: Request) -> str | None:
    return SAVED.get(request.query_params.get("done", ""))


# --- /admin --------------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, user: AdminPage) -> Response:
    """Admins: where each admin page is, a line each."""
    return render(templates, request, "admin_index.html", {"links": ADMIN_LINKS}, user=user)


# --- /admin/inspectors ---------------------------------------------------------------------------


def _inspector_rows(session: Session, user: User) -> list[dict[str, Any]]:
    found = directories.list_inspectors(session, within=user.jurisdiction)
    user_ids = [i.user_id for i in found if i.user_id is not None]
    logins = {
        u.id: u.username for u in session.exec(select(User).where(col(User.id).in_(user_ids))).all()
    }
    names: dict[str, str] = {}
    rows = []
    for inspector in found:
        code = inspector.jurisdiction
        if code not in names:
            region = regions.get_region(session, code)
            names[code] = region.name if region is not None else code
        rows.append(
            {
                "inspector": inspector,
                "jurisdiction": names[code],
                "login": logins.get(inspector.user_id) if inspector.user_id else None,
            }
        )
    return rows


NEW_INSPECTOR = {
    "name": "",
    "certificate_no": "",
    "jurisdiction": "",
    "conflicts": "",
    "username": "",
    "active": True,
}


def _inspectors_page(
    request: Request,
    session: Session,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    editing: Inspector | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        templates,
        request,
        "admin_inspectors.html",
        {
            "rows": _inspector_rows(session, user) if editing is None else [],
            "regions": region_choices(session, user),
            "values": values or NEW_INSPECTOR,
            "editing": editing,
            "errors": errors_by_field(errors or [], INSPECTOR_FIELDS),
            "notice": _notice(request),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/admin/inspectors", response_class=HTMLResponse)
def inspectors_page(request: Request, session: SessionDep, user: AdminPage) -> Response:
    """Admins: the inspectors inside the jurisdiction and a form to add one."""
    return _inspectors_page(request, session, user)


@router.post("/admin/inspectors", response_class=HTMLResponse)
def create_inspector(
    request: Request, session: SessionDep, user: AdminPage, form: Form
) -> Response:
    """Admins: `添加检查人员`, as POST /api/v1/inspectors."""
    check_csrf(request, form)
    typed: dict[str, Any] = {
        "name": _text(form, "name"),
        "certificate_no": _text(form, "certificate_no"),
        "jurisdiction": _text(form, "jurisdiction"),
        "conflicts": _text(form, "conflicts"),
        "username": _text(form, "username"),
        "active": True,
    }
    body, errors = validated(
        InspectorCreate,
        {
            **typed,
            "conflicts": _conflicts(typed["conflicts"]),
            "username": typed["username"] or None,
        },
    )
    if body is not None:
        errors = _attempt(
            session,
            lambda: directories.create_inspector(session, admin=user, **body.model_dump()),
            "certificate_no",
        )
    if errors:
        return _inspectors_page(
            request, session, user, values=typed, errors=errors, status_code=422
        )
    return RedirectResponse("/admin/inspectors?done=created", status_code=303)


@router.get("/admin/inspectors/{inspector_id}", response_class=HTMLResponse)
def inspector_page(
    request: Request, session: SessionDep, user: AdminPage, inspector_id: Id
) -> Response:
    """Admins: edit an inspector of the jurisdiction (others: a 404 page)."""
    inspector = directories.get_inspector_within(session, inspector_id, within=user.jurisdiction)
    values = {"active": inspector.active, "conflicts": "\n".join(inspector.conflicts)}
    return _inspectors_page(request, session, user, values=values, editing=inspector)


@router.post("/admin/inspectors/{inspector_id}", response_class=HTMLResponse)
def update_inspector(
    request: Request, session: SessionDep, user: AdminPage, inspector_id: Id, form: Form
) -> Response:
    """Admins: `保存` active and conflicts, as PATCH /api/v1/inspectors/{id}."""
    check_csrf(request, form)
    inspector = directories.get_inspector_within(session, inspector_id, within=user.jurisdiction)
    typed: dict[str, Any] = {
        "active": form.get("active") == "on",
        "conflicts": _text(form, "conflicts"),
    }
    body, errors = validated(
        InspectorUpdate, {"active": typed["active"], "conflicts": _conflicts(typed["conflicts"])}
    )
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        errors = _attempt(
            session,
            lambda: directories.update_inspector(session, inspector, admin=user, changes=changes),
            "conflicts",
        )
    if errors:
        return _inspectors_page(
            request, session, user, values=typed, editing=inspector, errors=errors, status_code=422
        )
    return RedirectResponse("/admin/inspectors?done=saved", status_code=303)


# --- /admin/items --------------------------------------------------------------------------------


NEW_ITEM = {"code": "", "name": "", "legal_basis": "", "method": "", "active": True}


def _items_page(
    request: Request,
    session: Session,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    editing: InspectionItem | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        templates,
        request,
        "admin_items.html",
        {
            "items": directories.list_items(session) if editing is None else [],
            "city_level": regions.covers_city(user.jurisdiction),
            "values": values or NEW_ITEM,
            "editing": editing,
            "errors": errors_by_field(errors or [], ITEM_FIELDS),
            "notice": _notice(request),
        },
        user=user,
        status_code=status_code,
    )


def _item_typed(form: FormData) -> dict[str, Any]:
    return {
        "code": _text(form, "code"),
        "name": _text(form, "name"),
        "legal_basis": _text(form, "legal_basis"),
        "method": _text(form, "method"),
        "active": form.get("active") == "on",
    }


@router.get("/admin/items", response_class=HTMLResponse)
def items_page(request: Request, session: SessionDep, user: AdminPage) -> Response:
    """Admins: the inspection-item list (一单); city-level admins may add and edit items."""
    return _items_page(request, session, user)


@router.post("/admin/items", response_class=HTMLResponse)
def create_item(request: Request, session: SessionDep, user: AdminPage, form: Form) -> Response:
    """City-level admins: `添加检查事项`, as POST /api/v1/inspection-items (a county admin's is
    the service's 403 page)."""
    check_csrf(request, form)
    typed = _item_typed(form)
    typed["active"] = True
    body, errors = validated(
        InspectionItemCreate,
        {
            "code": typed["code"],
            "name": typed["name"],
            "legal_basis": typed["legal_basis"] or None,
            "method": typed["method"] or None,
        },
    )
    if body is None:
        # The jurisdiction comes before the form's errors, as in the API's service.
        regions.require_city_level(user.jurisdiction, directories.CITY_WIDE)
    else:
        errors = _attempt(
            session,
            lambda: directories.create_item(
                session,
                admin=user,
                code=body.code,
                name=body.name,
                legal_basis=body.legal_basis,
                method=body.method,
            ),
            "code",
        )
    if errors:
        return _items_page(request, session, user, values=typed, errors=errors, status_code=422)
    return RedirectResponse("/admin/items?done=created", status_code=303)


def _item(session: Session, code: str) -> InspectionItem:
    item = session.get(InspectionItem, code)
    if item is None:
        raise PageNotFound()
    return item


@router.get("/admin/items/{code}", response_class=HTMLResponse)
def item_page(request: Request, session: SessionDep, user: AdminPage, code: str) -> Response:
    """City-level admins: edit an item (a county admin: the service's 403 page)."""
    regions.require_city_level(user.jurisdiction, directories.CITY_WIDE)
    item = _item(session, code)
    values = {
        "code": item.code,
        "name": item.name,
        "legal_basis": item.legal_basis or "",
        "method": item.method or "",
        "active": item.active,
    }
    return _items_page(request, session, user, values=values, editing=item)


@router.post("/admin/items/{code}", response_class=HTMLResponse)
def update_item(
    request: Request, session: SessionDep, user: AdminPage, code: str, form: Form
) -> Response:
    """City-level admins: `保存`, as PATCH /api/v1/inspection-items/{code}."""
    check_csrf(request, form)
    regions.require_city_level(user.jurisdiction, directories.CITY_WIDE)
    item = _item(session, code)
    typed = {**_item_typed(form), "code": item.code}
    body, errors = validated(
        InspectionItemUpdate,
        {
            "name": typed["name"],
            "active": typed["active"],
            "legal_basis": typed["legal_basis"] or None,
            "method": typed["method"] or None,
        },
    )
    if body is not None:
        changes = body.model_dump(exclude_unset=True)
        errors = _attempt(
            session,
            lambda: directories.update_item(session, item.code, admin=user, changes=changes),
            "code",
        )
    if errors:
        return _items_page(
            request, session, user, values=typed, editing=item, errors=errors, status_code=422
        )
    return RedirectResponse("/admin/items?done=saved", status_code=303)
