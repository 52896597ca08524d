"""What each event tells whom (SPEC §10). Each function is the one line a service calls in the
transaction of its event.

Links point at the pages people use: operators `/my/filings/{id}`, `/my/inspections`,
`/register/status`; anyone `/verify/{receipt_no}`, `/inspection-plans/{id}`; reviewers
`/review/filings/{id}`; an assigned team `/inspector/tasks/{id}`; an overdue result, told to the
team and to admins and inspectors around it, the inspection's API record.
E-mail and SMS carry them absolute (PUBLIC_BASE_URL); the in-app inbox keeps them relative."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core import clock
from domain.vocabulary import (
    DocumentKind,
    FilingAction,
    FollowUpOutcome,
    NoticeBatchKind,
    NotificationKind,
    Outcome,
    Role,
)
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from models.inspection import (
    Inspection,
    InspectionItem,
    InspectionMember,
    InspectionPlan,
    Inspector,
)
from models.notification import NoticeBatch
from models.user import User
from services.notifications.outbox import enterprise_recipients, notify, staff_recipients

# The names people see on the forms (SPEC §9) for the fields a correction may name.
FIELD_LABELS = {
    "outlet": "网点信息",
    "outlet.name": "网点名称",
    "outlet.type": "网点类型",
    "outlet.scope": "业务范围",
    "outlet.brands": "服务品牌",
    "outlet.county_code": "所在县区",
    "outlet.township_code": "所在乡镇",
    "outlet.address": "详细地址",
    "outlet.latitude": "纬度",
    "outlet.longitude": "经度",
    "outlet.opened_on": "开办日期",
    "outlet.business_hours": "营业时间",
    "outlet.floor_area_m2": "面积（平方米）",
    "outlet.staff_count": "从业人数",
    "outlet.has_cctv": "有监控设备",
    "person_in_charge": "负责人信息",
    "person_in_charge.name": "负责人姓名",
    "person_in_charge.id_number": "负责人身份证号码",
    "person_in_charge.mobile": "负责人手机号码",
    "partner": "合作方信息",
    "partner.name": "合作方名称",
    "partner.id_number_or_uscc": "合作方证件号码",
    "partner.mobile": "合作方手机号码",
    "changed_on": "变更日期",
}


def correction_line(item: dict[str, str]) -> str:
    """`字段“详细地址”：理由` or `文件“场所照片”：理由`."""
    if item.get("document"):
        kind = item["document"]
        label = DocumentKind(kind).label if kind in DocumentKind.values() else kind
        return f"文件“{label}”：{item.get('reason', '')}"
    field = item.get("field", "")
    return f"字段“{FIELD_LABELS.get(field, field)}”：{item.get('reason', '')}"


OPERATOR_INSPECTIONS = "/my/inspections"


def staff_filing_link(filing_id: int) -> str:
    return f"/review/filings/{filing_id}"


def _task_link(inspection_id: int) -> str:
    return f"/inspector/tasks/{inspection_id}"


def _staff_inspection(inspection: Inspection) -> str:
    return f"/api/v1/inspections/{pk(inspection)}"


def _operators(session: Session, filing: Filing) -> list[User]:
    return enterprise_recipients(session, filing.enterprise_id)


def filing_returned(session: Session, filing: Filing, rev: FilingRevision) -> None:
    lines = [f"{n}. {correction_line(item)}" for n, item in enumerate(rev.corrections, 1)]
    body = f"网点“{rev.outlet_name}”的备案材料需补正后重新提交，共 {len(lines)} 项：\n" + "\n".join(
        lines
    )
    notify(
        session,
        _operators(session, filing),
        kind=NotificationKind.FILING_RETURNED,
        title=f"备案退回补正：{rev.outlet_name}",
        body=body,
        link=f"/my/filings/{pk(filing)}",
    )


def filing_accepted(session: Session, filing: Filing, rev: FilingRevision) -> None:
    notify(
        session,
        _operators(session, filing),
        kind=NotificationKind.FILING_ACCEPTED,
        title=f"备案通过：{rev.outlet_name}",
        body=(
            f"网点“{rev.outlet_name}”已备案，备案编号 {filing.filing_no}，"
            f"回执编号 {rev.receipt_no}。任何人可凭回执编号在线核验。"
        ),
        link=f"/verify/{rev.receipt_no}",
    )


def filing_ended(session: Session, filing: Filing, action: str, reason: str) -> None:
    """A revocation (a closure is the operator's own act: no notice; lapses are told once per
    enterprise by `filings_lapsed`)."""
    if action != FilingAction.REVOKE:
        return
    name = _outlet_name(session, filing)
    notify(
        session,
        _operators(session, filing),
        kind=NotificationKind.FILING_REVOKED,
        title=f"备案被撤销：{name}",
        body=f"网点“{name}”（备案编号 {filing.filing_no}）的备案已被撤销。原因：{reason}",
        link=f"/my/filings/{pk(filing)}",
    )


def filings_lapsed(session: Session, enterprise: Enterprise, count: int, reason: str) -> None:
    """A licence cancellation: one summary notice per account, however many filings lapsed."""
    if count == 0:
        return
    notify(
        session,
        enterprise_recipients(session, pk(enterprise)),
        kind=NotificationKind.FILING_LAPSED,
        title=f"备案失效：{count} 个网点",
        body=(
            f"“{enterprise.name}”的快递业务经营许可已注销，其 {count} 个网点的备案随之失效。"
            f"原因：{reason}"
        ),
        link="/my/filings",
    )


def _outlet_name(session: Session, filing: Filing) -> str:
    rev_id = filing.current_revision_id or filing.open_revision_id
    rev = session.get(FilingRevision, rev_id) if rev_id else None
    return rev.outlet_name if rev else str(filing.filing_no)


def enterprise_approved(session: Session, enterprise: Enterprise) -> None:
    notify(
        session,
        enterprise_recipients(session, pk(enterprise)),
        kind=NotificationKind.ENTERPRISE_APPROVED,
        title="企业登记已批准",
        body=f"“{enterprise.name}”的企业登记已审核通过，现在可以办理网点备案。",
        link="/register/status",
    )


def enterprise_rejected(session: Session, enterprise: Enterprise, reason: str) -> None:
    notify(
        session,
        enterprise_recipients(session, pk(enterprise)),
        kind=NotificationKind.ENTERPRISE_REJECTED,
        title="企业登记被驳回",
        body=f"“{enterprise.name}”的企业登记被驳回，请修改后重新提交。原因：{reason}",
        link="/register/status",
    )


def _item_names(session: Session, codes: Iterable[str]) -> str:
    codes = list(codes)
    names = {
        item.code: item.name
        for item in session.exec(
            select(InspectionItem).where(col(InspectionItem.code).in_(codes))
        ).all()
    }
    return "、".join(names.get(code, code) for code in codes)


def _team_users(session: Session, inspection: Inspection) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(Inspector, col(Inspector.user_id) == col(User.id))
            .join(InspectionMember, col(InspectionMember.inspector_id) == col(Inspector.id))
            .where(InspectionMember.inspection_id == pk(inspection))
            .order_by(col(User.id))
        ).all()
    )


def inspections_drawn(session: Session, plan: InspectionPlan) -> None:
    """A draw tells every drawn outlet's operators and every team member (SPEC §10): tens of
    thousands of notices for a city-wide plan, so the draw's transaction writes one batch row
    and the worker writes the notices after commit (`drawn_notices`, by `batches`)."""
    session.add(
        NoticeBatch(
            kind=NoticeBatchKind.INSPECTIONS_DRAWN,
            payload={"plan_id": pk(plan)},
            created_at=clock.now(),
        )
    )
    session.flush()


@dataclass(frozen=True)
class Notice:
    """One message to several people (a `notify` call not yet written)."""

    users: list[User]
    kind: NotificationKind
    title: str
    body: str
    link: str | None


@dataclass(frozen=True)
class _Drawn:
    id: int
    m: int
    filing_id: int
    filing_no: str
    outlet_name: str
    team: list[str]


@dataclass(frozen=True)
class Chunk:
    """The notices of up to `limit` items of a batch; `last` is the progress after them."""

    last: int
    items: int
    notices: list[Notice]


def drawn_notices(session: Session, plan_id: int, *, after_m: int, limit: int) -> Chunk:
    """The notices of the plan's inspections after `after_m`, at most `limit` inspections in draw
    order: each drawn outlet's operators, then its team. A handful of queries per chunk,
    whatever its size."""
    # The plan's own columns only: its frozen frame is tens of megabytes in a city-wide plan.
    plan = session.execute(
        sa_select(
            col(InspectionPlan.name),
            col(InspectionPlan.item_codes),
            col(InspectionPlan.period_start),
            col(InspectionPlan.period_end),
        ).where(col(InspectionPlan.id) == plan_id)
    ).first()
    rows = session.execute(
        sa_select(
            col(Inspection.id),
            col(Inspection.m),
            col(Inspection.filing_id),
            col(Inspection.filing_no),
            col(Inspection.outlet_name),
            col(Inspection.team),
        )
        .where(col(Inspection.plan_id) == plan_id, col(Inspection.m) > after_m)
        .order_by(col(Inspection.m))
        .limit(limit)
    ).all()
    drawn = [_Drawn(*row) for row in rows]
    if plan is None or not drawn:
        return Chunk(after_m, 0, [])
    plan_name, item_codes, period_start, period_end = plan
    enterprise_of = dict(
        session.exec(
            select(Filing.id, Filing.enterprise_id).where(
                col(Filing.id).in_({d.filing_id for d in drawn})
            )
        ).all()
    )
    operators: dict[int, list[User]] = {}
    for user in session.exec(
        select(User)
        .where(
            col(User.enterprise_id).in_(set(enterprise_of.values())),
            User.role == Role.OPERATOR,
            col(User.active).is_(True),
        )
        .order_by(col(User.id))
    ).all():
        if user.enterprise_id is not None:
            operators.setdefault(user.enterprise_id, []).append(user)
    teams: dict[int, list[User]] = {}
    for inspection_id, user in session.exec(
        select(InspectionMember.inspection_id, User)
        .join(Inspector, col(Inspector.user_id) == col(User.id))
        .join(InspectionMember, col(InspectionMember.inspector_id) == col(Inspector.id))
        .where(col(InspectionMember.inspection_id).in_([d.id for d in drawn]))
        .order_by(col(User.id))
    ).all():
        teams.setdefault(inspection_id, []).append(user)
    items = _item_names(session, item_codes)
    period = f"{period_start.isoformat()} 至 {period_end.isoformat()}"
    notices: list[Notice] = []
    for d in drawn:
        # The outlet as drawn (the revision in force at the draw), as its inspection shows it:
        # a rename between the draw and the expansion does not change what was drawn.
        name = d.outlet_name
        notices.append(
            Notice(
                operators.get(enterprise_of.get(d.filing_id, -1), []),
                NotificationKind.INSPECTION_NOTICE,
                f"抽查通知：{name}",
                (
                    f"网点“{name}”（备案编号 {d.filing_no}）在“{plan_name}”中被随机抽取。"
                    f"检查事项：{items}；检查期间：{period}；"
                    f"检查组执法证号：{'、'.join(d.team)}。"
                    "请备好备案回执、营业执照、场所及收寄验视等相关记录，配合检查。"
                ),
                f"/inspection-plans/{plan_id}",  # the published plan
            )
        )
        notices.append(
            Notice(
                teams.get(d.id, []),
                NotificationKind.INSPECTION_NOTICE,
                f"检查任务：{name}",
                (
                    f"您被随机选派检查网点“{name}”（备案编号 {d.filing_no}）。"
                    f"检查事项：{items}；检查期间：{period}。"
                ),
                _task_link(d.id),
            )
        )
    return Chunk(drawn[-1].m, len(drawn), notices)


def inspection_result(session: Session, inspection: Inspection) -> None:
    filing = session.get(Filing, inspection.filing_id)
    assert filing is not None
    name = _outlet_name(session, filing)
    outcome = Outcome(inspection.outcome).label if inspection.outcome else ""
    deadline = (
        f"整改期限：{inspection.rectify_by.isoformat()}，到期后将进行整改复查。"
        if inspection.rectify_by
        else ""
    )
    notify(
        session,
        _operators(session, filing),
        kind=NotificationKind.INSPECTION_RESULT,
        title=f"抽查结果：{name}",
        body=(
            f"网点“{name}”（备案编号 {inspection.filing_no}）的抽查结果：{outcome}。"
            f"检查日期：{inspection.inspected_on}。{deadline}"
            f"检查情况：{inspection.findings or ''}"
        ),
        link=OPERATOR_INSPECTIONS,
    )


def inspection_follow_up(session: Session, inspection: Inspection) -> None:
    """The follow-up check (整改复查) of a rectification: its outcome closes the inspection."""
    filing = session.get(Filing, inspection.filing_id)
    assert filing is not None
    name = _outlet_name(session, filing)
    outcome = (
        FollowUpOutcome(inspection.follow_up_outcome).label if inspection.follow_up_outcome else ""
    )
    notify(
        session,
        _operators(session, filing),
        kind=NotificationKind.INSPECTION_RESULT,
        title=f"整改复查结果：{name}",
        body=(
            f"网点“{name}”（备案编号 {inspection.filing_no}）的整改复查结果：{outcome}。"
            f"复查日期：{inspection.follow_up_on}。"
            f"复查情况：{inspection.follow_up_findings or ''}"
        ),
        link=OPERATOR_INSPECTIONS,
    )


def review_due_soon(session: Session, rev: FilingRevision, due_on: date) -> None:
    notify(
        session,
        staff_recipients(session, Role.REVIEWER, rev.county_code),
        kind=NotificationKind.REVIEW_DUE_SOON,
        title=f"审核即将到期：{rev.outlet_name}",
        body=f"网点“{rev.outlet_name}”的备案须在 {due_on.isoformat()} 前办结，仅剩一个工作日。",
        link=staff_filing_link(rev.filing_id),
    )


def result_overdue(session: Session, inspection: Inspection, due_on: date) -> None:
    plan = session.get(InspectionPlan, inspection.plan_id)
    filing = session.get(Filing, inspection.filing_id)
    assert plan is not None and filing is not None
    recipients = [
        *_team_users(session, inspection),
        *staff_recipients(session, Role.ADMIN, plan.region_code),
        *staff_recipients(session, Role.ADMIN, filing.county_code),
        *staff_recipients(session, Role.INSPECTOR, filing.county_code),
    ]
    notify(
        session,
        recipients,
        kind=NotificationKind.RESULT_OVERDUE,
        title=f"检查结果逾期未公示：{inspection.filing_no}",
        body=(
            f"“{plan.name}”中对网点（备案编号 {inspection.filing_no}）的检查结果应在 "
            f"{due_on.isoformat()} 前公示，现已逾期。"
        ),
        link=_staff_inspection(inspection),
    )
