"""What a plan publishes (SPEC §4.1, §6): frame, key string, strata, pool, teams and results."""

from typing import Any

from sqlmodel import Session, col, select

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
