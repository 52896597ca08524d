"""`/my/inspections`: the operator's inspection notices and results, its own outlets only."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.security import create_access_token
from models.base import pk
from models.user import User
from tests.api.test_inspections_11 import (
    RECTIFICATION,
    World,
    assignment_of,
    drawn_plan,
    member_and_outsider,
)
from tests.factories import auth, operator_of


def logged_in(pages: TestClient, user: User) -> TestClient:
    pages.cookies.set("session", create_access_token(pk(user), user.token_version))
    return pages


def test_an_operator_sees_its_outlets_notices_and_results_and_no_others(
    client: TestClient, pages: TestClient, session: Session, world: World
) -> None:
    plan = drawn_plan(client, world["admin"])
    drawn = {a["filing_no"] for a in plan["assignments"]}
    mine = {f["filing_no"] for f in world["filings"][:2]} & drawn
    theirs = {f["filing_no"] for f in world["filings"][2:]} & drawn
    assert mine and theirs, "the draw picks outlets of both operators"

    page = logged_in(pages, operator_of(session, world["a"])).get("/my/inspections")
    assert page.status_code == 200
    assert all(number in page.text for number in mine)
    assert not any(number in page.text for number in theirs)
    assert "收寄实名制执行情况" in page.text and "请准备" in page.text
    assert "尚未检查" in page.text

    assignment = assignment_of(plan, {"filing_no": sorted(mine)[0]})
    member, _ = member_and_outsider(world, assignment)
    recorded = client.put(
        f"/api/v1/inspections/{assignment['inspection_id']}/result",
        json=RECTIFICATION,
        headers=auth(member),
    )
    assert recorded.status_code == 200, recorded.text
    page = pages.get("/my/inspections")
    assert "责令整改" in page.text and "2026-12-15" in page.text


def test_the_page_is_for_logged_in_operators(
    pages: TestClient, session: Session, world: World
) -> None:
    answer = pages.get("/my/inspections", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    page = logged_in(pages, world["admin"]).get("/my/inspections")
    assert page.status_code == 403
