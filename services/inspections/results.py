"""Assignments and results: an assigned inspector records the result and evidence; results past
20 working days are reported as overdue."""

from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from core import clock
from domain.errors import (
    NotFound,
    ValidationFailed,
)
from domain.vocabulary import PlanStatus
from domain.working_days import add_working_days
from models.base import pk
from models.inspection import (
    Inspection,
    InspectionEvidence,
    InspectionMember,
    InspectionPlan,
    Inspector,
)
from models.user import User
from schemas.oversight import OverdueResult
from services.filings import documents as stored_files
from services.oversight import audit
from services.reference import regions

RESULT_WORKING_DAYS = 20  # results are published within 20 working days of the inspection


def inspector_of(session: Session, user: User) -> Inspector | None:
    return session.exec(select(Inspector).where(Inspector.user_id == user.id)).first()


def assignments_of(session: Session, user: User) -> list[Inspection]:
    inspector = inspector_of(session, user)
    if inspector is None:
        return []
    return list(
        session.exec(
            select(Inspection)
            .join(InspectionMember, col(InspectionMember.inspection_id) == Inspection.id)
            .where(InspectionMember.inspector_id == inspector.id)
            .order_by(col(Inspection.id))
        ).all()
    )


def get_assigned(
    session: Session, inspection_id: int, user: User, *, for_update: bool = False
) -> tuple[Inspection, Inspector]:
    """The inspection if `user` is on its team; otherwise it does not exist for them (404)."""
    inspector = inspector_of(session, user)
    inspection = session.get(Inspection, inspection_id, with_for_update=for_update)
    if (
        inspector is None
        or inspection is None
        or session.get(InspectionMember, (inspection_id, inspector.id)) is None
    ):
        raise NotFound("检查任务不存在")
    return inspection, inspector


def record_result(
    session: Session,
    inspection: Inspection,
    inspector: Inspector,
    *,
    inspected_on: date,
    outcome: str,
    findings: str,
) -> Inspection:
    if inspected_on > clock.today():
        raise ValidationFailed.single("inspected_on", "future_date", "检查日期不能晚于今天")
    plan = session.get(InspectionPlan, inspection.plan_id)
    assert plan is not None
    if inspected_on < plan.period_start:
        raise ValidationFailed.single(
            "inspected_on", "validation_error", "检查日期早于计划开始日期"
        )
    before = inspection.outcome
    inspection.inspected_on = inspected_on
    inspection.outcome = outcome
    inspection.findings = findings
    inspection.recorded_at = clock.now()
    inspection.recorded_by_id = inspector.id
    inspection.result_due_on = add_working_days(inspected_on, RESULT_WORKING_DAYS)
    inspection.published_on_time = clock.today() <= inspection.result_due_on
    session.add(inspection)
    session.flush()
    audit.append(
        session,
        actor_id=inspector.user_id,
        action="inspection.result",
        entity="inspection",
        entity_id=inspection.id,
        region_code=plan.region_code,
        data={"outcome": outcome, "previous": before, "inspected_on": inspected_on.isoformat()},
    )
    return inspection


def _plan_region(session: Session, inspection: Inspection) -> str:
    plan = session.get(InspectionPlan, inspection.plan_id)
    assert plan is not None
    return plan.region_code


def add_evidence(
    session: Session,
    inspection: Inspection,
    inspector: Inspector,
    *,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
) -> InspectionEvidence:
    stored_files.claim_blob(session)  # before the file is stored: no cleanup deletes it meanwhile
    evidence = InspectionEvidence(
        inspection_id=pk(inspection),
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by_id=inspector.id,
    )
    session.add(evidence)
    session.flush()
    audit.append(
        session,
        actor_id=inspector.user_id,
        action="inspection.evidence",
        entity="inspection",
        entity_id=inspection.id,
        region_code=_plan_region(session, inspection),
        data={"sha256": sha256},
    )
    return evidence


def plan_results_due_on(plan: InspectionPlan) -> date:
    """When results not yet recorded become overdue: 20 working days after the plan's end."""
    return add_working_days(plan.period_end, RESULT_WORKING_DAYS)


def overdue(session: Session, *, within: str) -> list[OverdueResult]:
    """Inspections whose result is missing past its due date, or was published after it."""
    today = clock.today()
    plans = session.exec(
        select(InspectionPlan).where(
            InspectionPlan.status == PlanStatus.DRAWN,
            col(InspectionPlan.region_code).startswith(regions.region_prefix(within)),
        )
    ).all()
    plan_due = {plan.id: plan_results_due_on(plan) for plan in plans}
    lapsed_plans = [plan_id for plan_id, due in plan_due.items() if today > due]
    rows = session.exec(
        select(Inspection)
        .where(
            col(Inspection.plan_id).in_(list(plan_due)),
            or_(
                and_(col(Inspection.outcome).is_(None), col(Inspection.plan_id).in_(lapsed_plans)),
                col(Inspection.published_on_time).is_(False),
            ),
        )
        .order_by(col(Inspection.id))
    ).all()
    return [
        OverdueResult(
            inspection_id=inspection.id,
            plan_id=inspection.plan_id,
            filing_no=inspection.filing_no,
            team=inspection.team,
            due_on=inspection.result_due_on or plan_due[inspection.plan_id],
            recorded_on=inspection.recorded_at.date() if inspection.recorded_at else None,
        )
        for inspection in rows
    ]
