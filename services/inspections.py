"""Double random, one public: items, inspectors, plans (create → announce → draw), results.

The draw itself is the pure `services.draw`; this module freezes its inputs, stores its outputs
and publishes both. Announce and draw each happen once: the plan row is locked, so concurrent
attempts queue and the losers find it already done (409).
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from core import clock
from models.enterprise import Enterprise
from models.filing import Filing
from models.inspection import (
    Inspection,
    InspectionEvidence,
    InspectionItem,
    InspectionMember,
    InspectionPlan,
    Inspector,
)
from models.user import User
from services import audit, draw, regions, risk
from services.errors import (
    Conflict,
    DuplicateUsername,
    FieldError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from services.working_days import add_working_days

RESULT_WORKING_DAYS = 20  # results are published within 20 working days of the inspection

PLAN_TRANSITIONS = {("draft", "announce"): "announced", ("announced", "draw"): "drawn"}


class NotEnoughInspectors(Conflict):
    code = "not_enough_inspectors"
    message = "可回避后的检查人员不足，无法为每个检查对象组成检查组"


def _plan_transition(plan: InspectionPlan, action: str) -> str:
    try:
        return PLAN_TRANSITIONS[(plan.status, action)]
    except KeyError:
        names = {"announce": "公告", "draw": "抽取"}
        raise InvalidTransition(f"该计划当前状态（{plan.status}）下不能{names[action]}") from None


# --- items and inspectors -----------------------------------------------------------------


def list_items(session: Session) -> list[InspectionItem]:
    return list(session.exec(select(InspectionItem).order_by(InspectionItem.code)).all())


def create_item(session: Session, *, code: str, name: str) -> InspectionItem:
    if session.get(InspectionItem, code) is not None:
        raise Conflict("检查事项代码已存在")
    item = InspectionItem(code=code, name=name)
    session.add(item)
    session.flush()
    return item


def list_inspectors(session: Session, *, within: str) -> list[Inspector]:
    return list(
        session.exec(
            select(Inspector)
            .where(col(Inspector.jurisdiction).startswith(regions.region_prefix(within)))
            .order_by(Inspector.certificate_no)
        ).all()
    )


def create_inspector(
    session: Session,
    *,
    admin: User,
    name: str,
    certificate_no: str,
    jurisdiction: str,
    active: bool,
    conflicts: list[str],
    username: str | None,
) -> Inspector:
    if (
        not regions.covers(admin.jurisdiction, jurisdiction)
        or regions.get_region(session, jurisdiction) is None
    ):
        raise ValidationFailed.single("jurisdiction", "unknown_region", "辖区不存在或不在本辖区内")
    if session.exec(select(Inspector).where(Inspector.certificate_no == certificate_no)).first():
        raise Conflict("执法证号已登记")
    user_id = None
    if username:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or user.role != "inspector":
            raise ValidationFailed.single(
                "username", "validation_error", "须关联一个 inspector 角色的账号"
            )
        if session.exec(select(Inspector).where(Inspector.user_id == user.id)).first():
            raise DuplicateUsername("该账号已关联其他检查人员")
        user_id = user.id
    inspector = Inspector(
        name=name,
        certificate_no=certificate_no,
        jurisdiction=jurisdiction,
        active=active,
        conflicts=sorted(set(conflicts)),
        user_id=user_id,
    )
    session.add(inspector)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="inspector.create",
        entity="inspector",
        entity_id=inspector.id,
        data={"certificate_no": certificate_no, "conflicts": inspector.conflicts},
    )
    return inspector


def update_inspector(
    session: Session, inspector: Inspector, *, admin: User, changes: dict[str, Any]
) -> Inspector:
    if "conflicts" in changes:
        changes["conflicts"] = sorted(set(changes["conflicts"]))
    for key in ("name", "active", "conflicts"):
        if key in changes:
            setattr(inspector, key, changes[key])
    session.add(inspector)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="inspector.update",
        entity="inspector",
        entity_id=inspector.id,
        data=changes,
    )
    return inspector


def get_inspector_within(session: Session, inspector_id: int, *, within: str) -> Inspector:
    inspector = session.get(Inspector, inspector_id)
    if inspector is None or not regions.covers(within, inspector.jurisdiction):
        raise NotFound("检查人员不存在")
    return inspector


# --- plans --------------------------------------------------------------------------------


def _sampling(raw: dict[str, Any]) -> dict[str, Any]:
    mode = raw.get("mode")
    if mode == "count":
        count = raw.get("count")
        if (
            not isinstance(count, int)
            or isinstance(count, bool)
            or not 1 <= count <= draw.MAX_PICKS
        ):
            raise ValidationFailed.single(
                "sampling.count", "validation_error", "抽取数量应为 1–65536 的整数"
            )
        return {"mode": "count", "count": count}
    if mode == "rate":
        rates = raw.get("rates") or {}
        clean = {}
        for label in risk.LEVELS:
            try:
                value = Decimal(str(rates[label]))
            except (KeyError, InvalidOperation):
                raise ValidationFailed.single(
                    f"sampling.rates.{label}",
                    "validation_error",
                    "须为每个风险等级给出 0–1 之间的抽取比例",
                ) from None
            if not Decimal(0) <= value <= Decimal(1):
                raise ValidationFailed.single(
                    f"sampling.rates.{label}", "validation_error", "抽取比例须在 0–1 之间"
                )
            clean[label] = str(rates[label])
        return {"mode": "rate", "rates": clean}
    raise ValidationFailed.single("sampling.mode", "validation_error", "抽取方式应为 rate 或 count")


def create_plan(session: Session, *, admin: User, data: dict[str, Any]) -> InspectionPlan:
    errors: list[FieldError] = []
    if (
        not regions.covers(admin.jurisdiction, data["region_code"])
        or regions.get_region(session, data["region_code"]) is None
    ):
        errors.append(FieldError("region_code", "unknown_region", "检查范围不存在或不在本辖区内"))
    known = {item.code for item in list_items(session) if item.active}
    unknown = [code for code in data["item_codes"] if code not in known]
    if unknown or not data["item_codes"]:
        errors.append(
            FieldError(
                "item_codes",
                "validation_error",
                f"检查事项不存在：{'、'.join(unknown) or '未选择'}",
            )
        )
    if data["period_end"] < data["period_start"]:
        errors.append(FieldError("period_end", "validation_error", "计划结束日期早于开始日期"))
    if errors:
        raise ValidationFailed(errors)
    plan = InspectionPlan(
        name=data["name"],
        region_code=data["region_code"],
        item_codes=sorted(set(data["item_codes"])),
        sampling=_sampling(data["sampling"]),
        team_size=data["team_size"],
        exclude_recent_days=data["exclude_recent_days"],
        period_start=data["period_start"],
        period_end=data["period_end"],
        randomness_sources=data["randomness_sources"],
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
        data={"name": plan.name, "sampling": plan.sampling},
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
    if published_only:
        query = query.where(InspectionPlan.status != "draft")
    return list(session.exec(query).all())


def _recently_drawn(session: Session, plan: InspectionPlan, today: date) -> set[int]:
    """Filings drawn for a shared item within the exclusion window."""
    since = datetime.combine(today - timedelta(days=plan.exclude_recent_days), time.min, UTC)
    rows = session.exec(
        select(Inspection.filing_id, InspectionPlan.item_codes)
        .join(InspectionPlan, col(InspectionPlan.id) == Inspection.plan_id)
        .where(
            InspectionPlan.status == "drawn",
            InspectionPlan.id != plan.id,
            col(InspectionPlan.drawn_at) >= since,
        )
    ).all()
    shared = set(plan.item_codes)  # item lists are JSON: compared here, per recent draw only
    return {filing_id for filing_id, items in rows if shared & set(items)}


def announce(session: Session, plan: InspectionPlan, *, admin: User) -> InspectionPlan:
    """Freezes the candidates (with their risk level now) and the inspector pool; digests both."""
    plan.status = _plan_transition(plan, "announce")
    today = clock.today()
    prefix = regions.region_prefix(plan.region_code)
    filed = session.exec(
        select(Filing, Enterprise.uscc)
        .join(Enterprise, col(Enterprise.id) == Filing.enterprise_id)
        .where(Filing.status == "filed", col(Filing.county_code).startswith(prefix))
        .order_by(Filing.filing_no)
    ).all()
    excluded = _recently_drawn(session, plan, today)
    eligible = [(filing, uscc) for filing, uscc in filed if filing.id not in excluded]
    levels = risk.effective_levels(session, [filing for filing, _ in eligible])
    entries = [
        {"filing_no": f.filing_no, "filing_id": f.id, "uscc": uscc, "risk": levels[f.id]}  # type: ignore[index]
        for f, uscc in eligible
    ]
    if plan.sampling["mode"] == "count":
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
    plan.digest = draw.digest(draw.announcement_of(_published_frame(plan)))
    plan.version += 1
    session.add(plan)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="plan.announce",
        entity="inspection_plan",
        entity_id=plan.id,
        data={"digest": plan.digest, "candidates": len(entries), "pool": len(plan.pool)},
    )
    return plan


def run_draw(
    session: Session, plan: InspectionPlan, *, admin: User, sources: list[list[int]]
) -> InspectionPlan:
    """Draws objects and teams once; `not_enough_inspectors` leaves everything unsaved."""
    new_status = _plan_transition(plan, "draw")
    if not sources or any(not values for values in sources):
        raise ValidationFailed.single(
            "sources", "validation_error", "须为每个随机源录入至少一个数值"
        )
    try:
        key = draw.key_string(sources)
        strata = [
            draw.Stratum(s["label"], s["rate"], [c["filing_no"] for c in s["candidates"]])
            for s in plan.strata
        ]
        count = plan.sampling["count"] if plan.sampling["mode"] == "count" else None
        draw.draw_objects(key, strata, count=count)
        by_no = {c["filing_no"]: (c, s["label"]) for s in plan.strata for c in s["candidates"]}
        objects = [(no, by_no[no][0]["uscc"]) for stratum in strata for no in stratum.selected]
        pool = [draw.PoolMember(p["certificate_no"], frozenset(p["conflicts"])) for p in plan.pool]
        assignments = draw.draw_teams(key, objects, pool, plan.team_size)
    except draw.DrawError as error:
        if error.code == "not_enough_inspectors":
            raise NotEnoughInspectors(error.message) from None
        raise ValidationFailed.single("sources", error.code, error.message) from None
    inspector_ids = {p["certificate_no"]: p["inspector_id"] for p in plan.pool}
    for assignment in assignments:
        candidate, label = by_no[assignment.filing_no]
        inspection = Inspection(
            plan_id=plan.id,  # type: ignore[arg-type]
            m=assignment.m,
            filing_id=candidate["filing_id"],
            filing_no=assignment.filing_no,
            stratum=label,
            eligible=assignment.eligible,
            team=assignment.team,
        )
        session.add(inspection)
        session.flush()
        for certificate_no in assignment.team:
            session.add(
                InspectionMember(
                    inspection_id=inspection.id, inspector_id=inspector_ids[certificate_no]
                )
            )  # type: ignore[arg-type]
    # A new value, not an in-place change: JSON columns only notice reassignment.
    plan.strata = [
        {**stored, "selected": computed.selected}
        for stored, computed in zip(plan.strata, strata, strict=True)
    ]
    plan.sources = [sorted(values) for values in sources]
    plan.key_string = key
    plan.status = new_status
    plan.drawn_at = clock.now()
    plan.version += 1
    session.add(plan)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="plan.draw",
        entity="inspection_plan",
        entity_id=plan.id,
        data={"key_string": key, "objects": len(assignments)},
    )
    return plan


# --- publication --------------------------------------------------------------------------


def _published_frame(plan: InspectionPlan) -> dict[str, Any]:
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


def publication(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    """Everything SPEC §6 step 5 publishes: enough for anyone to re-run the draw."""
    frame = _published_frame(plan)
    inspections = session.exec(
        select(Inspection).where(Inspection.plan_id == plan.id).order_by(Inspection.m)
    ).all()
    return {
        **frame,
        "status": plan.status,
        "digest": plan.digest,
        "announced_at": plan.announced_at,
        "drawn_at": plan.drawn_at,
        "sources": plan.sources,
        "key_string": plan.key_string,
        "assignments": [
            {
                "m": i.m,
                "filing_no": i.filing_no,
                "eligible": i.eligible,
                "team": i.team,
                "inspection_id": i.id,
            }
            for i in inspections
        ],
        "results": [
            {
                "filing_no": i.filing_no,
                "inspected_on": i.inspected_on,
                "outcome": i.outcome,
                "findings": i.findings,
            }
            for i in inspections
            if i.outcome is not None
        ],
    }


# --- inspections and results --------------------------------------------------------------


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
            .order_by(Inspection.id)
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
        data={"outcome": outcome, "previous": before, "inspected_on": inspected_on.isoformat()},
    )
    return inspection


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
    evidence = InspectionEvidence(
        inspection_id=inspection.id,  # type: ignore[arg-type]
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
        data={"sha256": sha256},
    )
    return evidence


def plan_results_due_on(plan: InspectionPlan) -> date:
    """When results not yet recorded become overdue: 20 working days after the plan's end."""
    return add_working_days(plan.period_end, RESULT_WORKING_DAYS)


def overdue(session: Session, *, within: str) -> list[dict[str, Any]]:
    """Inspections whose result is missing past its due date, or was published after it."""
    today = clock.today()
    plans = session.exec(
        select(InspectionPlan).where(
            InspectionPlan.status == "drawn",
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
        .order_by(Inspection.id)
    ).all()
    return [
        {
            "inspection_id": inspection.id,
            "plan_id": inspection.plan_id,
            "filing_no": inspection.filing_no,
            "team": inspection.team,
            "due_on": inspection.result_due_on or plan_due[inspection.plan_id],
            "recorded_on": inspection.recorded_at.date() if inspection.recorded_at else None,
        }
        for inspection in rows
    ]
