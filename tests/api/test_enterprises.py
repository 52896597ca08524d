from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import PASSWORD, auth, make_enterprise, make_staff, valid_uscc


def registration(**overrides: object) -> dict[str, Any]:
    body = {
        "name": "贺州市快递测试有限公司",
        "uscc": valid_uscc(4242),
        "licence_no": "桂邮20180012",
        "region_code": "451102",
        "is_branch": False,
        "contact_name": "李四",
        "contact_mobile": "13877401234",
        "username": "new-operator",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def test_registration_creates_a_pending_enterprise(client: TestClient) -> None:
    response = client.post("/api/v1/enterprises/register", json=registration())
    assert response.status_code == 201
    assert response.json()["status"] == "pending"


def test_registration_with_bad_uscc_is_invalid_uscc_and_stores_nothing(
    client: TestClient, session: Session
) -> None:
    uscc = valid_uscc(4242)
    bad = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    response = client.post("/api/v1/enterprises/register", json=registration(uscc=bad))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_uscc"
    assert body["errors"][0]["field"] == "uscc"
    assert body["errors"][0]["message"]
    again = client.post("/api/v1/enterprises/register", json=registration())
    assert again.status_code == 201  # the username was not taken by the refused attempt


def test_registration_lists_every_invalid_field(client: TestClient) -> None:
    response = client.post(
        "/api/v1/enterprises/register",
        json=registration(contact_mobile="12345", region_code="99", name=""),
    )
    assert response.status_code == 422
    fields = {error["field"]: error["code"] for error in response.json()["errors"]}
    assert fields["contact_mobile"] == "invalid_phone"
    assert fields["region_code"] == "unknown_region"
    assert "name" in fields


def test_registration_in_unknown_region_is_unknown_region(client: TestClient) -> None:
    response = client.post("/api/v1/enterprises/register", json=registration(region_code="451199"))
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_region"


def test_duplicate_uscc_is_409(client: TestClient) -> None:
    assert client.post("/api/v1/enterprises/register", json=registration()).status_code == 201
    duplicate = client.post(
        "/api/v1/enterprises/register", json=registration(username="other-operator")
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_uscc"


def test_reviewer_covering_the_region_approves_and_operator_can_log_in(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session, approved=False, region_code="451102", username="op-a")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    response = client.post(f"/api/v1/enterprises/{enterprise.id}/approve", headers=auth(reviewer))
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    token = client.post("/api/v1/auth/token", data={"username": "op-a", "password": PASSWORD})
    assert token.status_code == 200


def test_reviewer_outside_the_region_gets_404(client: TestClient, session: Session) -> None:
    enterprise = make_enterprise(session, approved=False, region_code="451102")
    outsider = make_staff(session, role="reviewer", jurisdiction="451121")
    response = client.post(f"/api/v1/enterprises/{enterprise.id}/approve", headers=auth(outsider))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_approving_twice_is_invalid_transition(client: TestClient, session: Session) -> None:
    enterprise = make_enterprise(session, approved=True)
    reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    response = client.post(f"/api/v1/enterprises/{enterprise.id}/approve", headers=auth(reviewer))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_operator_cannot_approve(client: TestClient, session: Session) -> None:
    from tests.factories import operator_of

    pending = make_enterprise(session, approved=False)
    operator = operator_of(session, make_enterprise(session))
    response = client.post(f"/api/v1/enterprises/{pending.id}/approve", headers=auth(operator))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_pending_list_is_scoped_to_jurisdiction(client: TestClient, session: Session) -> None:
    inside = make_enterprise(session, approved=False, region_code="451122")
    outside = make_enterprise(session, approved=False, region_code="451102")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451122")
    response = client.get("/api/v1/enterprises?status=pending", headers=auth(reviewer))
    ids = {item["id"] for item in response.json()}
    assert inside.id in ids
    assert outside.id not in ids
