from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import PASSWORD, auth, make_staff, problem


def test_admin_creates_staff_inside_its_jurisdiction(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    body = {
        "username": "reviewer-zp",
        "password": PASSWORD,
        "role": "reviewer",
        "jurisdiction": "451121",
        "display_name": "昭平审核员",
    }
    response = client.post("/api/v1/users", json=body, headers=auth(admin))
    assert response.status_code == 201
    assert response.json()["jurisdiction"] == "451121"


def test_admin_cannot_create_staff_outside_its_jurisdiction(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    body = {
        "username": "reviewer-x",
        "password": PASSWORD,
        "role": "reviewer",
        "jurisdiction": "451121",
        "display_name": "x",
    }
    response = client.post("/api/v1/users", json=body, headers=auth(admin))
    assert problem(response) == (403, "forbidden")


def test_user_outside_admin_jurisdiction_is_404(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    other = make_staff(session, role="reviewer", jurisdiction="451121")
    response = client.get(f"/api/v1/users/{other.id}", headers=auth(admin))
    assert problem(response) == (404, "not_found")


def test_user_list_is_scoped_to_admin_jurisdiction(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    inside = make_staff(session, role="reviewer", jurisdiction="451102")
    outside = make_staff(session, role="reviewer", jurisdiction="451121")
    ids = {user["id"] for user in client.get("/api/v1/users", headers=auth(admin)).json()}
    assert inside.id in ids and outside.id not in ids


def test_reviewer_cannot_manage_users(client: TestClient, session: Session) -> None:
    reviewer = make_staff(session, role="reviewer")
    assert problem(client.get("/api/v1/users", headers=auth(reviewer))) == (403, "forbidden")


def test_admin_deactivates_a_user(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    response = client.patch(
        f"/api/v1/users/{reviewer.id}", json={"active": False}, headers=auth(admin)
    )
    assert response.json()["active"] is False
    me = client.get("/api/v1/auth/me", headers=auth(reviewer))
    assert problem(me) == (401, "not_authenticated")


def test_regions_are_a_tree_from_guangxi(client: TestClient) -> None:
    tree = client.get("/api/v1/regions").json()
    assert tree[0]["code"] == "450000"
    hezhou = tree[0]["children"][0]
    assert hezhou["code"] == "451100"
    assert len(hezhou["children"]) == 5


def test_brands_list_is_public_and_admin_adds_one(client: TestClient, session: Session) -> None:
    codes = {brand["code"] for brand in client.get("/api/v1/brands").json()}
    assert {"EMS", "SF", "JT"} <= codes
    admin = make_staff(session, role="admin")
    created = client.post(
        "/api/v1/brands", json={"code": "CAINIAO", "name": "菜鸟"}, headers=auth(admin)
    )
    assert created.status_code == 201
    reviewer = make_staff(session, role="reviewer")
    denied = client.post("/api/v1/brands", json={"code": "X", "name": "x"}, headers=auth(reviewer))
    assert problem(denied) == (403, "forbidden")


def test_every_api_operation_states_its_roles_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "x-roles" in operation, f"{method.upper()} {path} does not state its roles"
    token = spec["paths"]["/api/v1/users"]["get"]
    assert token["x-roles"] == ["admin"]
