import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import PASSWORD, auth, make_enterprise, make_staff


def login(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_login_with_good_credentials_returns_a_token_for_me(
    client: TestClient, session: Session
) -> None:
    user = make_staff(session, role="reviewer", jurisdiction="451102")
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert me.json()["jurisdiction"] == "451102"


def test_login_with_bad_password_is_401_problem(client: TestClient, session: Session) -> None:
    user = make_staff(session)
    response = login(client, user.username, "wrong-password")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_credentials"


def test_login_for_unknown_user_is_the_same_401(client: TestClient) -> None:
    response = login(client, "nobody-here", "whatever-pass")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_repeated_failures_lock_the_user_with_retry_after(
    client: TestClient, session: Session
) -> None:
    user = make_staff(session)
    statuses = [login(client, user.username, "wrong-password").status_code for _ in range(5)]
    assert statuses == [401] * 5
    locked = login(client, user.username, PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= 300


def test_lock_expires_after_the_lockout_period(client: TestClient, session: Session) -> None:
    from datetime import timedelta

    from core import clock

    user = make_staff(session)
    for _ in range(5):
        login(client, user.username, "wrong-password")
    with clock.frozen_at(clock.now() + timedelta(seconds=301)):
        assert login(client, user.username, PASSWORD).status_code == 200


def test_me_without_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_with_forged_token_is_401(client: TestClient, session: Session) -> None:
    import jwt

    user = make_staff(session)
    forged = jwt.encode({"sub": str(user.id), "exp": 4102444800}, "not-the-key-" * 4, "HS256")
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_pending_enterprise_owner_logs_in_but_may_only_see_its_registration(
    client: TestClient, session: Session
) -> None:
    # SPEC §1: the owner of a pending registration logs in to see, correct and resubmit it.
    make_enterprise(session, approved=False, username="pending-op")
    token = login(client, "pending-op", PASSWORD)
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    refused = client.get("/api/v1/filings", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "enterprise_not_approved"


def test_deactivated_user_cannot_use_a_token(client: TestClient, session: Session) -> None:
    user = make_staff(session)
    headers = auth(user)
    user.active = False
    session.add(user)
    session.flush()
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
