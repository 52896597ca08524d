"""Notifications (SPEC §10) through the API: the inbox, and the events that write to it."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from domain.working_days import add_working_days
from models.filing import FilingRevision
from models.notification import JobRun
from models.user import User
from services.accounts import users as accounts
from services.notifications import batches, jobs
from tests.api.test_inspections import World, drawn_plan, world  # noqa: F401  (fixture)
from tests.conftest import scope_of
from tests.factories import (
    auth,
    filed_filing,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
    submitted_filing,
)

URL = "/api/v1/notifications"


def inbox(client: TestClient, user: User, **params: Any) -> dict[str, Any]:
    response = client.get(URL, params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    return response.json()


def second_account(session: Session, operator: User) -> User:
    return accounts.create_user(
        session,
        username=f"{operator.username}_b",
        password="another-secret-1",
        role="operator",
        jurisdiction=operator.jurisdiction,
        display_name="第二账号",
        enterprise_id=operator.enterprise_id,
    )


def test_a_returned_filing_tells_every_operator_account_every_correction(
    client: TestClient, session: Session, operator: User, reviewer: User
) -> None:
    other = second_account(session, operator)
    filing = submitted_filing(client, operator)
    corrections = [
        {"field": "outlet.address", "reason": "门牌号缺失"},
        {"document": "premises_photo", "reason": "照片看不清门头"},
        {"field": "person_in_charge.mobile", "reason": "手机号码无法接通"},
    ]
    returned = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "return", "corrections": corrections},
        headers=auth(reviewer),
    )
    assert returned.status_code == 200, returned.text
    for user in (operator, other):
        page = inbox(client, user)
        returned_notices = [n for n in page["items"] if n["kind"] == "filing_returned"]
        assert len(returned_notices) == 1 and page["unread"] == page["total"]
        notice = returned_notices[0]
        assert notice["link"] == f"/my/filings/{filing['id']}"
        assert notice["read_at"] is None and notice["created_at"]
        for text in ("详细地址", "门牌号缺失", "场所照片", "照片看不清门头", "负责人手机号码"):
            assert text in notice["body"]
    assert inbox(client, reviewer)["total"] == 0


def test_an_accepted_filing_gives_the_receipt_number_and_its_verify_link(
    client: TestClient, operator: User, reviewer: User
) -> None:
    filed = filed_filing(client, operator, reviewer)
    notices = [n for n in inbox(client, operator)["items"] if n["kind"] == "filing_accepted"]
    assert len(notices) == 1
    assert filed["receipt_no"] in notices[0]["body"]
    assert notices[0]["link"] == f"/verify/{filed['receipt_no']}"


def test_a_revoked_filing_is_told_with_its_reason(
    client: TestClient, operator: User, reviewer: User
) -> None:
    filed = filed_filing(client, operator, reviewer)
    revoked = client.post(
        f"/api/v1/filings/{filed['id']}/revocation",
        json={"reason": "提交虚假材料"},
        headers=auth(reviewer),
    )
    assert revoked.status_code == 200, revoked.text
    kinds = [n["kind"] for n in inbox(client, operator)["items"]]
    assert kinds[0] == "filing_revoked"
    assert "提交虚假材料" in inbox(client, operator)["items"][0]["body"]


def test_an_approved_enterprise_is_told(client: TestClient, session: Session) -> None:
    owner = operator_of(session, make_enterprise(session, region_code="451102"))
    notices = inbox(client, owner)["items"]
    assert [n["kind"] for n in notices] == ["enterprise_approved"]
    assert notices[0]["link"] == "/register/status"


def test_marking_read_is_for_ones_own_notices_only_and_pages(
    client: TestClient, session: Session, operator: User, reviewer: User
) -> None:
    stranger = operator_of(session, make_enterprise(session, region_code="451102"))
    filed_filing(client, operator, reviewer)  # enterprise_approved + filing_accepted
    page = inbox(client, operator, limit=1)
    assert page["total"] == 2 and page["unread"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["kind"] == "filing_accepted"  # newest first
    assert inbox(client, operator, limit=1, offset=1)["items"][0]["kind"] == "enterprise_approved"
    notice_id = page["items"][0]["id"]
    read_url = f"{URL}/{notice_id}/read"
    assert problem(client.post(read_url, headers=auth(stranger))) == (404, "not_found")
    assert problem(client.post(read_url, headers=auth(reviewer))) == (404, "not_found")
    assert problem(client.post(f"{URL}/2147483647/read", headers=auth(operator))) == (
        404,
        "not_found",
    )
    marked = client.post(read_url, headers=auth(operator))
    assert marked.status_code == 200 and marked.json()["read_at"]
    assert inbox(client, operator)["unread"] == 1
    assert client.get(URL).status_code == 401


def test_drawn_outlets_tell_their_operators_and_teams_and_results_tell_operators(
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    plan = drawn_plan(client, world["admin"], period_start="2026-11-15")
    assignment = plan["assignments"][0]
    filing = next(f for f in world["outlets"] if f.filing_no == assignment["filing_no"])
    owner = session.exec(select(User).where(User.enterprise_id == filing.enterprise_id)).first()
    assert owner is not None
    # The draw's notices are one batch, written by the worker after the draw's commit.
    assert not [n for n in inbox(client, owner)["items"] if n["kind"] == "inspection_notice"]
    assert batches.expand(scope_of(session)) > 0
    notice = next(n for n in inbox(client, owner)["items"] if n["kind"] == "inspection_notice")
    assert assignment["filing_no"] in notice["body"]
    for text in ("2026-11-15", "2026-12-31", *assignment["team"]):
        assert text in notice["body"]
    by_certificate = {inspector.certificate_no: user for inspector, user in world["inspectors"]}
    member = by_certificate[assignment["team"][0]]
    tasks = [n for n in inbox(client, member)["items"] if n["kind"] == "inspection_notice"]
    assert f"/inspector/tasks/{assignment['inspection_id']}" in {n["link"] for n in tasks}
    assert notice["link"] == f"/inspection-plans/{plan['id']}"

    recorded = client.put(
        f"/api/v1/inspections/{assignment['inspection_id']}/result",
        json={"inspected_on": "2026-11-30", "outcome": "no_problem", "findings": "符合要求"},
        headers=auth(member),
    )
    assert recorded.status_code == 200, recorded.text
    result = next(n for n in inbox(client, owner)["items"] if n["kind"] == "inspection_result")
    assert "未发现问题" in result["body"] and "符合要求" in result["body"]
    assert result["link"] == "/my/inspections" and "整改期限" not in result["body"]


def test_reviewers_hear_of_a_review_with_one_working_day_left_once_a_day(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filing = submitted_filing(client, operator)
    other_county = make_staff(session, role="reviewer", jurisdiction="451121")
    rev = session.exec(select(FilingRevision).where(FilingRevision.filing_id == filing["id"])).one()
    rev.review_due_on = add_working_days(clock.today(), 1)
    session.add(rev)
    session.commit()
    ran = jobs.run_daily(scope_of(session))
    assert ran[jobs.REVIEW_DUE_SOON] >= 1
    again = jobs.run_daily(scope_of(session))
    assert again == {}  # the day's lock rows are taken: nothing runs twice
    assert session.get(JobRun, (jobs.REVIEW_DUE_SOON, clock.today())) is not None
    due = [n for n in inbox(client, reviewer)["items"] if n["kind"] == "review_due_soon"]
    assert [n["link"] for n in due] == [f"/review/filings/{filing['id']}"]
    assert not [n for n in inbox(client, other_county)["items"] if n["kind"] == "review_due_soon"]


def test_overdue_results_are_told_to_the_team_and_admins_the_day_after_they_fall_due(
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    from datetime import UTC

    plan = drawn_plan(client, world["admin"], period_start="2026-09-01", period_end="2026-09-30")
    # Results of a plan ending 2026-09-30 are due 2026-11-03: overdue from 11-04.
    with clock.frozen_at(datetime(2026, 11, 4, 2, 0, tzinfo=UTC)):
        ran = jobs.run_daily(scope_of(session))
    assert ran[jobs.RESULT_OVERDUE] == len(plan["assignments"])
    overdue = [n for n in inbox(client, world["admin"])["items"] if n["kind"] == "result_overdue"]
    assert len(overdue) == len(plan["assignments"])
    assert "2026-11-03" in overdue[0]["body"]
    member_certificate = plan["assignments"][0]["team"][0]
    member = next(u for i, u in world["inspectors"] if i.certificate_no == member_certificate)
    assert any(n["kind"] == "result_overdue" for n in inbox(client, member)["items"])
    with clock.frozen_at(datetime(2026, 11, 5, 2, 0, tzinfo=UTC)):
        assert jobs.run_daily(scope_of(session))[jobs.RESULT_OVERDUE] == 0  # told once


@pytest.mark.parametrize("kind", ["enterprise_rejected", "password_reset"])
def test_every_kind_has_a_chinese_label(kind: str) -> None:
    from domain.vocabulary import NotificationKind

    assert NotificationKind(kind).label != kind


def test_the_daily_head_stamp_chains_the_previous_head_so_a_rewrite_is_detectable(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    import json

    from sqlmodel import col

    from models.audit import AuditEntry
    from services.oversight import audit

    kept = client.get("/api/v1/public/audit-head").json()
    assert kept["entries"] >= 1
    ran = jobs.run_daily(scope_of(session))
    assert ran[jobs.AUDIT_HEAD_STAMP] == 1
    assert jobs.AUDIT_HEAD_STAMP not in jobs.run_daily(scope_of(session))  # once a day
    stamps = session.exec(
        select(AuditEntry).where(AuditEntry.action == audit.HEAD_STAMP_ACTION)
    ).all()
    assert len(stamps) == 1
    stamp = stamps[0]
    assert json.loads(stamp.data)["previous_head"] == kept["head_hash"] == stamp.prev_hash
    assert json.loads(stamp.data)["entries"] == kept["entries"]
    now = client.get("/api/v1/public/audit-head").json()
    assert (now["entries"], now["head_hash"]) == (kept["entries"] + 1, stamp.hash)
    assert audit.verify(session, against=kept["head_hash"]).verified

    # Someone rewrites the first entry and recomputes every hash after it: the chain is
    # consistent again, but the head kept before (and stamped into the chain) is gone.
    previous = audit.GENESIS_HASH
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all():
        if entry.prev_hash == audit.GENESIS_HASH:
            entry.data = audit.canonical_json({"rewritten": True})
        entry.prev_hash = previous
        entry.hash = audit.entry_hash(entry)
        previous = entry.hash
        session.add(entry)
    session.flush()
    assert audit.verify(session).verified
    assert not audit.verify(session, against=kept["head_hash"]).verified
    rewritten = session.get(AuditEntry, stamp.id)
    assert rewritten is not None
    assert json.loads(rewritten.data)["previous_head"] != rewritten.prev_hash


# --- review findings (F1) ----------------------------------------------------------------------


def test_a_review_due_monday_is_told_once_though_friday_saturday_and_sunday_all_run(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    from datetime import UTC, date

    filing = submitted_filing(client, operator)
    rev = session.exec(select(FilingRevision).where(FilingRevision.filing_id == filing["id"])).one()
    rev.review_due_on = date(2026, 12, 7)  # a Monday
    session.add(rev)
    session.commit()
    for day in (4, 5, 6):  # Friday, Saturday, Sunday: each sees Monday as the next working day
        with clock.frozen_at(datetime(2026, 12, day, 2, 0, tzinfo=UTC)):
            jobs.run_daily(scope_of(session))
    due = [n for n in inbox(client, reviewer)["items"] if n["kind"] == "review_due_soon"]
    assert len(due) == 1 and "2026-12-07" in due[0]["body"]


def test_a_follow_up_is_told_to_the_operator_and_a_result_names_the_rectification_deadline(
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    plan = drawn_plan(client, world["admin"], period_start="2026-11-15")
    assignment = plan["assignments"][0]
    filing = next(f for f in world["outlets"] if f.filing_no == assignment["filing_no"])
    owner = session.exec(select(User).where(User.enterprise_id == filing.enterprise_id)).first()
    assert owner is not None
    member = next(u for i, u in world["inspectors"] if i.certificate_no == assignment["team"][0])
    url = f"/api/v1/inspections/{assignment['inspection_id']}"
    rectification = {
        "inspected_on": "2026-11-20",
        "outcome": "rectification",
        "findings": "未落实收寄验视制度",
        "rectify_by": "2026-12-15",
    }
    assert client.put(f"{url}/result", json=rectification, headers=auth(member)).is_success
    [result] = [n for n in inbox(client, owner)["items"] if n["kind"] == "inspection_result"]
    assert "责令整改" in result["body"] and "整改期限：2026-12-15" in result["body"]

    follow_up = {"inspected_on": "2026-11-30", "outcome": "rectified", "findings": "已整改到位"}
    assert client.put(f"{url}/follow-up", json=follow_up, headers=auth(member)).is_success
    results = [n for n in inbox(client, owner)["items"] if n["kind"] == "inspection_result"]
    assert len(results) == 2
    told = results[0]  # newest first
    assert "整改复查" in told["title"] and assignment["filing_no"] in told["body"]
    for text in ("已整改", "2026-11-30", "已整改到位"):
        assert text in told["body"]
    assert told["link"] == "/my/inspections"


def test_a_licence_cancellation_sends_one_summary_per_account_not_one_per_filing(
    client: TestClient, session: Session, operator: User, reviewer: User
) -> None:
    other = second_account(session, operator)
    for _ in range(3):
        filed_filing(client, operator, reviewer)
    cancelled = client.post(
        f"/api/v1/enterprises/{operator.enterprise_id}/licence-cancellation",
        json={"reason": "快递业务经营许可证被注销"},
        headers=auth(reviewer),
    )
    assert cancelled.status_code == 200, cancelled.text
    for user in (operator, other):
        lapsed = [n for n in inbox(client, user)["items"] if n["kind"] == "filing_lapsed"]
        assert len(lapsed) == 1
        assert "3 个网点" in lapsed[0]["body"] and "快递业务经营许可证被注销" in lapsed[0]["body"]
        assert lapsed[0]["link"] == "/my/filings"


def test_overdue_results_also_reach_the_outlets_county_inspectors_and_admins(
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    from datetime import UTC

    county = world["outlets"][0].county_code
    county_inspector = make_staff(session, role="inspector", jurisdiction=county)
    elsewhere = make_staff(session, role="inspector", jurisdiction="451102")
    plan = drawn_plan(client, world["admin"], period_start="2026-09-01", period_end="2026-09-30")
    with clock.frozen_at(datetime(2026, 11, 4, 2, 0, tzinfo=UTC)):
        jobs.run_daily(scope_of(session))
    told = [n for n in inbox(client, county_inspector)["items"] if n["kind"] == "result_overdue"]
    assert len(told) == len(plan["assignments"])
    assert {n["link"] for n in told} == {
        f"/api/v1/inspections/{a['inspection_id']}" for a in plan["assignments"]
    }
    assert not inbox(client, elsewhere)["items"]


def test_a_failing_daily_job_does_not_stop_the_others_and_is_retried(
    session: Session, fixed_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def boom(_session: Session, _today: Any) -> int:
        calls.append("boom")
        if len(calls) == 1:
            raise RuntimeError("the first try fails")
        return 7

    monkeypatch.setattr(jobs, "DAILY", {"boom": boom, **jobs.DAILY})
    first = jobs.run_daily(scope_of(session))
    assert "boom" not in first and set(first) == set(jobs.DAILY) - {"boom"}
    assert session.get(JobRun, ("boom", clock.today())) is None  # its lock row rolled back
    assert jobs.run_daily(scope_of(session)) == {"boom": 7}  # retried; the others not again

    attempted: list[str] = []

    def recording_acquire(_session: Session, job: str, _day: Any) -> bool:
        attempted.append(job)
        return False

    monkeypatch.setattr(jobs, "acquire", recording_acquire)
    assert jobs.run_daily(scope_of(session)) == {}
    assert attempted == []  # every job done today: read, no lock row insert tried
