"""Scoping: an operator sees only its enterprise, a reviewer only its jurisdiction (404 outside)."""

from datetime import datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from models.user import User
from tests.factories import (
    auth,
    create_draft,
    filed_filing,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
    submitted_filing,
)


def test_other_enterprise_gets_404_for_read_and_write(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = create_draft(client, operator)
    stranger = operator_of(session, make_enterprise(session))
    fid = filing["id"]
    not_found = (404, "not_found")
    assert problem(client.get(f"/api/v1/filings/{fid}", headers=auth(stranger))) == not_found
    history = client.get(f"/api/v1/filings/{fid}/history", headers=auth(stranger))
    assert problem(history) == not_found
    patch = client.patch(
        f"/api/v1/filings/{fid}", json={"outlet": {"name": "x"}}, headers=auth(stranger)
    )
    assert problem(patch) == not_found
    submit = client.post(f"/api/v1/filings/{fid}/submit", headers=auth(stranger))
    assert problem(submit) == not_found
    listed = client.get("/api/v1/filings", headers=auth(stranger)).json()
    assert fid not in {item["id"] for item in listed["items"]}


def test_reviewer_outside_the_county_gets_404_and_cannot_review(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = submitted_filing(client, operator)
    outsider = make_staff(session, role="reviewer", jurisdiction="451121")
    read = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(outsider))
    assert problem(read) == (404, "not_found")
    review = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "accept"},
        headers=auth(outsider),
    )
    assert problem(review) == (404, "not_found")
    assert filing["id"] not in {
        item["id"] for item in client.get("/api/v1/filings", headers=auth(outsider)).json()["items"]
    }


def test_city_reviewer_covers_every_county(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    filing = submitted_filing(client, operator)
    city = make_staff(session, role="reviewer", jurisdiction="451100")
    assert client.get(f"/api/v1/filings/{filing['id']}", headers=auth(city)).status_code == 200


def test_operator_cannot_review_its_own_filing(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    filing = submitted_filing(client, operator)
    response = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "accept"},
        headers=auth(operator),
    )
    assert problem(response) == (403, "forbidden")


def test_inspector_sees_no_filings(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    filing = create_draft(client, operator)
    inspector = make_staff(session, role="inspector", jurisdiction="451100")
    read = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(inspector))
    assert problem(read) == (404, "not_found")


def test_list_filters_and_pagination(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    filed_filing(client, operator, reviewer, brands=["SF", "ZTO"], name="贺街镇中通服务点")
    submitted_filing(client, operator, township_code="451102102", name="步头镇快递点")
    create_draft(client, operator, name="莲塘镇快递点", township_code="451102103")

    def ids(**params: object) -> list[str]:
        response = client.get("/api/v1/filings", params=params, headers=auth(reviewer)).json()
        return [item["outlet_name"] for item in response["items"]]

    assert ids(status="filed") == ["贺街镇中通服务点"]
    assert ids(brand="ZTO") == ["贺街镇中通服务点"]
    assert ids(township="451102102") == ["步头镇快递点"]
    assert ids(q="莲塘") == ["莲塘镇快递点"]
    page = client.get("/api/v1/filings", params={"limit": 2}, headers=auth(reviewer)).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["limit"] == 2


def test_queue_orders_by_due_date_and_overdue_filter(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    from datetime import timedelta

    from core import clock

    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    with clock.frozen_at(clock.now() - timedelta(days=14)):
        old = submitted_filing(client, operator, name="早提交的网点", opened_on="2026-11-10")
    new = submitted_filing(client, operator, name="新提交的网点")
    queue = client.get("/api/v1/filings", params={"queue": True}, headers=auth(reviewer)).json()
    assert [item["id"] for item in queue["items"]] == [old["id"], new["id"]]
    overdue = client.get("/api/v1/filings", params={"overdue": True}, headers=auth(reviewer)).json()
    assert [item["id"] for item in overdue["items"]] == [old["id"]]
