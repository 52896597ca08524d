"""A draw's notices (SPEC §10): one outbox row in the draw's transaction, expanded by the worker
after commit, in chunks, exactly once, whatever crashes or competing workers do."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from domain.vocabulary import NoticeBatchKind
from models.base import pk
from models.filing import Filing
from models.inspection import Inspection, InspectionPlan, Inspector
from models.notification import Delivery, NoticeBatch, Notification
from models.user import User
from schemas.inspections import PlanCreate
from services.accounts import users as accounts
from services.inspections import draws, plans
from services.notifications import batches, delivery
from tests.conftest import scope_of
from tests.factories import make_inspector, make_staff
from tests.pages.test_public_pages import filed_outlets

COUNTY, TOWNSHIPS = "451121", ["451121100", "451121101"]  # rolled back
SOURCES = [[3, 8, 1], [2, 5, 12, 8, 10]]
Notice = tuple[int, str, str, str]  # user, kind, title, link


@pytest.fixture(autouse=True)
def only_this_test_s_batches(session: Session) -> None:
    """Batches other tests committed (a live server's draws) wait for a worker that never runs
    in the suite; here they count as expanded, inside this test's rolled-back transaction, so
    a claim finds this test's batch."""
    session.execute(
        update(NoticeBatch)
        .where(col(NoticeBatch.expanded_at).is_(None))
        .values(expanded_at=clock.now())
    )
    session.flush()


def announced_plan(session: Session, objects: int = 4) -> tuple[InspectionPlan, User]:
    """Six filed outlets of one enterprise with two operator accounts, four inspectors with
    logins, and an announced plan over the county drawing `objects` of them."""
    operator, _, _ = filed_outlets(session, COUNTY, TOWNSHIPS, "批次", count=6)
    accounts.create_user(
        session,
        username=f"{operator.username}_b",
        password="another-secret-1",
        role="operator",
        jurisdiction=operator.jurisdiction,
        display_name="第二账号",
        enterprise_id=operator.enterprise_id,
    )
    admin = make_staff(session, role="admin", jurisdiction=COUNTY)
    for n in range(4):
        make_inspector(session, admin, f"PC-{pk(admin)}-{n}", jurisdiction=COUNTY)
    today = clock.today()
    body = PlanCreate.model_validate(
        {
            "name": "批次通知抽查计划",
            "region_code": COUNTY,
            "item_codes": ["real_name", "security_equipment"],
            "sampling": {"mode": "count", "count": objects},
            "team_size": 2,
            "exclude_recent_days": 0,
            "period_start": today.isoformat(),
            "period_end": (today + timedelta(days=30)).isoformat(),
            "randomness_sources": "福彩 3D 开奖号码；体彩排列五开奖号码",
        }
    )
    plan = plans.create_plan(session, admin=admin, body=body)
    plans.announce(session, plan, admin=admin)
    return plan, admin


def drawn_plan(session: Session, objects: int = 4) -> InspectionPlan:
    plan, admin = announced_plan(session, objects)
    return draws.run_draw(session, plan, admin=admin, sources=SOURCES)


def batch_of(session: Session, plan: InspectionPlan) -> NoticeBatch | None:
    found = [
        batch
        for batch in session.exec(select(NoticeBatch).order_by(col(NoticeBatch.id))).all()
        if batch.payload == {"plan_id": pk(plan)}
    ]
    assert len(found) <= 1
    return found[0] if found else None


def expected_notices(session: Session, plan: InspectionPlan) -> list[Notice]:
    """What the draw tells, worked out from the stored inspections: each outlet's active
    operators (`抽查通知`, the published plan), then its team (`检查任务`, the task page)."""
    expected: list[Notice] = []
    for inspection in session.exec(
        select(Inspection).where(Inspection.plan_id == pk(plan)).order_by(col(Inspection.m))
    ).all():
        operators = session.exec(
            select(User)
            .where(User.enterprise_id == operator_enterprise(session, inspection))
            .order_by(col(User.id))
        ).all()
        expected += [
            (pk(u), "inspection_notice", f"抽查通知：{inspection.outlet_name}", plan_link(plan))
            for u in operators
        ]
        team = session.exec(
            select(User)
            .join(Inspector, col(Inspector.user_id) == col(User.id))
            .where(col(Inspector.certificate_no).in_(inspection.team))
            .order_by(col(User.id))
        ).all()
        link = f"/inspector/tasks/{pk(inspection)}"
        expected += [
            (pk(u), "inspection_notice", f"检查任务：{inspection.outlet_name}", link) for u in team
        ]
    return expected


def operator_enterprise(session: Session, inspection: Inspection) -> int | None:
    filing = session.get(Filing, inspection.filing_id)
    assert filing is not None
    return filing.enterprise_id


def plan_link(plan: InspectionPlan) -> str:
    return f"/inspection-plans/{pk(plan)}"


def notices_of(session: Session, plan: InspectionPlan) -> list[Notice]:
    """The draw's notices in the order they were written."""
    task_links = {
        f"/inspector/tasks/{i}"
        for i in session.exec(select(Inspection.id).where(Inspection.plan_id == pk(plan))).all()
    }
    rows = session.exec(
        select(Notification)
        .where(col(Notification.link).in_({plan_link(plan), *task_links}))
        .order_by(col(Notification.id))
    ).all()
    return [(n.user_id, n.kind, n.title, n.link or "") for n in rows]


def test_the_draw_writes_one_batch_and_no_notice_in_its_transaction(session: Session) -> None:
    plan = drawn_plan(session)
    batch = batch_of(session, plan)
    assert batch is not None and batch.kind == NoticeBatchKind.INSPECTIONS_DRAWN
    assert batch.progress == 0 and batch.expanded_at is None and batch.claimed_until is None
    assert notices_of(session, plan) == []


def test_the_worker_writes_every_notice_the_draw_used_to_write(session: Session) -> None:
    plan = drawn_plan(session)
    expected = expected_notices(session, plan)
    assert len(expected) == 4 * (2 + 2)  # two operator accounts and a team of two per outlet
    session.commit()  # the draw commits; the worker comes after

    assert batches.expand(scope_of(session)) >= len(expected)
    assert notices_of(session, plan) == expected
    batch = batch_of(session, plan)
    assert batch is not None and batch.expanded_at is not None and batch.claimed_until is None
    assert batch.notices == len(expected) and batch.progress == 4
    body = session.exec(
        select(Notification.body).where(Notification.title == expected[0][2])
    ).first()
    assert body is not None and "检查事项：收寄实名制执行情况、" in body
    assert f"检查期间：{plan.period_start.isoformat()} 至 {plan.period_end.isoformat()}" in body


def test_a_worker_round_expands_batches_before_it_sends(session: Session) -> None:
    plan = drawn_plan(session, objects=1)
    session.commit()
    _, report = delivery.run_round(scope_of(session))
    assert report.expanded >= 4
    assert len(notices_of(session, plan)) == 4


def test_expanding_twice_writes_nothing_more(session: Session) -> None:
    plan = drawn_plan(session)
    session.commit()
    batches.expand(scope_of(session))
    once = notices_of(session, plan)
    batch = batch_of(session, plan)
    assert batch is not None
    batches.expand(scope_of(session))
    # A worker still holding a claim on the finished batch (a stale lease) writes nothing.
    assert batches.expand_chunk(session, batches.Claim(pk(batch), clock.now())) == (0, None)
    assert notices_of(session, plan) == once


def test_a_rolled_back_draw_leaves_no_batch(session: Session) -> None:
    plan, admin = announced_plan(session)
    session.commit()
    draws.run_draw(session, plan, admin=admin, sources=SOURCES)
    assert batch_of(session, plan) is not None
    session.rollback()  # the draw's transaction fails after the batch row was written
    assert batch_of(session, plan) is None
    assert session.exec(select(Inspection).where(Inspection.plan_id == pk(plan))).first() is None
    batches.expand(scope_of(session))
    assert notices_of(session, plan) == []


def test_a_worker_that_dies_mid_way_is_resumed_without_duplicates(
    session: Session, fixed_clock: object
) -> None:
    plan = drawn_plan(session)
    expected = expected_notices(session, plan)
    session.commit()
    batch = batch_of(session, plan)
    assert batch is not None
    with scope_of(session)() as s:
        held = batches.claim(s)
    assert held is not None and held.id == pk(batch)
    with scope_of(session)() as s:
        written, renewed = batches.expand_chunk(s, held, size=1)
    assert written == 4 and renewed is not None  # one outlet told; then the worker dies

    batches.expand(scope_of(session), size=1)  # its lease still runs: nobody takes over
    assert notices_of(session, plan) == expected[:4]
    clock.set_clock(lambda: renewed.lease + timedelta(seconds=1))
    batches.expand(scope_of(session), size=1)  # the lease ran out: another worker resumes
    assert notices_of(session, plan) == expected


def test_a_worker_whose_lease_was_taken_over_writes_nothing(
    session: Session, fixed_clock: object
) -> None:
    plan = drawn_plan(session)
    expected = expected_notices(session, plan)
    session.commit()
    with scope_of(session)() as s:
        first = batches.claim(s)
    assert first is not None
    clock.set_clock(lambda: first.lease + timedelta(seconds=1))  # the first worker stalled
    with scope_of(session)() as s:
        second = batches.claim(s)
    assert second is not None and second.id == first.id
    with scope_of(session)() as s:
        assert batches.expand_chunk(s, first, size=2) == (0, None)
    assert notices_of(session, plan) == []
    current: batches.Claim | None = second
    while current is not None:
        with scope_of(session)() as s:
            _, current = batches.expand_chunk(s, current, size=3)
    assert notices_of(session, plan) == expected


def test_an_expanded_notice_is_queued_by_email_with_its_absolute_link(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_url", "smtp://127.0.0.1:2525")
    plan = drawn_plan(session, objects=1)
    inspection = session.exec(select(Inspection).where(Inspection.plan_id == pk(plan))).one()
    enterprise_id = operator_enterprise(session, inspection)
    for user in session.exec(select(User).where(User.enterprise_id == enterprise_id)).all():
        user.email = f"{user.username}@example.test"
        session.add(user)
    session.commit()
    batches.expand(scope_of(session))
    notice = session.exec(
        select(Notification)
        .where(Notification.link == plan_link(plan))
        .order_by(col(Notification.id))
    ).first()
    assert notice is not None
    sent = session.exec(select(Delivery).where(Delivery.notification_id == notice.id)).all()
    assert [(d.channel, d.status, d.subject) for d in sent] == [("email", "pending", notice.title)]
    assert sent[0].body == f"{notice.body}\n\nhttps://filing.example.test{plan_link(plan)}"
