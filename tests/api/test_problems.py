from fastapi.testclient import TestClient


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert body["code"] == "not_found"
    assert body["status"] == 404


def test_malformed_json_is_validation_error_with_field_list(client: TestClient) -> None:
    response = client.post(
        "/api/v1/enterprises/register",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"]


def test_missing_fields_are_listed_with_chinese_messages(client: TestClient) -> None:
    response = client.post("/api/v1/enterprises/register", json={})
    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "validation_error"
    fields = {error["field"] for error in body["errors"]}
    assert {"name", "uscc", "username", "password"} <= fields
    assert all(error["message"] == "必填字段" for error in body["errors"])


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
