"""Accounts and login under attack (issue #10 items 2, 3, 6, and the user part of 9): admins
manage staff accounts only, tokens die with a password change or a deactivation, login is
throttled per username (existing or not) and per client address, every login costs one Argon2
verification, and slow hashing happens outside any transaction."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.main import app
from core import security
from core.config import get_settings
from models.audit import AuditEntry
from models.base import pk
from services.accounts import throttling
from services.accounts import users as accounts
from services.filings import actions
from tests.factories import (
    PASSWORD,
    auth,
    filed_via_services,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
)
from web import deps

NEW_PASSWORD = "Another-pass-2"


def login(client: TestClient, username: str, password: str, **headers: str) -> httpx.Response:
    return client.post(
        "/api/v1/auth/token",
        data={"username": username, "password": password},
        headers=headers or None,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = login(client, username, password)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two failures per username, eight per address: the same rules, faster to reach."""
    monkeypatch.setattr(get_settings(), "login_max_failures", 2)
    yield


@contextmanager
def client_at(host: str) -> Iterator[TestClient]:
    """A client whose socket peer is `host` (on the test's session, like `client`)."""
    with TestClient(app, client=(host, 50000)) as other:
        yield other


# --- item 2: admins manage staff accounts only; tokens die ---------------------------------


def test_admin_cannot_read_or_reset_an_operator_account(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    operator = operator_of(session, make_enterprise(session, region_code="451102"))

    read = client.get(f"/api/v1/users/{operator.id}", headers=auth(admin))
    takeover = client.patch(
        f"/api/v1/users/{operator.id}", json={"password": NEW_PASSWORD}, headers=auth(admin)
    )
    deactivate = client.patch(
        f"/api/v1/users/{operator.id}", json={"active": False}, headers=auth(admin)
    )

    assert problem(read) == (404, "not_found")
    assert problem(takeover) == (404, "not_found")
    assert problem(deactivate) == (404, "not_found")
    assert login(client, operator.username, NEW_PASSWORD).status_code == 401
    assert login(client, operator.username, PASSWORD).status_code == 200


def test_user_list_shows_staff_accounts_only(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    operator = operator_of(session, make_enterprise(session, region_code="451102"))

    ids = {user["id"] for user in client.get("/api/v1/users", headers=auth(admin)).json()}

    assert {admin.id, reviewer.id} <= ids
    assert operator.id not in ids


def test_a_password_change_ends_every_older_token(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    old_token = token_of(client, reviewer.username)

    changed = client.patch(
        f"/api/v1/users/{reviewer.id}", json={"password": NEW_PASSWORD}, headers=auth(admin)
    )

    assert changed.status_code == 200, changed.text
    assert problem(client.get("/api/v1/auth/me", headers=bearer(old_token))) == (
        401,
        "not_authenticated",
    )
    new_token = token_of(client, reviewer.username, NEW_PASSWORD)
    assert client.get("/api/v1/auth/me", headers=bearer(new_token)).status_code == 200


def test_a_reactivated_user_old_tokens_stay_dead(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    old_token = token_of(client, reviewer.username)

    for active in (False, True):
        response = client.patch(
            f"/api/v1/users/{reviewer.id}", json={"active": active}, headers=auth(admin)
        )
        assert response.status_code == 200, response.text

    assert problem(client.get("/api/v1/auth/me", headers=bearer(old_token))) == (
        401,
        "not_authenticated",
    )
    fresh = token_of(client, reviewer.username)
    assert client.get("/api/v1/auth/me", headers=bearer(fresh)).status_code == 200


def test_a_token_of_an_older_version_is_refused(client: TestClient, session: Session) -> None:
    reviewer = make_staff(session)
    reviewer.token_version = 3
    session.add(reviewer)
    session.flush()

    stale = security.create_access_token(pk(reviewer), 2)
    current = security.create_access_token(pk(reviewer), 3)

    assert client.get("/api/v1/auth/me", headers=bearer(stale)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(current)).status_code == 200


@pytest.mark.parametrize(
    "subject",
    ["9223372036854775808", "99999999999999999999999", "abc", "-1", "0", "１２", " 12", "1e3"],
)
def test_a_signed_token_whose_subject_is_no_user_id_is_401(
    client: TestClient, subject: str
) -> None:
    token = jwt.encode(
        {"sub": subject, "ver": 0, "exp": 4102444800},
        get_settings().secret_key,
        security.TOKEN_ALGORITHM,
    )
    response = client.get("/api/v1/auth/me", headers=bearer(token))
    assert problem(response) == (401, "not_authenticated")


def test_a_token_without_a_version_or_with_a_malformed_one_is_401(
    client: TestClient, session: Session
) -> None:
    reviewer = make_staff(session)
    for extra in ({}, {"ver": "0"}, {"ver": True}, {"ver": 2**70}, {"ver": -1}):
        claims = {"sub": str(reviewer.id), "exp": 4102444800, **extra}
        token = jwt.encode(claims, get_settings().secret_key, security.TOKEN_ALGORITHM)
        response = client.get("/api/v1/auth/me", headers=bearer(token))
        assert problem(response) == (401, "not_authenticated"), extra


def test_an_operator_whose_licence_is_cancelled_still_logs_in_and_reads_its_filings(
    client: TestClient, session: Session
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    enterprise = make_enterprise(session, region_code="451102")
    operator = operator_of(session, enterprise)
    filing = filed_via_services(session, operator, reviewer)
    actions.cancel_licence(session, enterprise, actor=reviewer, reason="许可证被依法注销")
    session.flush()

    token = token_of(client, operator.username)
    listed = client.get("/api/v1/filings", headers=bearer(token))
    one = client.get(f"/api/v1/filings/{filing.id}", headers=bearer(token))

    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [filing.id]
    assert one.status_code == 200, one.text
    assert one.json()["status"] == "lapsed"


# --- item 9 (users): audit of user changes -------------------------------------------------


def _audit_of(session: Session, user_id: int) -> list[AuditEntry]:
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "user", AuditEntry.entity_id == str(user_id))
            .order_by(col(AuditEntry.id))
        ).all()
    )


def test_user_creation_and_changes_are_audited_without_the_password(
    client: TestClient, session: Session
) -> None:
    import json

    admin = make_staff(session, role="admin", jurisdiction="451100")
    created = client.post(
        "/api/v1/users",
        json={
            "username": "audited-reviewer",
            "password": PASSWORD,
            "role": "reviewer",
            "jurisdiction": "451102",
            "display_name": "审计测试",
        },
        headers=auth(admin),
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    changed = client.patch(
        f"/api/v1/users/{user_id}",
        json={"password": NEW_PASSWORD, "active": False, "jurisdiction": "451103"},
        headers=auth(admin),
    )
    assert changed.status_code == 200, changed.text

    entries = _audit_of(session, user_id)
    assert [entry.action for entry in entries] == ["user.create", "user.update"]
    assert all(entry.actor_id == admin.id for entry in entries)
    create, update = (json.loads(entry.data) for entry in entries)
    assert create["role"] == "reviewer" and create["jurisdiction"] == "451102"
    assert update == {
        "password_changed": True,
        "active": {"from": True, "to": False},
        "jurisdiction": {"from": "451102", "to": "451103"},
    }
    assert entries[1].region_code == "451103"
    for entry in entries:
        assert PASSWORD not in entry.data and NEW_PASSWORD not in entry.data
        assert "$argon2" not in entry.data


# --- item 6: unknown users cost the same and are locked too --------------------------------


class _SpyHasher:
    """Stands in for core.security's PasswordHasher (whose methods cannot be patched)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        result: bool = self.real.verify(password_hash, password)
        return result

    def hash(self, password: str) -> str:
        result: str = self.real.hash(password)
        return result


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes every Argon2 verification ran against."""
    spy = _SpyHasher(security._hasher)
    monkeypatch.setattr(security, "_hasher", spy)
    return spy.verified


def test_an_unknown_username_costs_exactly_one_argon2_verification(
    client: TestClient, verifications: list[str]
) -> None:
    response = login(client, "nobody-at-all", "whatever-pass")
    assert problem(response) == (401, "invalid_credentials")
    assert verifications == [security._DUMMY_HASH]


def test_a_wrong_password_and_an_inactive_user_cost_one_verification_each(
    client: TestClient, session: Session, verifications: list[str]
) -> None:
    user = make_staff(session)
    inactive = make_staff(session)
    inactive.active = False
    session.add(inactive)
    session.flush()

    assert login(client, user.username, "wrong-password").status_code == 401
    assert login(client, inactive.username, PASSWORD).status_code == 401
    assert verifications == [user.password_hash, security._DUMMY_HASH]


def test_repeated_failures_for_an_unknown_username_are_locked_like_a_real_one(
    client: TestClient,
) -> None:
    statuses = [login(client, "ghost-user", "wrong-password").status_code for _ in range(5)]
    locked = login(client, "ghost-user", "wrong-password")

    assert statuses == [401] * 5
    assert problem(locked) == (429, "rate_limited")
    assert 0 < int(locked.headers["Retry-After"]) <= 300


@pytest.mark.parametrize("username", ["nul\x00name", "bell\x07", "x" * 10_000, "\u202eevil", "a b"])
def test_an_odd_username_is_a_plain_failure_and_is_counted(
    client: TestClient, username: str, low_limits: None, verifications: list[str]
) -> None:
    assert problem(login(client, username, "wrong-password")) == (401, "invalid_credentials")
    assert problem(login(client, username, "wrong-password")) == (401, "invalid_credentials")
    assert problem(login(client, username, "wrong-password")) == (429, "rate_limited")
    assert verifications == [security._DUMMY_HASH] * 2


def test_the_username_lock_ignores_case_and_width(client: TestClient, low_limits: None) -> None:
    for name in ("Ghost", "ＧＨＯＳＴ"):
        assert login(client, name, "wrong-password").status_code == 401
    assert problem(login(client, "ghost", "wrong-password")) == (429, "rate_limited")


def test_a_locked_username_is_refused_without_checking_the_password(
    client: TestClient, session: Session, low_limits: None, verifications: list[str]
) -> None:
    user = make_staff(session)
    for _ in range(2):
        login(client, user.username, "wrong-password")
    verifications.clear()

    assert problem(login(client, user.username, PASSWORD)) == (429, "rate_limited")
    assert verifications == []


# --- item 3: per-address throttling, and no slow work inside a transaction -----------------


def test_failures_from_one_address_lock_that_address_for_every_username(
    client: TestClient, session: Session, low_limits: None
) -> None:
    user = make_staff(session)
    with client_at("198.51.100.20") as attacker, client_at("198.51.100.21") as colleague:
        statuses = [login(attacker, f"guess{n}", "wrong-password").status_code for n in range(8)]
        refused = login(attacker, user.username, PASSWORD)
        elsewhere = login(colleague, user.username, PASSWORD)

    assert statuses == [401] * 8
    assert problem(refused) == (429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 200


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, low_limits: None
) -> None:
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8")

    # Through our proxy, two clients are counted apart.
    with client_at("10.0.0.2") as proxy:
        for n in range(8):
            login(proxy, f"guess{n}", "wrong-password", **{"X-Forwarded-For": "198.51.100.30"})
        locked = login(proxy, "someone", "x" * 8, **{"X-Forwarded-For": "198.51.100.30"})
        other = login(proxy, "someone", "x" * 8, **{"X-Forwarded-For": "198.51.100.31"})
    assert problem(locked) == (429, "rate_limited")
    assert problem(other) == (401, "invalid_credentials")

    # Straight from the internet, a forged header changes nothing: the peer stays locked.
    with client_at("203.0.113.40") as direct:
        for n in range(8):
            login(direct, f"guess{n}", "wrong-password", **{"X-Forwarded-For": f"192.0.2.{n}"})
        forged = login(direct, "someone", "x" * 8, **{"X-Forwarded-For": "192.0.2.99"})
    assert problem(forged) == (429, "rate_limited")


def _registration(n: int) -> dict[str, Any]:
    from tests.factories import valid_uscc

    return {
        "name": f"限流测试快递有限公司{n}",
        "uscc": valid_uscc(90000 + n),
        "licence_no": f"桂邮2021{n:04d}",
        "region_code": "451102",
        "is_branch": False,
        "contact_name": "李四",
        "contact_mobile": "13800005678",
        "username": f"throttled-op-{n}",
        "password": PASSWORD,
    }


def test_registrations_from_one_address_are_throttled(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        throttling,
        "REGISTRATIONS_PER_ADDRESS",
        throttling.Limit(3, timedelta(hours=1), timedelta(hours=1)),
    )
    with client_at("198.51.100.50") as busy, client_at("198.51.100.51") as other:
        first = busy.post("/api/v1/enterprises/register", json=_registration(1))
        duplicate = busy.post("/api/v1/enterprises/register", json=_registration(1))
        third = busy.post("/api/v1/enterprises/register", json=_registration(3))
        refused = busy.post("/api/v1/enterprises/register", json=_registration(4))
        elsewhere = other.post("/api/v1/enterprises/register", json=_registration(5))

    assert first.status_code == 201, first.text
    assert problem(duplicate) == (409, "duplicate_uscc")  # a failed registration counts too
    assert third.status_code == 201, third.text
    assert problem(refused) == (429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 201, elsewhere.text


def _outside_transaction_spy(
    session: Session, real: Callable[..., Any], seen: list[bool]
) -> Callable[..., Any]:
    def spy(*args: Any) -> Any:
        seen.append(session.in_transaction())
        return real(*args)

    return spy


def test_login_checks_the_password_with_no_transaction_open(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_staff(session)
    seen: list[bool] = []
    spy = _outside_transaction_spy(session, accounts.verify_password, seen)
    monkeypatch.setattr(accounts, "verify_password", spy)

    assert login(client, user.username, PASSWORD).status_code == 200
    assert login(client, user.username, "wrong-password").status_code == 401
    assert login(client, "nobody-here", "wrong-password").status_code == 401
    assert seen == [False, False, False]


def test_passwords_are_hashed_with_no_transaction_open(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.routes.enterprises as enterprise_routes
    import api.routes.users as user_routes

    admin = make_staff(session, role="admin", jurisdiction="451100")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    seen: list[bool] = []
    for module in (user_routes, enterprise_routes):
        spy = _outside_transaction_spy(session, security.hash_password, seen)
        monkeypatch.setattr(module, "hash_password", spy)
    monkeypatch.setattr(security, "hash_password", lambda _password: pytest.fail("in a txn"))
    monkeypatch.setattr(accounts, "hash_password", lambda _password: pytest.fail("in a txn"))

    created = client.post(
        "/api/v1/users",
        json={
            "username": "hashed-outside",
            "password": PASSWORD,
            "role": "inspector",
            "jurisdiction": "451102",
            "display_name": "哈希测试",
        },
        headers=auth(admin),
    )
    changed = client.patch(
        f"/api/v1/users/{reviewer.id}", json={"password": NEW_PASSWORD}, headers=auth(admin)
    )
    registered = client.post("/api/v1/enterprises/register", json=_registration(7))

    assert created.status_code == 201, created.text
    assert changed.status_code == 200, changed.text
    assert registered.status_code == 201, registered.text
    assert seen == [False, False, False]
    assert login(client, "hashed-outside", PASSWORD).status_code == 200
    assert login(client, reviewer.username, NEW_PASSWORD).status_code == 200


def test_login_opens_its_request_transaction_as_a_reader(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a writer's transaction is BEGIN IMMEDIATE: login must not take the write lock
    to read (and then hold it while Argon2 runs)."""
    opened: list[bool] = []

    @contextmanager
    def recording_scope(*, for_write: bool = True) -> Iterator[Session]:
        opened.append(for_write)
        yield session

    monkeypatch.setattr(deps, "session_scope", recording_scope)
    with TestClient(app) as plain:
        login(plain, "nobody-here", "wrong-password")
        plain.post("/api/v1/users", json={})  # any other writing route: a writer from the start

    assert opened == [False, True]


def test_concurrent_hashing_is_capped_at_one_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    running, most = 0, 0
    lock = threading.Lock()

    def slow_hash(_password: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return "$argon2id$stub"

    stub = _SpyHasher(security._hasher)
    monkeypatch.setattr(stub, "hash", slow_hash)
    monkeypatch.setattr(security, "_hasher", stub)
    with ThreadPoolExecutor(max_workers=4 * security.HASHING_SLOTS) as pool:
        list(pool.map(security.hash_password, ["x"] * 4 * security.HASHING_SLOTS))

    assert most == security.HASHING_SLOTS
