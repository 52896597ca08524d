"""Assignments and results: an assigned inspector records the result and evidence; results past
20 working days are reported as overdue."""

from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from core import clock
from domain.errors import (
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from domain.vocabulary import Outcome, PlanStatus
from domain.working_days import PACKAGE_ONLY, WorkingCalendar, add_working_days, is_provisional
from models.base import pk
from models.inspection import (
    Inspection,
    InspectionEvidence,
    InspectionMember,
    InspectionPlan,
    Inspector,
)
from models.user import User
from schemas.inspections import OverdueRectification
from schemas.oversight import OverdueResult
from services.filings import documents as stored_files
from services.notifications import events as notices
from services.oversight import audit
from services.reference import calendar as working_calendar
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
    rectify_by: date | None = None,
) -> Inspection:
    """Records (or corrects) the result. A `rectification` needs `rectify_by`, a date after the
    inspection; once its follow-up is recorded the inspection is closed and the result stands
    (the same result again is answered as it is, anything else is a 409)."""
    if inspection.follow_up_outcome is not None:
        if (inspection.inspected_on, inspection.outcome, inspection.findings) == (
            inspected_on,
            outcome,
            findings,
        ) and inspection.rectify_by == rectify_by:
            return inspection
        raise InvalidTransition("整改复查已记录，检查已结束，不能再修改检查结果")
    if inspected_on > clock.today():
        raise ValidationFailed.single("inspected_on", "future_date", "检查日期不能晚于今天")
    _check_rectify_by(outcome, inspected_on, rectify_by)
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
    inspection.rectify_by = rectify_by
    inspection.recorded_at = clock.now()
    inspection.recorded_by_id = inspector.id
    inspection.result_due_on = add_working_days(
        inspected_on, RESULT_WORKING_DAYS, working_calendar.current(session)
    )
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
        data={
            "outcome": outcome,
            "previous": before,
            "inspected_on": inspected_on.isoformat(),
            "rectify_by": rectify_by.isoformat() if rectify_by else None,
        },
    )
    notices.inspection_result(session, inspection)
    return inspection


def _check_rectify_by(outcome: str, inspected_on: date, rectify_by: date | None) -> None:
    if outcome == Outcome.RECTIFICATION:
        if rectify_by is None:
            raise ValidationFailed.single(
                "rectify_by", "validation_error", "责令整改须填写整改期限（rectify_by）"
            )
        if rectify_by <= inspected_on:
            raise ValidationFailed.single(
                "rectify_by", "validation_error", "整改期限须晚于检查日期"
            )
    elif rectify_by is not None:
        raise ValidationFailed.single(
            "rectify_by", "validation_error", "只有责令整改的结果才有整改期限"
        )


def record_follow_up(
    session: Session,
    inspection: Inspection,
    inspector: Inspector,
    *,
    inspected_on: date,
    outcome: str,
    findings: str,
) -> Inspection:
    """The follow-up check (整改复查) of a rectification, by a member of the same team: it
    closes the inspection and is published with the result. Recording it again (a retry, or a
    correction) replaces it; before a rectification result it is a 409."""
    if inspection.outcome != Outcome.RECTIFICATION or inspection.inspected_on is None:
        raise InvalidTransition("只有责令整改的检查结果才能记录整改复查")
    if inspected_on > clock.today():
        raise ValidationFailed.single("inspected_on", "future_date", "复查日期不能晚于今天")
    if inspected_on < inspection.inspected_on:
        raise ValidationFailed.single(
            "inspected_on", "validation_error", "复查日期不能早于检查日期"
        )
    before = inspection.follow_up_outcome
    inspection.follow_up_on = inspected_on
    inspection.follow_up_outcome = outcome
    inspection.follow_up_findings = findings
    inspection.follow_up_recorded_at = clock.now()
    inspection.follow_up_recorded_by_id = inspector.id
    session.add(inspection)
    session.flush()
    audit.append(
        session,
        actor_id=inspector.user_id,
        action="inspection.follow_up",
        entity="inspection",
        entity_id=inspection.id,
        region_code=_plan_region(session, inspection),
        data={"outcome": outcome, "previous": before, "inspected_on": inspected_on.isoformat()},
    )
    notices.inspection_follow_up(session, inspection)
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


def plan_results_due_on(plan: InspectionPlan, calendar: WorkingCalendar = PACKAGE_ONLY) -> date:
    """When results not yet recorded become overdue: 20 working days after the plan's end."""
    return add_working_days(plan.period_end, RESULT_WORKING_DAYS, calendar)


def overdue(session: Session, *, within: str) -> list[OverdueResult]:
    """Inspections whose result is missing past its due date, or was published after it."""
    today = clock.today()
    plans = session.exec(
        select(InspectionPlan).where(
            InspectionPlan.status == PlanStatus.DRAWN,
            col(InspectionPlan.region_code).startswith(regions.region_prefix(within)),
        )
    ).all()
    calendar = working_calendar.current(session)
    plan_due = {plan.id: plan_results_due_on(plan, calendar) for plan in plans}
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
    overdue = []
    for inspection in rows:
        due_on = inspection.result_due_on or plan_due[inspection.plan_id]
        recorded = inspection.recorded_at
        overdue.append(
            OverdueResult(
                inspection_id=pk(inspection),
                plan_id=inspection.plan_id,
                filing_no=inspection.filing_no,
                team=inspection.team,
                due_on=due_on,
                due_provisional=is_provisional(inspection.inspected_on or due_on, due_on, calendar),
                recorded_on=clock.china_date(recorded) if recorded else None,
            )
        )
    return overdue


def overdue_rectifications(session: Session, *, within: str) -> list[OverdueRectification]:
    """Rectifications past their deadline (`rectify_by` before today, Beijing date) whose
    follow-up is not recorded, in plans inside `within`, the longest overdue first."""
    rows = session.exec(
        select(Inspection)
        .join(InspectionPlan, col(InspectionPlan.id) == Inspection.plan_id)
        .where(
            col(InspectionPlan.region_code).startswith(regions.region_prefix(within)),
            Inspection.outcome == Outcome.RECTIFICATION,
            col(Inspection.follow_up_outcome).is_(None),
            col(Inspection.rectify_by) < clock.today(),
        )
        .order_by(col(Inspection.rectify_by), col(Inspection.id))
    ).all()
    return [
        OverdueRectification(
            inspection_id=pk(inspection),
            plan_id=inspection.plan_id,
            filing_no=inspection.filing_no,
            outlet_name=inspection.outlet_name,
            team=inspection.team,
            inspected_on=inspection.inspected_on,
            rectify_by=inspection.rectify_by,
        )
        for inspection in rows
        if inspection.rectify_by is not None
    ]
