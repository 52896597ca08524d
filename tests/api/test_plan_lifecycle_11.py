"""Issue 11, inspection plans (SPEC §4.1): a draft is edited, a plan is cancelled until it is
drawn (an announced one stays published with its reason), and plans show their items' names."""

from datetime import datetime
from typing import Any, TypedDict

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from models.filing import Filing
from models.user import User
from tests.factories import (
    auth,
    filed_via_services,
    make_enterprise,
    make_inspector,
    make_staff,
    operator_of,
    problem,
)

COUNTY = "451121"  # 昭平县
PLANS = "/api/v1/inspection-plans"
PUBLIC = "/api/v1/public/inspection-plans"


class World(TypedDict):
    admin: User
    outlets: list[Filing]


@pytest.fixture
def world(session: Session, fixed_clock: datetime) -> World:
    """A county admin, 3 inspectors and 4 filed outlets in the county."""
    admin = make_staff(session, role="admin", jurisdiction=COUNTY)
    reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
    enterprise = make_enterprise(session, region_code=COUNTY)
    for n in range(3):
        make_inspector(session, admin, f"ZP-100{n}", jurisdiction=COUNTY)
    outlets = [
        filed_via_services(
            session,
            operator_of(session, enterprise),
            reviewer,
            county_code=COUNTY,
            township_code="451121100",
            name=f"昭平网点{n}",
        )
        for n in range(4)
    ]
    return {"admin": admin, "outlets": outlets}


def plan_body(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "2026 年第四季度昭平县快递末端网点双随机抽查",
        "region_code": COUNTY,
        "item_codes": ["real_name", "security_equipment"],
        "sampling": {"mode": "count", "count": 2},
        "team_size": 2,
        "exclude_recent_days": 365,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "randomness_sources": "2026-12-01 福彩 3D 开奖号码",
    }
    body.update(overrides)
    return body


def new_plan(client: TestClient, admin: User, **overrides: object) -> dict[str, Any]:
    response = client.post(PLANS, json=plan_body(**overrides), headers=auth(admin))
    assert response.status_code == 201, response.text
    return dict(response.json())


def announce(client: TestClient, admin: User, plan_id: int) -> dict[str, Any]:
    response = client.post(f"{PLANS}/{plan_id}/announce", headers=auth(admin))
    assert response.status_code == 200, response.text
    return dict(response.json())


def draw(client: TestClient, admin: User, plan_id: int) -> Any:
    return client.post(
        f"{PLANS}/{plan_id}/draw", json={"sources": [[3, 8, 1], [2, 5]]}, headers=auth(admin)
    )


def audit_actions(client: TestClient, admin: User, plan_id: int) -> list[str]:
    entries = client.get(
        "/api/v1/audit",
        params={"entity": "inspection_plan", "entity_id": str(plan_id)},
        headers=auth(admin),
    ).json()
    return [entry["action"] for entry in entries]


# --- edit -----------------------------------------------------------------------------------


def test_a_draft_plan_is_edited_and_the_edit_audited(client: TestClient, world: World) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    response = client.patch(
        f"{PLANS}/{plan['id']}",
        json={
            "name": "改名后的计划",
            "item_codes": ["service_quality", "real_name", "real_name"],
            "sampling": {"mode": "rate", "rates": {"low": "0.5", "medium": "1", "high": "1"}},
            "team_size": 3,
            "period_end": "2027-01-15",
        },
        headers=auth(admin),
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["status"] == "draft"
    assert edited["name"] == "改名后的计划"
    assert edited["item_codes"] == ["real_name", "service_quality"]
    assert edited["sampling"]["mode"] == "rate"
    assert edited["team_size"] == 3
    assert edited["period_start"] == "2026-12-01"  # left out: unchanged
    assert edited["period_end"] == "2027-01-15"
    shown = client.get(f"{PLANS}/{plan['id']}", headers=auth(admin)).json()
    assert shown["name"] == "改名后的计划" and shown["team_size"] == 3
    assert "plan.edit" in audit_actions(client, admin, plan["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period_end": "2026-11-01"}, "period_end"),  # before the kept period_start
        ({"period_start": "2027-02-01"}, "period_end"),  # after the kept period_end
        ({"item_codes": ["no_such_item"]}, "item_codes"),
        ({"item_codes": []}, "item_codes"),
        ({"region_code": "451102"}, "region_code"),  # another county: outside the admin's
        ({"team_size": 1}, "team_size"),
        ({"name": None}, "name"),
        ({"name": "  "}, "name"),
        ({"sampling": {"mode": "count", "count": 0}}, "sampling"),
        ({"status": "announced"}, "status"),
    ],
)
def test_an_edit_is_checked_like_a_create_and_changes_nothing(
    client: TestClient, world: World, body: dict[str, Any], field: str
) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    response = client.patch(f"{PLANS}/{plan['id']}", json=body, headers=auth(admin))
    assert response.status_code == 422, response.text
    assert any(field in error["field"] for error in response.json()["errors"]), response.text
    after = client.get(f"{PLANS}/{plan['id']}", headers=auth(admin)).json()
    assert {k: after[k] for k in plan if k in after} == {k: plan[k] for k in plan if k in after}


def test_an_announced_or_drawn_plan_is_not_edited(client: TestClient, world: World) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    announce(client, admin, plan["id"])
    edit = client.patch(f"{PLANS}/{plan['id']}", json={"name": "晚了"}, headers=auth(admin))
    assert problem(edit) == (409, "invalid_transition")
    assert draw(client, admin, plan["id"]).status_code == 200
    edit = client.patch(f"{PLANS}/{plan['id']}", json={"name": "晚了"}, headers=auth(admin))
    assert problem(edit) == (409, "invalid_transition")
    assert client.get(f"{PUBLIC}/{plan['id']}").json()["name"] == plan["name"]


def test_an_edited_plan_announced_and_drawn_still_verifies(
    client: TestClient, world: World
) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    edited = client.patch(
        f"{PLANS}/{plan['id']}",
        json={"name": "修改后的计划", "sampling": {"mode": "count", "count": 3}},
        headers=auth(admin),
    )
    assert edited.status_code == 200, edited.text
    announce(client, admin, plan["id"])
    drawn = draw(client, admin, plan["id"])
    assert drawn.status_code == 200, drawn.text
    assert len(drawn.json()["assignments"]) == 3
    report = client.get(f"{PUBLIC}/{plan['id']}/verification").json()
    assert report["verified"] is True, report["problems"]
    assert client.get(f"{PUBLIC}/{plan['id']}").json()["name"] == "修改后的计划"


def test_another_countys_plan_is_not_edited_or_cancelled(
    client: TestClient, session: Session, world: World
) -> None:
    plan = new_plan(client, world["admin"])
    other = make_staff(session, role="admin", jurisdiction="451102")
    edit = client.patch(f"{PLANS}/{plan['id']}", json={"name": "别人的"}, headers=auth(other))
    assert problem(edit)[0] == 404
    cancel = client.post(
        f"{PLANS}/{plan['id']}/cancellation", json={"reason": "别人的"}, headers=auth(other)
    )
    assert problem(cancel)[0] == 404


# --- cancel ---------------------------------------------------------------------------------


def test_a_cancelled_draft_stays_unpublished_and_can_do_nothing_more(
    client: TestClient, world: World
) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    response = client.post(
        f"{PLANS}/{plan['id']}/cancellation", json={"reason": "计划重复"}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"] == "计划重复"
    assert cancelled["cancelled_at"] is not None
    assert "plan.cancel" in audit_actions(client, admin, plan["id"])
    assert client.get(f"{PUBLIC}/{plan['id']}").status_code == 404
    assert plan["id"] not in [p["id"] for p in client.get(PUBLIC).json()]
    announced = client.post(f"{PLANS}/{plan['id']}/announce", headers=auth(admin))
    assert problem(announced) == (409, "invalid_transition")
    edit = client.patch(f"{PLANS}/{plan['id']}", json={"name": "x"}, headers=auth(admin))
    assert problem(edit) == (409, "invalid_transition")
    again = client.post(
        f"{PLANS}/{plan['id']}/cancellation", json={"reason": "再取消"}, headers=auth(admin)
    )
    assert problem(again) == (409, "invalid_transition")


def test_a_cancelled_announced_plan_stays_published_with_its_reason(
    client: TestClient, world: World
) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    digest = announce(client, admin, plan["id"])["digest"]
    response = client.post(
        f"{PLANS}/{plan['id']}/cancellation",
        json={"reason": "检查人员不足，无法按期抽取"},
        headers=auth(admin),
    )
    assert response.status_code == 200, response.text
    public = client.get(f"{PUBLIC}/{plan['id']}").json()
    assert public["status"] == "cancelled"
    assert public["cancellation_reason"] == "检查人员不足，无法按期抽取"
    assert public["digest"] == digest
    listed = {p["id"]: p for p in client.get(PUBLIC).json()}
    assert listed[plan["id"]]["status"] == "cancelled"
    assert listed[plan["id"]]["cancellation_reason"] == "检查人员不足，无法按期抽取"
    assert problem(draw(client, admin, plan["id"])) == (409, "invalid_transition")
    assert client.get(f"{PUBLIC}/{plan['id']}").json()["assignments"] == []


def test_a_drawn_plan_is_not_cancelled(client: TestClient, world: World) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    announce(client, admin, plan["id"])
    assert draw(client, admin, plan["id"]).status_code == 200
    response = client.post(
        f"{PLANS}/{plan['id']}/cancellation", json={"reason": "太晚了"}, headers=auth(admin)
    )
    assert problem(response) == (409, "invalid_transition")
    public = client.get(f"{PUBLIC}/{plan['id']}").json()
    assert public["status"] == "drawn" and public["cancellation_reason"] is None


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
def test_a_cancellation_needs_a_reason(
    client: TestClient, world: World, body: dict[str, Any]
) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    response = client.post(f"{PLANS}/{plan['id']}/cancellation", json=body, headers=auth(admin))
    assert problem(response) == (422, "validation_error")
    assert client.get(f"{PLANS}/{plan['id']}", headers=auth(admin)).json()["status"] == "draft"


# --- item names -----------------------------------------------------------------------------


def test_plans_show_their_items_names_outside_the_digest(
    client: TestClient, session: Session, world: World
) -> None:
    admin = world["admin"]
    plan = new_plan(client, admin)
    expected = [
        {"code": "real_name", "name": "收寄实名制执行情况"},
        {"code": "security_equipment", "name": "安全检查及视频监控设备配备情况"},
    ]
    assert client.get(f"{PLANS}/{plan['id']}", headers=auth(admin)).json()["items"] == expected
    announce(client, admin, plan["id"])
    assert draw(client, admin, plan["id"]).status_code == 200
    public = client.get(f"{PUBLIC}/{plan['id']}").json()
    assert public["items"] == expected
    assert public["item_codes"] == ["real_name", "security_equipment"]
    # Renaming an item shows the new name and leaves the announcement's digest verified.
    city_admin = make_staff(session, role="admin", jurisdiction="451100")
    renamed = client.patch(
        "/api/v1/inspection-items/real_name", json={"name": "实名收寄"}, headers=auth(city_admin)
    )
    assert renamed.status_code == 200, renamed.text
    public = client.get(f"{PUBLIC}/{plan['id']}").json()
    assert public["items"][0] == {"code": "real_name", "name": "实名收寄"}
    report = client.get(f"{PUBLIC}/{plan['id']}/verification").json()
    assert report["verified"] is True, report["problems"]
