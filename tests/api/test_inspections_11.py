"""Issue 11, inspections: what an assignment carries, an assigned inspector's read access, the
rectification deadline and follow-up, results as drawn, evidence kept private, and the
operator's view of its outlets' inspections."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypedDict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from core import clock
from models.audit import AuditEntry
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from models.inspection import Inspector
from models.user import User
from tests.factories import (
    auth,
    filed_filing,
    make_enterprise,
    make_inspector,
    make_staff,
    operator_of,
    problem,
    sample_png,
)

COUNTY = "451121"  # 昭平县
TOWNSHIPS = ["451121100", "451121101"]  # 昭平镇, 文竹镇


class World(TypedDict):
    admin: User
    reviewer: User
    inspectors: list[tuple[Inspector, User]]
    a: Enterprise
    b: Enterprise
    filings: list[dict[str, Any]]


@pytest.fixture
def world(client: TestClient, session: Session, fixed_clock: datetime) -> World:
    """An admin, three inspectors, and four outlets (two per operator) filed through the API
    (so their documents are real files), the first with coordinates."""
    admin = make_staff(session, role="admin", jurisdiction=COUNTY)
    reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
    a = make_enterprise(session, region_code=COUNTY, name="昭平甲快递有限公司")
    b = make_enterprise(session, region_code=COUNTY, name="昭平乙快递有限公司")
    inspectors = [
        make_inspector(session, admin, f"ZP-11{n:02d}", jurisdiction=COUNTY) for n in range(3)
    ]
    filings = []
    for n in range(4):
        coordinates = {"latitude": 24.17, "longitude": 110.81} if n == 0 else {}
        filings.append(
            filed_filing(
                client,
                operator_of(session, a if n < 2 else b),
                reviewer,
                name=f"昭平网点{n}",
                county_code=COUNTY,
                township_code=TOWNSHIPS[n % 2],
                address=f"河东街 {n + 1} 号",
                **coordinates,
            )
        )
    return {
        "admin": admin,
        "reviewer": reviewer,
        "inspectors": inspectors,
        "a": a,
        "b": b,
        "filings": filings,
    }


def drawn_plan(client: TestClient, admin: User, *, count: int = 4) -> dict[str, Any]:
    body = {
        "name": "2026 年昭平县快递末端网点双随机抽查（十一）",
        "region_code": COUNTY,
        "item_codes": ["real_name", "security_equipment"],
        "sampling": {"mode": "count", "count": count},
        "team_size": 2,
        "exclude_recent_days": 365,
        "period_start": "2026-11-15",
        "period_end": "2026-12-31",
        "randomness_sources": "2026-11-15 福彩 3D 开奖号码",
    }
    plan = client.post("/api/v1/inspection-plans", json=body, headers=auth(admin))
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    announced = client.post(f"/api/v1/inspection-plans/{plan_id}/announce", headers=auth(admin))
    assert announced.status_code == 200, announced.text
    drawn = client.post(
        f"/api/v1/inspection-plans/{plan_id}/draw",
        json={"sources": [[3, 8, 1]]},
        headers=auth(admin),
    )
    assert drawn.status_code == 200, drawn.text
    return drawn.json()


def member_and_outsider(world: World, assignment: dict[str, Any]) -> tuple[User, User]:
    users = {inspector.certificate_no: user for inspector, user in world["inspectors"]}
    member = users[assignment["team"][0]]
    outsider = next(user for cert, user in users.items() if cert not in assignment["team"])
    return member, outsider


def assignment_of(plan: dict[str, Any], filing: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in plan["assignments"] if a["filing_no"] == filing["filing_no"])


RECTIFICATION = {
    "inspected_on": "2026-11-25",
    "outcome": "rectification",
    "findings": "未落实收寄验视制度",
    "rectify_by": "2026-12-15",
}
RECTIFIED = {"inspected_on": "2026-11-30", "outcome": "rectified", "findings": "已整改到位"}


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- 1. what an assignment carries -----------------------------------------------------------


def test_an_assignment_carries_the_outlet_operator_items_and_period(
    client: TestClient, session: Session, world: World
) -> None:
    plan = drawn_plan(client, world["admin"])
    first = world["filings"][0]
    assignment = assignment_of(plan, first)
    member, _ = member_and_outsider(world, assignment)
    mine = client.get("/api/v1/inspections", headers=auth(member))
    assert mine.status_code == 200, mine.text
    item = next(i for i in mine.json() if i["id"] == assignment["inspection_id"])
    assert item["outlet"] == {
        "name": "昭平网点0",
        "address": "河东街 1 号",
        "county_name": "昭平县",
        "township_name": "昭平镇",
        "latitude": 24.17,
        "longitude": 110.81,
    }
    assert item["operator"] == {
        "name": "昭平甲快递有限公司",
        "contact_name": world["a"].contact_name,
        "contact_mobile": world["a"].contact_mobile,
    }
    assert item["items"] == [
        {"code": "real_name", "name": "收寄实名制执行情况"},
        {"code": "security_equipment", "name": "安全检查及视频监控设备配备情况"},
    ]
    assert (item["period_start"], item["period_end"]) == ("2026-11-15", "2026-12-31")
    assert item["filing_id"] == first["id"] and item["closed"] is False
    second = assignment_of(plan, world["filings"][1])  # filed without coordinates
    second_member, _ = member_and_outsider(world, second)
    theirs = client.get("/api/v1/inspections", headers=auth(second_member)).json()
    outlet = next(i["outlet"] for i in theirs if i["id"] == second["inspection_id"])
    assert (outlet["latitude"], outlet["longitude"], outlet["township_name"]) == (
        None,
        None,
        "文竹镇",
    )
    one = client.get(f"/api/v1/inspections/{assignment['inspection_id']}", headers=auth(member))
    assert one.status_code == 200 and one.json() == item


def test_the_assignment_list_reads_each_kind_once_not_once_per_row(
    client: TestClient, engine: Engine, world: World
) -> None:
    plan = drawn_plan(client, world["admin"])
    users = {inspector.certificate_no: user for inspector, user in world["inspectors"]}
    loads: dict[int, int] = {}  # assignments -> statements
    for certificate_no, user in users.items():
        count = sum(certificate_no in a["team"] for a in plan["assignments"])
        with counting_statements(engine) as statements:
            assert len(client.get("/api/v1/inspections", headers=auth(user)).json()) == count
        loads[count] = len(statements)
    assert len(loads) > 1, loads  # inspectors with different numbers of assignments
    assert len(set(loads.values())) == 1, loads


# --- 2. an assigned inspector reads the filing until the inspection is closed ----------------


def test_an_assigned_inspector_reads_the_filing_and_its_documents_until_closed(
    client: TestClient, world: World
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    filing = next(f for f in world["filings"] if f["filing_no"] == assignment["filing_no"])
    other = next(f for f in world["filings"] if f["id"] != filing["id"])
    member, outsider = member_and_outsider(world, assignment)
    url = f"/api/v1/filings/{filing['id']}"
    document = filing["documents"][0]

    read = client.get(url, headers=auth(member))
    assert read.status_code == 200 and read.json()["filing_no"] == filing["filing_no"]
    download = client.get(f"{url}/documents/{document['id']}", headers=auth(member))
    assert download.status_code == 200 and len(download.content) == document["size"]
    # Not another team's inspector, not another filing, and no writes.
    assert problem(client.get(url, headers=auth(outsider))) == (404, "not_found")
    assert problem(client.get(f"/api/v1/filings/{other['id']}", headers=auth(member))) == (
        404,
        "not_found",
    )
    closure = client.post(
        f"{url}/closure", json={"closed_on": "2026-11-30", "reason": "停业"}, headers=auth(member)
    )
    assert problem(closure) == (403, "forbidden")

    result_url = f"/api/v1/inspections/{assignment['inspection_id']}"
    assert client.put(f"{result_url}/result", json=RECTIFICATION, headers=auth(member)).is_success
    assert client.get(url, headers=auth(member)).status_code == 200  # the follow-up is open
    assert client.put(f"{result_url}/follow-up", json=RECTIFIED, headers=auth(member)).is_success
    assert problem(client.get(url, headers=auth(member))) == (404, "not_found")
    closed = client.get(f"{url}/documents/{document['id']}", headers=auth(member))
    assert problem(closed) == (404, "not_found")


def test_a_result_without_rectification_closes_the_inspectors_access(
    client: TestClient, world: World
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, _ = member_and_outsider(world, assignment)
    filing = next(f for f in world["filings"] if f["filing_no"] == assignment["filing_no"])
    recorded = client.put(
        f"/api/v1/inspections/{assignment['inspection_id']}/result",
        json={"inspected_on": "2026-11-25", "outcome": "no_problem", "findings": ""},
        headers=auth(member),
    )
    assert recorded.status_code == 200 and recorded.json()["closed"] is True
    assert problem(client.get(f"/api/v1/filings/{filing['id']}", headers=auth(member))) == (
        404,
        "not_found",
    )


# --- 3. rectify_by and the follow-up ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        ({k: v for k, v in RECTIFICATION.items() if k != "rectify_by"}, "整改期限"),
        ({**RECTIFICATION, "rectify_by": "2026-11-25"}, "晚于检查日期"),
        ({**RECTIFICATION, "outcome": "no_problem"}, "整改期限"),
    ],
)
def test_rectify_by_is_required_after_the_inspection_and_only_for_rectification(
    client: TestClient, world: World, body: dict[str, Any], message_part: str
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, _ = member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}"
    refused = client.put(f"{url}/result", json=body, headers=auth(member))
    assert problem(refused) == (422, "validation_error")
    [error] = refused.json()["errors"]
    assert error["field"] == "rectify_by" and message_part in error["message"]
    unchanged = client.get(url, headers=auth(member)).json()
    assert unchanged["outcome"] is None and unchanged["rectify_by"] is None


def test_the_follow_up_closes_a_rectification_and_is_published(
    client: TestClient, session: Session, world: World
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, outsider = member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}"

    early = client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(member))
    assert problem(early) == (409, "invalid_transition")
    stored = client.put(f"{url}/result", json=RECTIFICATION, headers=auth(member))
    assert stored.status_code == 200 and stored.json()["rectify_by"] == "2026-12-15"
    assert problem(client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(outsider))) == (
        404,
        "not_found",
    )
    before_result = client.put(
        f"{url}/follow-up", json={**RECTIFIED, "inspected_on": "2026-11-24"}, headers=auth(member)
    )
    assert problem(before_result) == (422, "validation_error")
    bad_outcome = client.put(
        f"{url}/follow-up", json={**RECTIFIED, "outcome": "no_problem"}, headers=auth(member)
    )
    assert problem(bad_outcome)[0] == 422

    first = client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(member))
    assert first.status_code == 200, first.text
    again = client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(member))  # a retry
    assert again.status_code == 200 and again.json() == first.json()
    assert first.json()["closed"] is True
    assert first.json()["follow_up"] == {
        "inspected_on": "2026-11-30",
        "outcome": "rectified",
        "findings": "已整改到位",
    }
    # The same result again is answered as it stands; a different one is refused: it is closed.
    assert client.put(f"{url}/result", json=RECTIFICATION, headers=auth(member)).is_success
    changed = client.put(
        f"{url}/result", json={**RECTIFICATION, "findings": "改写"}, headers=auth(member)
    )
    assert problem(changed) == (409, "invalid_transition")

    entries = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "inspection.follow_up",
            AuditEntry.entity_id == str(assignment["inspection_id"]),
        )
    ).all()
    assert entries and json.loads(entries[0].data)["outcome"] == "rectified"

    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    [result] = public["results"]
    assert result["rectify_by"] == "2026-12-15"
    assert result["follow_up"] == first.json()["follow_up"]


def test_a_result_other_than_rectification_has_no_follow_up(
    client: TestClient, world: World
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, _ = member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}"
    client.put(
        f"{url}/result",
        json={"inspected_on": "2026-11-25", "outcome": "case_filed", "findings": "立案"},
        headers=auth(member),
    )
    refused = client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(member))
    assert problem(refused) == (409, "invalid_transition")
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    assert public["results"][0]["follow_up"] is None


def test_open_rectifications_past_their_deadline_are_listed(
    client: TestClient, session: Session, world: World
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, _ = member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}"
    assert client.put(f"{url}/result", json=RECTIFICATION, headers=auth(member)).is_success
    report_url = "/api/v1/inspections/overdue-rectifications"
    # 2026-12-15 23:00 in Beijing: the deadline day itself, not past.
    with clock.frozen_at(datetime(2026, 12, 15, 15, 0, tzinfo=UTC)):
        assert client.get(report_url, headers=auth(world["admin"])).json() == []
    # 2026-12-16 01:00 in Beijing (still the 15th in UTC): past due.
    with clock.frozen_at(datetime(2026, 12, 15, 17, 0, tzinfo=UTC)):
        [row] = client.get(report_url, headers=auth(world["admin"])).json()
        elsewhere = make_staff(session, role="admin", jurisdiction="451102")
        assert client.get(report_url, headers=auth(elsewhere)).json() == []
        assert problem(client.get(report_url, headers=auth(member))) == (403, "forbidden")
    assert row["inspection_id"] == assignment["inspection_id"]
    assert row["rectify_by"] == "2026-12-15" and row["filing_no"] == assignment["filing_no"]
    assert row["outlet_name"].startswith("昭平网点")
    assert client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(member)).is_success
    with clock.frozen_at(datetime(2026, 12, 20, 2, 0, tzinfo=UTC)):
        assert client.get(report_url, headers=auth(world["admin"])).json() == []


# --- 4. results show the outlet as drawn; evidence stays private ----------------------------


def test_public_results_show_the_outlet_as_drawn_after_it_changes_or_is_revoked(
    client: TestClient, session: Session, world: World
) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, _ = member_and_outsider(world, assignment)
    filing = next(f for f in world["filings"] if f["filing_no"] == assignment["filing_no"])
    client.put(
        f"/api/v1/inspections/{assignment['inspection_id']}/result",
        json={"inspected_on": "2026-11-25", "outcome": "not_found", "findings": "查无此网点"},
        headers=auth(member),
    )
    revoked = client.post(
        f"/api/v1/filings/{filing['id']}/revocation",
        json={"reason": "查无此网点，备案信息不实"},
        headers=auth(world["reviewer"]),
    )
    assert revoked.status_code == 200, revoked.text
    # Whatever happens to the records afterwards, the result names the outlet as drawn.
    in_force = session.get(Filing, filing["id"])
    assert in_force is not None
    revision = session.get(FilingRevision, in_force.current_revision_id)
    assert revision is not None
    revision.outlet_name, revision.address = "后来的名称", "后来的地址"
    session.add(revision)
    session.flush()
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    [result] = public["results"]
    assert (result["outlet_name"], result["outlet_address"]) == (
        filing["outlet"]["name"],
        filing["outlet"]["address"],
    )


def test_evidence_files_are_never_in_a_public_answer(client: TestClient, world: World) -> None:
    plan = drawn_plan(client, world["admin"], count=1)
    assignment = plan["assignments"][0]
    member, _ = member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}"
    evidence = client.post(
        f"{url}/evidence",
        files={"file": ("包裹面单照片-唯一名.png", sample_png((9, 7)), "image/png")},
        headers=auth(member),
    )
    assert evidence.status_code == 201, evidence.text
    client.put(f"{url}/result", json=RECTIFICATION, headers=auth(member))
    client.put(f"{url}/follow-up", json=RECTIFIED, headers=auth(member))
    sha256 = evidence.json()["sha256"]
    public_texts = [
        client.get(path).text
        for path in (
            "/api/v1/public/inspection-plans",
            f"/api/v1/public/inspection-plans/{plan['id']}",
            f"/api/v1/public/inspection-plans/{plan['id']}/verification",
        )
    ]
    assert all(len(text) > 2 for text in public_texts)
    for text in public_texts:
        assert sha256 not in text and "包裹面单照片" not in text and "evidence" not in text


# --- 5. the operator's view ------------------------------------------------------------------


def test_the_operator_sees_the_inspections_of_its_own_outlets(
    client: TestClient, session: Session, world: World
) -> None:
    plan = drawn_plan(client, world["admin"])
    operator_a = operator_of(session, world["a"])
    operator_b = operator_of(session, world["b"])
    a_numbers = {f["filing_no"] for f in world["filings"][:2]}
    seen = client.get("/api/v1/inspections", headers=auth(operator_a))
    assert seen.status_code == 200, seen.text
    assert {i["filing_no"] for i in seen.json()} == a_numbers
    notice = seen.json()[0]
    assignment = assignment_of(plan, {"filing_no": notice["filing_no"]})
    assert notice["plan_name"] == plan["name"]
    assert [i["name"] for i in notice["items"]] == [
        "收寄实名制执行情况",
        "安全检查及视频监控设备配备情况",
    ]
    assert (notice["period_start"], notice["period_end"]) == ("2026-11-15", "2026-12-31")
    assert notice["team"] == assignment["team"]
    assert notice["prepare"].startswith("检查时间：2026年11月15日至2026年12月31日")
    assert "备案回执" in notice["prepare"] and "收寄实名制执行情况" in notice["prepare"]
    assert all(cert in notice["prepare"] for cert in assignment["team"])
    assert notice["outcome"] is None and notice["follow_up"] is None
    assert "eligible" not in notice and "operator" not in notice

    member, _ = member_and_outsider(world, assignment)
    inspection_url = f"/api/v1/inspections/{assignment['inspection_id']}"
    client.put(f"{inspection_url}/result", json=RECTIFICATION, headers=auth(member))
    client.put(f"{inspection_url}/follow-up", json=RECTIFIED, headers=auth(member))
    one = client.get(inspection_url, headers=auth(operator_a)).json()
    assert (one["outcome"], one["rectify_by"], one["findings"]) == (
        "rectification",
        "2026-12-15",
        "未落实收寄验视制度",
    )
    assert one["follow_up"]["outcome"] == "rectified"

    others = client.get("/api/v1/inspections", headers=auth(operator_b)).json()
    assert a_numbers.isdisjoint({i["filing_no"] for i in others})
    assert problem(client.get(inspection_url, headers=auth(operator_b))) == (404, "not_found")
