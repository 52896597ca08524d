"""What an inspection shows to the people it concerns (SPEC §4.1): to its inspectors, where the
outlet is, whose it is and what to check; to the operator of the inspected outlet, the notice
(items, period, team certificate numbers, what to prepare) and the result with its follow-up.

Every list is read with one query per kind of record (plans, items, outlets, operators,
regions), never one per row.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from domain.errors import NotFound
from domain.vocabulary import FollowUpOutcome, Outcome
from models.base import aware, pk
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from models.inspection import (
    Inspection,
    InspectionItem,
    InspectionMember,
    InspectionPlan,
    Inspector,
)
from models.region import Region
from models.user import User
from schemas.inspections import (
    AssignedOperator,
    AssignedOutlet,
    FollowUpPublic,
    InspectionPublic,
    OperatorInspection,
    PlanItem,
)


def is_open() -> ColumnElement[bool]:
    """SQL: the inspection is not closed (no result yet, or a rectification not followed up)."""
    return or_(
        col(Inspection.outcome).is_(None),
        and_(
            col(Inspection.outcome) == Outcome.RECTIFICATION,
            col(Inspection.follow_up_outcome).is_(None),
        ),
    )


def is_closed(inspection: Inspection) -> bool:
    if inspection.outcome is None:
        return False
    return inspection.outcome != Outcome.RECTIFICATION or inspection.follow_up_outcome is not None


def inspects(session: Session, user: User, filing_id: int) -> bool:
    """Whether `user` is an inspector on the team of an open inspection of the filing."""
    found = session.exec(
        select(Inspection.id)
        .join(InspectionMember, col(InspectionMember.inspection_id) == Inspection.id)
        .join(Inspector, col(Inspector.id) == InspectionMember.inspector_id)
        .where(Inspector.user_id == user.id, Inspection.filing_id == filing_id, is_open())
        .limit(1)
    ).first()
    return found is not None


def follow_up_of(inspection: Inspection) -> FollowUpPublic | None:
    if inspection.follow_up_outcome is None or inspection.follow_up_on is None:
        return None
    return FollowUpPublic(
        inspected_on=inspection.follow_up_on,
        outcome=FollowUpOutcome(inspection.follow_up_outcome),
        findings=inspection.follow_up_findings,
    )


def _plans(session: Session, inspections: Sequence[Inspection]) -> dict[int, InspectionPlan]:
    ids = {i.plan_id for i in inspections}
    if not ids:
        return {}
    rows = session.exec(select(InspectionPlan).where(col(InspectionPlan.id).in_(ids))).all()
    return {pk(plan): plan for plan in rows}


def _items(session: Session, plans: Iterable[InspectionPlan]) -> dict[int, list[PlanItem]]:
    """Each plan's items with their names (a code no longer in the list is named by itself)."""
    plans = list(plans)
    codes = {code for plan in plans for code in plan.item_codes}
    names: dict[str, str] = {}
    if codes:
        names = dict(
            session.exec(
                select(InspectionItem.code, InspectionItem.name).where(
                    col(InspectionItem.code).in_(codes)
                )
            ).all()
        )
    return {
        pk(plan): [PlanItem(code=code, name=names.get(code, code)) for code in plan.item_codes]
        for plan in plans
    }


def _outlets(session: Session, filing_ids: set[int]) -> dict[int, tuple[Filing, FilingRevision]]:
    """Each filing with the revision in force (or, before any, the one it was filed with)."""
    if not filing_ids:
        return {}
    shown = func.coalesce(Filing.current_revision_id, Filing.open_revision_id)
    rows = session.exec(
        select(Filing, FilingRevision)
        .join(FilingRevision, col(FilingRevision.id) == shown)
        .where(col(Filing.id).in_(filing_ids))
    ).all()
    return {pk(filing): (filing, revision) for filing, revision in rows}


def _region_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        session.exec(select(Region.code, Region.name).where(col(Region.code).in_(codes))).all()
    )


def _coordinate(outlet: dict[str, Any], key: str) -> float | None:
    value = outlet.get(key)
    return float(value) if isinstance(value, int | float) else None


def for_inspectors(session: Session, inspections: Sequence[Inspection]) -> list[InspectionPublic]:
    """Assignments as their inspectors see them: outlet (as in force, with region names and
    GCJ-02 coordinates when known), operator and its contact, items and period."""
    plans = _plans(session, inspections)
    items = _items(session, plans.values())
    outlets = _outlets(session, {i.filing_id for i in inspections})
    enterprise_ids = {filing.enterprise_id for filing, _ in outlets.values()}
    enterprises = (
        {
            pk(e): e
            for e in session.exec(
                select(Enterprise).where(col(Enterprise.id).in_(enterprise_ids))
            ).all()
        }
        if enterprise_ids
        else {}
    )
    names = _region_names(
        session,
        {code for _, rev in outlets.values() for code in (rev.county_code, rev.township_code)},
    )
    views = []
    for inspection in inspections:
        plan = plans[inspection.plan_id]
        filing, revision = outlets[inspection.filing_id]
        enterprise = enterprises[filing.enterprise_id]
        views.append(
            InspectionPublic(
                id=pk(inspection),
                plan_id=inspection.plan_id,
                plan_name=plan.name,
                m=inspection.m,
                filing_id=inspection.filing_id,
                filing_no=inspection.filing_no,
                stratum=inspection.stratum,
                team=inspection.team,
                outlet=AssignedOutlet(
                    name=revision.outlet_name,
                    address=revision.address,
                    county_name=names.get(revision.county_code),
                    township_name=names.get(revision.township_code),
                    latitude=_coordinate(revision.outlet, "latitude"),
                    longitude=_coordinate(revision.outlet, "longitude"),
                ),
                operator=AssignedOperator(
                    name=enterprise.name,
                    contact_name=enterprise.contact_name,
                    contact_mobile=enterprise.contact_mobile,
                ),
                items=items[inspection.plan_id],
                period_start=plan.period_start,
                period_end=plan.period_end,
                inspected_on=inspection.inspected_on,
                outcome=inspection.outcome,
                findings=inspection.findings,
                rectify_by=inspection.rectify_by,
                recorded_at=aware(inspection.recorded_at),
                follow_up=follow_up_of(inspection),
                closed=is_closed(inspection),
            )
        )
    return views


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def what_to_prepare(plan: InspectionPlan, items: list[PlanItem], team: list[str]) -> str:
    """A short notice built only from what the plan says: period, items and certificates."""
    return (
        f"检查时间：{_chinese_date(plan.period_start)}至{_chinese_date(plan.period_end)}。"
        f"检查人员将出示执法证（证号：{'、'.join(team)}）。"
        "请准备：备案回执，以及与下列检查事项有关的材料和设施："
        f"{'、'.join(i.name for i in items)}。"
    )


def _of_enterprise(user: User) -> Any:
    return (
        select(Inspection)
        .join(Filing, col(Filing.id) == Inspection.filing_id)
        .where(Filing.enterprise_id == user.enterprise_id)
    )


def for_operator(session: Session, user: User) -> list[OperatorInspection]:
    """Inspections of the operator's enterprise's outlets (drawn plans), oldest first."""
    rows = session.exec(_of_enterprise(user).order_by(col(Inspection.id))).all()
    return _operator_views(session, rows)


def one_for_operator(session: Session, user: User, inspection_id: int) -> OperatorInspection:
    row = session.exec(_of_enterprise(user).where(Inspection.id == inspection_id)).first()
    if row is None:
        raise NotFound("检查任务不存在")
    return _operator_views(session, [row])[0]


def _operator_views(
    session: Session, inspections: Sequence[Inspection]
) -> list[OperatorInspection]:
    plans = _plans(session, inspections)
    items = _items(session, plans.values())
    return [
        OperatorInspection(
            id=pk(inspection),
            plan_id=inspection.plan_id,
            plan_name=plans[inspection.plan_id].name,
            filing_id=inspection.filing_id,
            filing_no=inspection.filing_no,
            outlet_name=inspection.outlet_name,
            outlet_address=inspection.outlet_address,
            items=items[inspection.plan_id],
            period_start=plans[inspection.plan_id].period_start,
            period_end=plans[inspection.plan_id].period_end,
            team=inspection.team,
            prepare=what_to_prepare(
                plans[inspection.plan_id], items[inspection.plan_id], inspection.team
            ),
            inspected_on=inspection.inspected_on,
            outcome=inspection.outcome,
            findings=inspection.findings,
            rectify_by=inspection.rectify_by,
            follow_up=follow_up_of(inspection),
        )
        for inspection in inspections
    ]
