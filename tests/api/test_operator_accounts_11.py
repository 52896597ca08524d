"""Issue 11 (C): owner-managed operator accounts and self-service (SPEC §1, §4.1)."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.routes import enterprise_users
from core.security import hash_password
from models.audit import AuditEntry
from models.enterprise import Enterprise
from models.user import User
from tests.factories import PASSWORD, auth, make_enterprise, make_staff, operator_of, problem

NEW_PASSWORD = "Another-pass-2"


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _bearer(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _owner(session: Session) -> tuple[Enterprise, User]:
    enterprise = make_enterprise(session)
    return enterprise, operator_of(session, enterprise)


def _create(client: TestClient, owner: User, enterprise_id: int, **body: Any) -> Any:
    payload = {"username": "colleague1", "password": PASSWORD, "display_name": "李四", **body}
    return client.post(
        f"/api/v1/enterprises/{enterprise_id}/users", json=payload, headers=auth(owner)
    )


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_owner_creates_lists_and_the_new_account_logs_in(
    client: TestClient, session: Session
) -> None:
    enterprise, owner = _owner(session)
    created = _create(
        client, owner, enterprise.id or 0, email="li@Example.com", mobile="13900001111"
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "operator" and body["enterprise_id"] == enterprise.id
    assert body["is_owner"] is False and body["email"] == "li@example.com"
    listed = client.get(f"/api/v1/enterprises/{enterprise.id}/users", headers=auth(owner))
    assert [u["id"] for u in listed.json()] == [owner.id, body["id"]]
    me = client.get("/api/v1/auth/me", headers=_bearer(_login(client, "colleague1", PASSWORD)))
    assert me.json()["enterprise_id"] == enterprise.id
    entry = _audit(session, "operator.create")[-1]
    assert entry.entity_id == str(body["id"])
    assert "li@example.com" not in entry.data and "李四" not in entry.data


def test_only_the_owner_of_that_enterprise_manages_accounts(
    client: TestClient, session: Session
) -> None:
    enterprise, owner = _owner(session)
    colleague_id = _create(client, owner, enterprise.id or 0).json()["id"]
    colleague = session.get(User, colleague_id)
    assert colleague is not None
    other_enterprise, other_owner = _owner(session)
    path = f"/api/v1/enterprises/{enterprise.id}/users"
    # Another enterprise's owner: the enterprise does not exist for it.
    assert problem(client.get(path, headers=auth(other_owner))) == (404, "not_found")
    assert problem(_create(client, other_owner, enterprise.id or 0, username="x-y-z")) == (
        404,
        "not_found",
    )
    # A colleague who is not the owner: 403.
    assert problem(client.get(path, headers=auth(colleague))) == (403, "forbidden")
    patch = client.patch(f"{path}/{owner.id}", json={"active": False}, headers=auth(colleague))
    assert problem(patch) == (403, "forbidden")
    # Staff, even city-wide admins: operators only (the administration never sets an
    # operator's password).
    admin = make_staff(session, role="admin", jurisdiction="451100")
    assert problem(client.get(path, headers=auth(admin))) == (403, "forbidden")
    reset = client.patch(
        f"{path}/{colleague_id}", json={"password": NEW_PASSWORD}, headers=auth(admin)
    )
    assert problem(reset) == (403, "forbidden")
    # An account of another enterprise through one's own enterprise's path: 404.
    foreign = client.patch(
        f"/api/v1/enterprises/{other_enterprise.id}/users/{colleague_id}",
        json={"active": False},
        headers=auth(other_owner),
    )
    assert problem(foreign) == (404, "not_found")


def test_deactivation_and_reset_end_the_accounts_tokens(
    client: TestClient, session: Session
) -> None:
    enterprise, owner = _owner(session)
    path = f"/api/v1/enterprises/{enterprise.id}/users"
    colleague_id = _create(client, owner, enterprise.id or 0).json()["id"]
    token = _bearer(_login(client, "colleague1", PASSWORD))
    reset = client.patch(
        f"{path}/{colleague_id}", json={"password": NEW_PASSWORD}, headers=auth(owner)
    )
    assert reset.status_code == 200, reset.text
    assert problem(client.get("/api/v1/auth/me", headers=token)) == (401, "not_authenticated")
    token = _bearer(_login(client, "colleague1", NEW_PASSWORD))
    off = client.patch(f"{path}/{colleague_id}", json={"active": False}, headers=auth(owner))
    assert off.status_code == 200 and off.json()["active"] is False
    assert problem(client.get("/api/v1/auth/me", headers=token)) == (401, "not_authenticated")
    assert _login(client, "colleague1", NEW_PASSWORD).status_code == 401
    actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert actions.count("operator.update") == 2


def test_owner_cannot_deactivate_itself_nor_reset_its_own_password_here(
    client: TestClient, session: Session
) -> None:
    enterprise, owner = _owner(session)
    path = f"/api/v1/enterprises/{enterprise.id}/users/{owner.id}"
    response = client.patch(path, json={"active": False}, headers=auth(owner))
    assert problem(response) == (422, "validation_error")
    assert response.json()["errors"][0]["field"] == "active"
    response = client.patch(path, json={"password": NEW_PASSWORD}, headers=auth(owner))
    assert problem(response) == (422, "validation_error")
    session.refresh(owner)
    assert owner.active and owner.is_owner


def test_owner_hands_the_role_to_an_active_colleague(client: TestClient, session: Session) -> None:
    enterprise, owner = _owner(session)
    path = f"/api/v1/enterprises/{enterprise.id}/users"
    first = _create(client, owner, enterprise.id or 0).json()["id"]
    second = _create(client, owner, enterprise.id or 0, username="colleague2").json()["id"]
    client.patch(f"{path}/{second}", json={"active": False}, headers=auth(owner))
    refused = client.patch(f"{path}/{second}", json={"is_owner": True}, headers=auth(owner))
    assert problem(refused) == (422, "validation_error")

    handed = client.patch(f"{path}/{first}", json={"is_owner": True}, headers=auth(owner))
    assert handed.status_code == 200, handed.text
    assert handed.json()["is_owner"] is True
    session.refresh(owner)
    assert owner.is_owner is False
    owners = session.exec(
        select(User).where(User.enterprise_id == enterprise.id, User.is_owner)
    ).all()
    assert [u.id for u in owners] == [first]
    # The former owner manages nothing any more; the new one does.
    assert problem(client.get(path, headers=auth(owner))) == (403, "forbidden")
    new_owner = session.get(User, first)
    assert new_owner is not None
    assert client.get(path, headers=auth(new_owner)).status_code == 200
    me = client.get("/api/v1/auth/me", headers=auth(new_owner)).json()
    assert me["is_owner"] is True
    assert json.loads(_audit(session, "operator.owner_transfer")[-1].data)["owner_from"] == owner.id


def test_bad_account_bodies_change_nothing(client: TestClient, session: Session) -> None:
    enterprise, owner = _owner(session)
    for bad in ({"email": "not-an-email"}, {"mobile": "12345"}, {"password": "short"}):
        response = _create(client, owner, enterprise.id or 0, **bad)
        assert response.status_code == 422, bad
    assert problem(_create(client, owner, enterprise.id or 0, username=owner.username)) == (
        409,
        "duplicate_username",
    )
    listed = client.get(f"/api/v1/enterprises/{enterprise.id}/users", headers=auth(owner))
    assert len(listed.json()) == 1


# --- self-service ------------------------------------------------------------------------


def test_me_shows_owner_flag_and_enterprise_status(client: TestClient, session: Session) -> None:
    _, owner = _owner(session)
    me = client.get("/api/v1/auth/me", headers=auth(owner)).json()
    assert me["is_owner"] is True and me["enterprise_status"] == "approved"
    staff = make_staff(session, role="reviewer", jurisdiction="451102")
    me = client.get("/api/v1/auth/me", headers=auth(staff)).json()
    assert me["is_owner"] is False and me["enterprise_status"] is None


def test_self_service_contacts(client: TestClient, session: Session) -> None:
    staff = make_staff(session, role="reviewer", jurisdiction="451102")
    response = client.patch(
        "/api/v1/auth/me",
        json={"email": "me@Hezhou.gov.cn", "mobile": "+86 139 0000 2222"},
        headers=auth(staff),
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "me@hezhou.gov.cn"
    assert response.json()["mobile"] == "13900002222"
    bad = client.patch("/api/v1/auth/me", json={"mobile": "1234"}, headers=auth(staff))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "mobile"
    bad = client.patch("/api/v1/auth/me", json={"email": "a@b"}, headers=auth(staff))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    cleared = client.patch("/api/v1/auth/me", json={"email": None}, headers=auth(staff))
    assert cleared.json()["email"] is None and cleared.json()["mobile"] == "13900002222"
    entry = _audit(session, "user.self_update")[-1]
    assert "hezhou" not in str(entry.data) and "13900002222" not in str(entry.data)


def test_new_password_needs_the_current_one(client: TestClient, session: Session) -> None:
    staff = make_staff(session, role="reviewer", jurisdiction="451102", username="self-pw")
    token = _bearer(_login(client, "self-pw", PASSWORD))
    missing = client.patch("/api/v1/auth/me", json={"password": NEW_PASSWORD}, headers=token)
    assert problem(missing) == (422, "validation_error")
    assert missing.json()["errors"][0]["field"] == "current_password"
    wrong = client.patch(
        "/api/v1/auth/me",
        json={"password": NEW_PASSWORD, "current_password": "wrong-password", "email": "x@y.cn"},
        headers=token,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0] == {
        "field": "current_password",
        "code": "invalid_credentials",
        "message": "当前密码不正确",
    }
    session.refresh(staff)
    assert staff.email is None  # nothing changed
    changed = client.patch(
        "/api/v1/auth/me",
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=token,
    )
    assert changed.status_code == 200, changed.text
    # Every token of the account ends, this one too; the new password logs in.
    assert problem(client.get("/api/v1/auth/me", headers=token)) == (401, "not_authenticated")
    assert _login(client, "self-pw", PASSWORD).status_code == 401
    assert _login(client, "self-pw", NEW_PASSWORD).status_code == 200


def test_wrong_current_passwords_are_throttled_like_logins(
    client: TestClient, session: Session
) -> None:
    make_staff(session, role="reviewer", jurisdiction="451102", username="self-guess")
    token = _bearer(_login(client, "self-guess", PASSWORD))
    codes = []
    for attempt in range(6):
        response = client.patch(
            "/api/v1/auth/me",
            json={"password": NEW_PASSWORD, "current_password": f"guess-{attempt:04d}"},
            headers=token,
        )
        codes.append(response.status_code)
    assert codes[-1] == 429, codes
    # Locked: even the right current password is refused now, and so is a login.
    right = client.patch(
        "/api/v1/auth/me",
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=token,
    )
    assert problem(right) == (429, "rate_limited")
    assert _login(client, "self-guess", PASSWORD).status_code == 429


# --- review findings (F2) ---------------------------------------------------------------------


def test_the_database_keeps_one_owner_per_enterprise(session: Session) -> None:
    enterprise, _ = _owner(session)
    other = make_enterprise(session)
    second = User(
        username="second-owner",
        password_hash="x",
        role="operator",
        jurisdiction=enterprise.region_code,
        display_name="second",
        enterprise_id=enterprise.id,
        is_owner=True,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(second)
        session.flush()
    # Other enterprises' owners and non-owner accounts are not affected.
    assert operator_of(session, other).is_owner is True
    second.is_owner = False
    session.add(second)
    session.flush()


def test_the_owner_role_goes_back_and_forth(client: TestClient, session: Session) -> None:
    enterprise, owner = _owner(session)
    path = f"/api/v1/enterprises/{enterprise.id}/users"
    colleague = _create(client, owner, enterprise.id or 0).json()["id"]
    handed = client.patch(f"{path}/{colleague}", json={"is_owner": True}, headers=auth(owner))
    assert handed.status_code == 200, handed.text
    new_owner = session.get(User, colleague)
    assert new_owner is not None
    # Back to the older (lower id) account: the old owner must step down first.
    back = client.patch(f"{path}/{owner.id}", json={"is_owner": True}, headers=auth(new_owner))
    assert back.status_code == 200, back.text
    owners = session.exec(
        select(User.id).where(User.enterprise_id == enterprise.id, User.is_owner)
    ).all()
    assert list(owners) == [owner.id]


def test_an_owner_who_handed_over_while_hashing_creates_nothing(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    enterprise, owner = _owner(session)
    colleague = _create(client, owner, enterprise.id or 0).json()["id"]

    def hand_over_meanwhile(password: str) -> str:
        # Another request hands the role over while this one hashes (rows changed under the
        # session's feet: the loaded owner still says is_owner).
        session.execute(
            sql_text("UPDATE user_account SET is_owner = FALSE WHERE id = :id"), {"id": owner.id}
        )
        session.execute(
            sql_text("UPDATE user_account SET is_owner = TRUE WHERE id = :id"), {"id": colleague}
        )
        return hash_password(password)

    monkeypatch.setattr(enterprise_users, "hash_password", hand_over_meanwhile)
    response = _create(client, owner, enterprise.id or 0, username="colleague3")
    assert problem(response) == (403, "forbidden")
    assert session.exec(select(User).where(User.username == "colleague3")).first() is None
