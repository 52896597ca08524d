"""What a plan publishes (SPEC §4.1, §6): frame, key string, strata, pool, teams and results."""

from typing import Any

from sqlmodel import Session, col, select

from domain.errors import NotFound
from domain.vocabulary import PlanStatus
from models.base import aware
from models.inspection import Inspection, InspectionItem, InspectionPlan
from schemas.inspections import PlanItem, PublishedAssignment, PublishedPlan, PublishedResult
from services.inspections import assignments


def published_frame(plan: InspectionPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "region_code": plan.region_code,
        "item_codes": plan.item_codes,
        "sampling": plan.sampling,
        "team_size": plan.team_size,
        "exclude_recent_days": plan.exclude_recent_days,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "randomness_sources": plan.randomness_sources,
        "strata": [
            {
                "label": s["label"],
                "rate": s["rate"],
                "candidates": [c["filing_no"] for c in s["candidates"]],
                "selected": s.get("selected", []),
            }
            for s in plan.strata
        ],
        "pool": [p["certificate_no"] for p in plan.pool],
    }


def plan_items(session: Session, plan: InspectionPlan) -> list[PlanItem]:
    """The plan's items with their names (a code no longer in the list is named by its code).
    Outside the digested frame: renaming an item changes no announcement's digest."""
    names = dict(
        session.exec(
            select(InspectionItem.code, InspectionItem.name).where(
                col(InspectionItem.code).in_(plan.item_codes)
            )
        ).all()
    )
    return [PlanItem(code=code, name=names.get(code, code)) for code in plan.item_codes]


def publication(session: Session, plan: InspectionPlan) -> PublishedPlan:
    """Everything SPEC §6 step 5 publishes: enough for anyone to re-run the draw."""
    inspections = session.exec(
        select(Inspection).where(Inspection.plan_id == plan.id).order_by(col(Inspection.m))
    ).all()
    return PublishedPlan.model_validate(
        {
            **published_frame(plan),
            "items": plan_items(session, plan),
            "status": plan.status,
            "cancellation_reason": plan.cancellation_reason,
            "cancelled_at": aware(plan.cancelled_at),
            "digest": plan.digest,
            "announced_at": aware(plan.announced_at),
            "drawn_at": aware(plan.drawn_at),
            "sources": plan.sources,
            "key_string": plan.key_string,
            "assignments": [
                PublishedAssignment(
                    m=i.m,
                    filing_no=i.filing_no,
                    eligible=i.eligible,
                    team=i.team,
                    inspection_id=i.id,
                )
                for i in inspections
            ],
            "results": [
                PublishedResult(
                    filing_no=i.filing_no,
                    outlet_name=i.outlet_name,
                    outlet_address=i.outlet_address,
                    inspected_on=i.inspected_on,
                    outcome=i.outcome,
                    findings=i.findings,
                    rectify_by=i.rectify_by,
                    follow_up=assignments.follow_up_of(i),
                )
                for i in inspections
                if i.outcome is not None
            ],
        }
    )


def is_published(plan: InspectionPlan | None) -> bool:
    """Anyone may read a plan once it is announced (and after, cancelled or drawn)."""
    return plan is not None and plan.status != PlanStatus.DRAFT and plan.announced_at is not None


def published_plan(session: Session, plan_id: int) -> InspectionPlan:
    """The plan, if it is public; NotFound otherwise (a draft is nobody's business yet)."""
    plan = session.get(InspectionPlan, plan_id)
    if plan is None or not is_published(plan):
        raise NotFound("检查计划不存在或尚未公告")
    return plan


def results_of_outlet(session: Session, filing_id: int) -> list[tuple[Inspection, InspectionPlan]]:
    """An outlet's recorded results in public plans, newest first (the outlet's public page)."""
    return list(
        session.exec(
            select(Inspection, InspectionPlan)
            .join(InspectionPlan, col(InspectionPlan.id) == Inspection.plan_id)
            .where(
                Inspection.filing_id == filing_id,
                col(Inspection.outcome).is_not(None),
                col(InspectionPlan.announced_at).is_not(None),
                InspectionPlan.status != PlanStatus.DRAFT,
            )
            .order_by(col(Inspection.inspected_on).desc(), col(Inspection.id).desc())
        ).all()
    )
