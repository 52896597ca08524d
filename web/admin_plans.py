"""The admin's inspection-plan pages (SPEC §6, §9): `/admin/plans` (the plans inside the
jurisdiction and a form to create one) and `/admin/plans/{id}` (edit while draft, 公示, one
随机数 box per source, 抽取, the teams, 取消计划 until drawn).

Every write goes through the API's schemas (PlanCreate, PlanUpdate, DrawRequest,
PlanCancellation) and services (services/inspections/plans.py, draws.py); field errors are shown
next to their inputs and the form keeps what was typed. A plan outside the admin's jurisdiction
is a 404 page (plans.get_plan_within), as the API's 404. Every POST checks the CSRF token first;
forms that change a plan carry its `version`, so a form shown before someone else's change is
refused rather than applied over it.
"""

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from domain.errors import FieldError, VersionConflict
from domain.vocabulary import PlanStatus, RiskLevel, SamplingMode
from models.inspection import InspectionPlan
from models.user import User
from schemas.common import Id
from schemas.inspections import DrawRequest, PlanCancellation, PlanCreate, PlanUpdate
from services.inspections import directories, draws, plans, publication
from services.reference import regions
from web.account import Form
from web.deps import SessionDep
from web.forms import in_savepoint, validated
from web.session import AdminPage, check_csrf, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)

PLAN_FIELDS = (
    "name",
    "region_code",
    "item_codes",
    "sampling.mode",
    "sampling.rates.high",
    "sampling.rates.medium",
    "sampling.rates.low",
    "sampling.count",
    "team_size",
    "exclude_recent_days",
    "randomness_sources",
    "period_start",
    "period_end",
)
LEVELS = (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW)
SOURCE_SPLIT = re.compile(r"[；;\n]+")
NUMBER_SPLIT = re.compile(r"[\s,，、]+")
DONE = {
    "created": "计划已创建（草拟）。核对后点击“公示”冻结抽取范围和检查人员名录。",
    "saved": "已保存。",
    "announced": "已公示。待随机数开奖后，录入随机数并点击“抽取”。",
    "drawn": "已抽取，结果已公示。",
    "cancelled": "计划已取消。",
}


# --- helpers -------------------------------------------------------------------------------------


def errors_by_field(errors: list[FieldError], fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Each error under the input it concerns (the longest field name its path starts with:
    `item_codes.1` → `item_codes`); others under `form` (shown above the form)."""
    found: dict[str, list[str]] = {}
    for error in errors:
        target = next(
            (
                name
                for name in sorted(fields, key=len, reverse=True)
                if error.field == name or error.field.startswith(name + ".")
            ),
            "form",
        )
        found.setdefault(target, []).append(error.message)
    return found


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def plan_body(form: FormData) -> dict[str, Any]:
    """The API's plan body (PlanCreate's shape) from the form's fields."""
    mode = _text(form, "sampling.mode")
    sampling: dict[str, Any] = {"mode": mode}
    if mode == SamplingMode.COUNT:
        sampling["count"] = _text(form, "sampling.count")
    else:
        sampling["rates"] = {level: _text(form, f"sampling.rates.{level}") for level in LEVELS}
    return {
        "name": _text(form, "name"),
        "region_code": _text(form, "region_code"),
        "item_codes": [code for code in form.getlist("item_codes") if isinstance(code, str)],
        "sampling": sampling,
        "team_size": _text(form, "team_size"),
        "exclude_recent_days": _text(form, "exclude_recent_days"),
        "period_start": _text(form, "period_start"),
        "period_end": _text(form, "period_end"),
        "randomness_sources": _text(form, "randomness_sources"),
    }


def _typed(form: FormData) -> dict[str, Any]:
    """What the user typed, to show the form again."""
    typed: dict[str, Any] = {name: _text(form, name) for name in PLAN_FIELDS}
    typed["item_codes"] = [code for code in form.getlist("item_codes") if isinstance(code, str)]
    return typed


def _values_of(plan: InspectionPlan) -> dict[str, Any]:
    """A plan's fields as the form shows them."""
    sampling = plan.sampling
    rates = sampling.get("rates") or {}
    return {
        "name": plan.name,
        "region_code": plan.region_code,
        "item_codes": list(plan.item_codes),
        "sampling.mode": sampling["mode"],
        "sampling.rates.high": rates.get("high", ""),
        "sampling.rates.medium": rates.get("medium", ""),
        "sampling.rates.low": rates.get("low", ""),
        "sampling.count": str(sampling.get("count", "")),
        "team_size": str(plan.team_size),
        "exclude_recent_days": str(plan.exclude_recent_days),
        "randomness_sources": plan.randomness_sources,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
    }


NEW_PLAN: dict[str, Any] = {
    "name": "",
    "region_code": "",
    "item_codes": [],
    "sampling.mode": SamplingMode.RATE.value,
    "sampling.rates.high": "1",
    "sampling.rates.medium": "0.3",
    "sampling.rates.low": "0.1",
    "sampling.count": "",
    "team_size": "2",
    "exclude_recent_days": "365",
    "randomness_sources": "",
    "period_start": "",
    "period_end": "",
}


def region_choices(session: Session, user: User) -> list[tuple[str, str]]:
    """The city and counties inside the admin's jurisdiction: (code, name)."""
    return regions.cities_and_counties_within(session, user.jurisdiction)


def source_names(plan: InspectionPlan) -> list[str]:
    """The plan's randomness sources, one per `；` or line: one 随机数 box each."""
    names = [part.strip() for part in SOURCE_SPLIT.split(plan.randomness_sources) if part.strip()]
    return names or ["随机源 1"]


def _form_context(session: Session, user: User) -> dict[str, Any]:
    return {
        "regions": region_choices(session, user),
        "items": directories.list_items(session, active_only=True),
        "levels": [(level.value, level.label) for level in LEVELS],
        "modes": SamplingMode,
    }


def _check_version(plan: InspectionPlan, form: FormData) -> None:
    """The form's hidden `version` is the plan's, or the plan changed since it was shown."""
    version = _text(form, "version")
    if not version.isdigit() or len(version) > 18 or int(version) != plan.version:
        raise VersionConflict()


# --- the list and the new plan -------------------------------------------------------------------


def _list_page(
    request: Request,
    session: Session,
    user: User,
    *,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status_code: int = 200,
) -> Response:
    shown = plans.list_plans(session, within=user.jurisdiction)
    context = _form_context(session, user)
    names = dict(context["regions"])
    rows = [
        {
            "plan": plan,
            "region": names.get(plan.region_code, plan.region_code),
            "status_label": PlanStatus(plan.status).label,
        }
        for plan in shown
    ]
    return render(
        templates,
        request,
        "admin_plans.html",
        {**context, "rows": rows, "values": values, "errors": errors},
        user=user,
        status_code=status_code,
    )


@router.get("/admin/plans", response_class=HTMLResponse)
def plans_page(request: Request, session: SessionDep, user: AdminPage) -> Response:
    """Admin. The plans inside the jurisdiction, newest first, and the form for a new one."""
    return _list_page(request, session, user, values=NEW_PLAN, errors={})


@router.post("/admin/plans")
def create_plan(request: Request, session: SessionDep, user: AdminPage, form: Form) -> Response:
    """Admin. A draft plan through PlanCreate and plans.create_plan, as POST /inspection-plans."""
    check_csrf(request, form)
    body, problems = validated(PlanCreate, plan_body(form))
    created: list[InspectionPlan] = []
    if body is not None:
        problems = in_savepoint(
            session, lambda: created.append(plans.create_plan(session, admin=user, body=body))
        )
    if problems or not created:
        return _list_page(
            request,
            session,
            user,
            values=_typed(form),
            errors=errors_by_field(problems, PLAN_FIELDS),
            status_code=422,
        )
    return RedirectResponse(f"/admin/plans/{created[0].id}?done=created", status_code=303)


# --- one plan ------------------------------------------------------------------------------------


def _plan_page(
    request: Request,
    session: Session,
    user: User,
    plan: InspectionPlan,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    sources: list[str] | None = None,
    reason: str = "",
    done: str = "",
    status_code: int = 200,
) -> Response:
    context = _form_context(session, user)
    published = publication.publication(session, plan)
    inspectors = directories.list_inspectors(session, within=user.jurisdiction)
    names = {inspector.certificate_no: inspector.name for inspector in inspectors}
    boxes = source_names(plan)
    return render(
        templates,
        request,
        "admin_plan.html",
        {
            **context,
            "plan": plan,
            "published": published,
            "region": dict(context["regions"]).get(plan.region_code, plan.region_code),
            "status_label": PlanStatus(plan.status).label,
            "mode_label": SamplingMode(plan.sampling["mode"]).label,
            "item_names": {item.code: item.name for item in directories.list_items(session)},
            "inspector_names": names,
            "values": values or _values_of(plan),
            "errors": errors or {},
            "boxes": boxes,
            "sources": sources or [""] * len(boxes),
            "reason": reason,
            "done": DONE.get(done, ""),
            "editable": plan.status == PlanStatus.DRAFT,
            "cancellable": plan.status in (PlanStatus.DRAFT, PlanStatus.ANNOUNCED),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/admin/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(
    request: Request, session: SessionDep, user: AdminPage, plan_id: Id, done: str = ""
) -> Response:
    """Admin. One plan inside the jurisdiction (else a 404 page) and what can be done next."""
    plan = plans.get_plan_within(session, plan_id, within=user.jurisdiction)
    return _plan_page(request, session, user, plan, done=done)


def _locked_plan(
    request: Request, session: Session, user: User, form: FormData, plan_id: int
) -> InspectionPlan:
    check_csrf(request, form)
    plan = plans.get_plan_within(session, plan_id, within=user.jurisdiction, for_update=True)
    _check_version(plan, form)
    return plan


@router.post("/admin/plans/{plan_id}")
def edit_plan(
    request: Request, session: SessionDep, user: AdminPage, form: Form, plan_id: Id
) -> Response:
    """Admin. Changes a draft plan (PlanUpdate, plans.edit_plan); 409 page once announced."""
    plan = _locked_plan(request, session, user, form, plan_id)
    body, problems = validated(PlanUpdate, plan_body(form))
    if body is not None:
        problems = in_savepoint(
            session, lambda: plans.edit_plan(session, plan, admin=user, body=body)
        )
    if problems:
        session.refresh(plan)
        return _plan_page(
            request,
            session,
            user,
            plan,
            values=_typed(form),
            errors=errors_by_field(problems, PLAN_FIELDS),
            status_code=422,
        )
    return RedirectResponse(f"/admin/plans/{plan_id}?done=saved", status_code=303)


@router.post("/admin/plans/{plan_id}/announce")
def announce_plan(
    request: Request, session: SessionDep, user: AdminPage, form: Form, plan_id: Id
) -> Response:
    """Admin. 公示: freezes the candidates and the pool with their digest (plans.announce)."""
    plan = _locked_plan(request, session, user, form, plan_id)
    plans.announce(session, plan, admin=user)
    return RedirectResponse(f"/admin/plans/{plan_id}?done=announced", status_code=303)


PLAIN_NUMBER = re.compile(r"[0-9]{1,18}")


def parse_sources(form: FormData, count: int) -> tuple[list[str], list[Any], list[FieldError]]:
    """The 随机数 boxes: (what was typed, the numbers per box, errors of boxes not numbers)."""
    typed = [_text(form, f"sources.{index}") for index in range(count)]
    parsed: list[Any] = []
    errors: list[FieldError] = []
    for index, text in enumerate(typed):
        tokens = [token for token in NUMBER_SPLIT.split(text.strip()) if token]
        # ASCII digits only, and at most 18 of them: `isdigit` also takes "²", which int()
        # refuses, and Python refuses to parse integers of thousands of digits.
        if any(not PLAIN_NUMBER.fullmatch(token) for token in tokens):
            errors.append(
                FieldError(f"sources.{index}", "validation_error", "请填写以空格分隔的非负整数")
            )
        parsed.append([int(t) if PLAIN_NUMBER.fullmatch(t) else t for t in tokens])
    return typed, parsed, errors


@router.post("/admin/plans/{plan_id}/draw")
def draw_plan(
    request: Request, session: SessionDep, user: AdminPage, form: Form, plan_id: Id
) -> Response:
    """Admin. 抽取: the public randomness in, objects and teams out (DrawRequest, draws.run_draw);
    all or nothing."""
    plan = _locked_plan(request, session, user, form, plan_id)
    boxes = source_names(plan)
    typed, parsed, problems = parse_sources(form, len(boxes))
    if not problems:
        body, problems = validated(DrawRequest, {"sources": parsed})
        if body is not None:
            problems = in_savepoint(
                session, lambda: draws.run_draw(session, plan, admin=user, sources=body.sources)
            )
    if problems:
        session.refresh(plan)
        fields = tuple(f"sources.{index}" for index in range(len(boxes)))
        return _plan_page(
            request,
            session,
            user,
            plan,
            errors=errors_by_field(problems, fields),
            sources=typed,
            status_code=422,
        )
    return RedirectResponse(f"/admin/plans/{plan_id}?done=drawn", status_code=303)


@router.post("/admin/plans/{plan_id}/cancel")
def cancel_plan(
    request: Request, session: SessionDep, user: AdminPage, form: Form, plan_id: Id
) -> Response:
    """Admin. 取消计划 with a reason, until drawn (PlanCancellation, plans.cancel_plan)."""
    plan = _locked_plan(request, session, user, form, plan_id)
    reason = _text(form, "reason")
    body, problems = validated(PlanCancellation, {"reason": reason})
    if body is not None:
        plans.cancel_plan(session, plan, admin=user, reason=body.reason)
        return RedirectResponse(f"/admin/plans/{plan_id}?done=cancelled", status_code=303)
    return _plan_page(
        request,
        session,
        user,
        plan,
        errors={"reason": [p.message for p in problems]},
        reason=reason,
        status_code=422,
    )
