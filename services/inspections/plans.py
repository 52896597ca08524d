"""Inspection plans (SPEC §6): create and announce (freeze candidates and pool with a digest)."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from domain import draw
from domain.errors import (
    FieldError,
    NotFound,
    ValidationFailed,
)
from domain.lifecycle import next_plan_status
from domain.vocabulary import FilingStatus, PlanAction, PlanStatus, SamplingMode
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing
from models.inspection import (
    Inspection,
    InspectionPlan,
    Inspector,
)
from models.user import User
from schemas.inspections import PlanCreate, PlanUpdate
from services.inspections import risk
from services.inspections.directories import list_items
from services.inspections.publication import published_frame
from services.oversight import audit
from services.reference import regions


def record_plan_change(
    session: Session, plan: InspectionPlan, *, admin: User, action: PlanAction, data: dict[str, Any]
) -> None:
    """Saves a plan's state change (its version bumped) with its audit entry."""
    plan.version += 1
    session.add(plan)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action=f"plan.{action}",
        entity="inspection_plan",
        entity_id=plan.id,
        region_code=plan.region_code,
        data=data,
    )


def _check_plan(
    session: Session,
    *,
    admin: User,
    region_code: str | None,
    item_codes: list[str] | None,
    period_start: date,
    period_end: date,
) -> None:
    """The checks a plan's fields pass on create and edit (a field left as it was: `None`)."""
    errors: list[FieldError] = []
    if region_code is not None and (
        not regions.covers(admin.jurisdiction, region_code)
        or regions.get_region(session, region_code) is None
    ):
        errors.append(FieldError("region_code", "unknown_region", "检查范围不存在或不在本辖区内"))
    if item_codes is not None:
        known = {item.code for item in list_items(session) if item.active}
        unknown = [code for code in item_codes if code not in known]
        if unknown:
            errors.append(
                FieldError(
                    "item_codes", "validation_error", f"检查事项不存在：{'、'.join(unknown)}"
                )
            )
    if period_end < period_start:
        errors.append(FieldError("period_end", "validation_error", "计划结束日期早于开始日期"))
    if errors:
        raise ValidationFailed(errors)


def create_plan(session: Session, *, admin: User, body: PlanCreate) -> InspectionPlan:
    """A draft plan inside the admin's jurisdiction."""
    _check_plan(
        session,
        admin=admin,
        region_code=body.region_code,
        item_codes=body.item_codes,
        period_start=body.period_start,
        period_end=body.period_end,
    )
    plan = InspectionPlan(
        name=body.name,
        region_code=body.region_code,
        item_codes=sorted(set(body.item_codes)),
        sampling=body.sampling.model_dump(mode="json"),
        team_size=body.team_size,
        exclude_recent_days=body.exclude_recent_days,
        period_start=body.period_start,
        period_end=body.period_end,
        randomness_sources=body.randomness_sources,
        created_by_id=admin.id,
    )
    session.add(plan)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="plan.create",
        entity="inspection_plan",
        entity_id=plan.id,
        region_code=plan.region_code,
        data={"name": plan.name, "sampling": plan.sampling},
    )
    return plan


def edit_plan(
    session: Session, plan: InspectionPlan, *, admin: User, body: PlanUpdate
) -> InspectionPlan:
    """Changes a draft plan's fields (checked as on create); once announced, 409."""
    next_plan_status(plan.status, PlanAction.EDIT)
    changes = body.model_dump(exclude_unset=True, mode="json")
    _check_plan(
        session,
        admin=admin,
        region_code=body.region_code,
        item_codes=body.item_codes,
        period_start=body.period_start or plan.period_start,
        period_end=body.period_end or plan.period_end,
    )
    for field in ("name", "region_code", "team_size", "exclude_recent_days"):
        if field in changes:
            setattr(plan, field, changes[field])
    if body.randomness_sources is not None:
        plan.randomness_sources = body.randomness_sources
    if body.item_codes is not None:
        plan.item_codes = sorted(set(body.item_codes))
    if body.sampling is not None:
        plan.sampling = body.sampling.model_dump(mode="json")
    if body.period_start is not None:
        plan.period_start = body.period_start
    if body.period_end is not None:
        plan.period_end = body.period_end
    record_plan_change(session, plan, admin=admin, action=PlanAction.EDIT, data=changes)
    return plan


def cancel_plan(
    session: Session, plan: InspectionPlan, *, admin: User, reason: str
) -> InspectionPlan:
    """Cancels a plan until it is drawn; an announced plan stays published with the reason."""
    plan.status = next_plan_status(plan.status, PlanAction.CANCEL)
    plan.cancellation_reason = reason
    plan.cancelled_at = clock.now()
    record_plan_change(
        session,
        plan,
        admin=admin,
        action=PlanAction.CANCEL,
        data={"reason": reason, "announced": plan.announced_at is not None},
    )
    return plan


def get_plan_within(
    session: Session, plan_id: int, *, within: str, for_update: bool = False
) -> InspectionPlan:
    plan = session.get(
        InspectionPlan, plan_id, with_for_update=for_update, populate_existing=for_update
    )
    if plan is None or not regions.covers(within, plan.region_code):
        raise NotFound("检查计划不存在")
    return plan


def list_plans(
    session: Session, *, within: str | None = None, published_only: bool = False
) -> list[InspectionPlan]:
    query = select(InspectionPlan).order_by(col(InspectionPlan.id).desc())
    if within:
        query = query.where(
            col(InspectionPlan.region_code).startswith(regions.region_prefix(within))
        )
    if published_only:  # announced once: announced, drawn, or cancelled after announcement
        query = query.where(col(InspectionPlan.announced_at).is_not(None))
    return list(session.exec(query).all())


def _recently_drawn(session: Session, plan: InspectionPlan, today: date) -> set[int]:
    """Filings drawn for a shared item within the exclusion window."""
    since = datetime.combine(today - timedelta(days=plan.exclude_recent_days), time.min, UTC)
    rows = session.exec(
        select(Inspection.filing_id, InspectionPlan.item_codes)
        .join(InspectionPlan, col(InspectionPlan.id) == Inspection.plan_id)
        .where(
            InspectionPlan.status == PlanStatus.DRAWN,
            InspectionPlan.id != plan.id,
            col(InspectionPlan.drawn_at) >= since,
        )
    ).all()
    shared = set(plan.item_codes)  # item lists are JSON: compared here, per recent draw only
    return {filing_id for filing_id, items in rows if shared & set(items)}


def announce(session: Session, plan: InspectionPlan, *, admin: User) -> InspectionPlan:
    """Freezes the candidates (with their risk level now) and the inspector pool; digests both."""
    plan.status = next_plan_status(plan.status, PlanAction.ANNOUNCE)
    today = clock.today()
    prefix = regions.region_prefix(plan.region_code)
    filed = session.exec(
        select(Filing, Enterprise.uscc)
        .join(Enterprise, col(Enterprise.id) == Filing.enterprise_id)
        .where(Filing.status == FilingStatus.FILED, col(Filing.county_code).startswith(prefix))
        .order_by(col(Filing.filing_no))
    ).all()
    excluded = _recently_drawn(session, plan, today)
    eligible = [(filing, uscc) for filing, uscc in filed if filing.id not in excluded]
    levels = risk.effective_levels(session, [filing for filing, _ in eligible])
    entries = [
        {"filing_no": f.filing_no, "filing_id": pk(f), "uscc": uscc, "risk": levels[pk(f)]}
        for f, uscc in eligible
    ]
    if plan.sampling["mode"] == SamplingMode.COUNT:
        plan.strata = [{"label": "all", "rate": None, "candidates": entries}]
    else:
        plan.strata = [
            {
                "label": label,
                "rate": plan.sampling["rates"][label],
                "candidates": [entry for entry in entries if entry["risk"] == label],
            }
            for label in draw.RISK_LABELS
        ]
    inspectors = session.exec(
        select(Inspector).where(Inspector.active).order_by(Inspector.certificate_no)
    ).all()
    plan.pool = [
        {"certificate_no": i.certificate_no, "inspector_id": i.id, "conflicts": list(i.conflicts)}
        for i in inspectors
        if regions.covers(i.jurisdiction, plan.region_code)
    ]
    plan.announced_at = clock.now()
    plan.digest = draw.digest(draw.announcement_of(published_frame(plan)))
    record_plan_change(
        session,
        plan,
        admin=admin,
        action=PlanAction.ANNOUNCE,
        data={"digest": plan.digest, "candidates": len(entries), "pool": len(plan.pool)},
    )
    return plan
