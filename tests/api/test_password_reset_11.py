"""Lost passwords (SPEC §4.1): a one-time link by e-mail or SMS; the answer never says whether
the user exists."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from core.config import get_settings
from domain.vocabulary import DeliveryStatus, NotificationKind
from models.notification import Delivery, Notification, PasswordResetToken
from models.user import User
from services.notifications import delivery, password_reset
from tests.factories import PASSWORD, auth, problem
from tests.test_notification_delivery import scope_of

URL = "/api/v1/auth/password-reset"
NEW_PASSWORD = "a-new-secret-2026"


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "smtp_url", "smtp://127.0.0.1:1")
    monkeypatch.setattr(get_settings(), "sms_webhook_url", None)


@pytest.fixture
def moment() -> Iterator[list[datetime]]:
    now = [datetime(2026, 11, 30, 2, 0, tzinfo=UTC)]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


def reset_links(session: Session, user: User) -> list[str]:
    rows = session.exec(
        select(Delivery).where(
            Delivery.user_id == user.id, Delivery.kind == NotificationKind.PASSWORD_RESET
        )
    ).all()
    return [line for row in rows for line in row.body.splitlines() if "/reset-password?" in line]


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def login(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    ).status_code


def test_the_answer_is_the_same_whether_or_not_the_user_exists(
    client: TestClient, session: Session, operator: User, mail: None
) -> None:
    operator.email = "owner@example.test"
    session.add(operator)
    known = client.post(URL, json={"username": operator.username})
    unknown = client.post(URL, json={"username": "nobody-here"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(reset_links(session, operator)) == 1
    assert reset_links(session, operator)[0].startswith(
        "https://filing.example.test/reset-password?token="
    )
    # Not in the in-app inbox, and only the token's digest is stored.
    kinds = session.exec(select(Notification.kind).where(Notification.user_id == operator.id))
    assert NotificationKind.PASSWORD_RESET not in kinds.all()
    token = token_of(reset_links(session, operator)[0])
    stored = session.exec(select(PasswordResetToken)).one()
    assert stored.token_hash == password_reset.token_hash(token) and token not in stored.token_hash


def test_no_address_or_inactive_means_nothing_is_sent(
    client: TestClient, session: Session, operator: User, mail: None
) -> None:
    assert client.post(URL, json={"username": operator.username}).status_code == 202
    assert reset_links(session, operator) == []  # no e-mail or mobile on record
    operator.email, operator.active = "owner@example.test", False
    session.add(operator)
    assert client.post(URL, json={"username": operator.username}).status_code == 202
    assert reset_links(session, operator) == []  # deactivated
    assert session.exec(select(PasswordResetToken)).all() == []  # no token made either


def test_a_token_sets_the_password_once_and_ends_old_sessions(
    client: TestClient, session: Session, operator: User, mail: None, moment: list[datetime]
) -> None:
    operator.email = "owner@example.test"
    session.add(operator)
    old_headers = auth(operator)
    client.post(URL, json={"username": operator.username})
    token = token_of(reset_links(session, operator)[0])
    confirm = f"{URL}/confirm"
    short = client.post(confirm, json={"token": token, "password": "short"})
    assert problem(short)[0] == 422
    done = client.post(confirm, json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    assert login(client, operator.username, NEW_PASSWORD) == 200
    assert login(client, operator.username, PASSWORD) == 401
    assert client.get("/api/v1/auth/me", headers=old_headers).status_code == 401
    again = client.post(confirm, json={"token": token, "password": "yet-another-secret"})
    assert problem(again) == (422, "invalid_reset_token")
    bogus = client.post(confirm, json={"token": "not-a-token", "password": NEW_PASSWORD})
    assert problem(bogus) == (422, "invalid_reset_token")


def test_an_expired_token_is_refused(
    client: TestClient, session: Session, operator: User, mail: None, moment: list[datetime]
) -> None:
    operator.mobile = "13800001234"
    session.add(operator)
    get_settings().sms_webhook_url = "http://127.0.0.1:1/sms"
    try:
        client.post(URL, json={"username": operator.username})
    finally:
        get_settings().sms_webhook_url = None
    [link] = reset_links(session, operator)  # by SMS: the account has no e-mail
    moment[0] += password_reset.TOKEN_LIFETIME + timedelta(seconds=1)
    late = client.post(f"{URL}/confirm", json={"token": token_of(link), "password": NEW_PASSWORD})
    assert problem(late) == (422, "invalid_reset_token")
    assert login(client, operator.username, PASSWORD) == 200


def test_the_link_is_blanked_once_sent_and_requests_are_throttled(
    client: TestClient, session: Session, operator: User, mail: None, moment: list[datetime]
) -> None:
    operator.email = "owner@example.test"
    session.add(operator)
    client.post(URL, json={"username": operator.username})
    report = delivery.run_once(scope_of(session), sender=lambda _item: None)
    assert report.sent == 1
    sent = session.exec(
        select(Delivery).where(Delivery.kind == NotificationKind.PASSWORD_RESET)
    ).one()
    assert sent.status == DeliveryStatus.SENT and sent.body == ""
    for _ in range(10):
        assert client.post(URL, json={"username": operator.username}).status_code == 202
    queued = session.exec(
        select(Delivery).where(Delivery.kind == NotificationKind.PASSWORD_RESET)
    ).all()
    assert len(queued) == password_reset.REQUESTS_PER_USERNAME.attempts  # then nothing more


def test_a_link_not_out_before_its_token_expires_is_given_up_and_blanked(
    client: TestClient, session: Session, operator: User, mail: None, moment: list[datetime]
) -> None:
    operator.email = "owner@example.test"
    session.add(operator)
    client.post(URL, json={"username": operator.username})
    scope = scope_of(session)
    assert delivery.drain(scope).retried == 1  # the mail server (port 1) is down
    [waiting] = session.exec(
        select(Delivery).where(Delivery.kind == NotificationKind.PASSWORD_RESET)
    ).all()
    assert waiting.status == DeliveryStatus.PENDING and "/reset-password?" in waiting.body
    moment[0] += password_reset.TOKEN_LIFETIME + timedelta(seconds=1)
    delivery.drain(scope)
    session.refresh(waiting)
    assert waiting.status == DeliveryStatus.FAILED and waiting.body == ""


def test_a_used_link_drops_the_users_other_links_still_waiting(
    client: TestClient, session: Session, operator: User, mail: None, moment: list[datetime]
) -> None:
    operator.email = "owner@example.test"
    session.add(operator)
    client.post(URL, json={"username": operator.username})
    client.post(URL, json={"username": operator.username})
    first = reset_links(session, operator)[0]
    done = client.post(f"{URL}/confirm", json={"token": token_of(first), "password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    rows = session.exec(
        select(Delivery).where(Delivery.kind == NotificationKind.PASSWORD_RESET)
    ).all()
    assert [(row.status, row.body) for row in rows] == [(DeliveryStatus.FAILED, "")] * 2


def test_requests_from_one_client_address_are_limited_whatever_the_usernames(
    client: TestClient,
    session: Session,
    operator: User,
    mail: None,
    moment: list[datetime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.accounts import throttling

    limit = throttling.Limit(3, timedelta(hours=1), timedelta(hours=1))
    monkeypatch.setattr(password_reset, "REQUESTS_PER_ADDRESS", limit)
    operator.email = "owner@example.test"
    session.add(operator)
    for n in range(limit.attempts):
        assert client.post(URL, json={"username": f"someone-{n}"}).status_code == 202
    refused = client.post(URL, json={"username": operator.username})
    assert refused.status_code == 202  # the answer stays the same
    assert reset_links(session, operator) == []  # but nothing is sent
    moment[0] += limit.lockout + timedelta(seconds=1)
    client.post(URL, json={"username": operator.username})
    assert len(reset_links(session, operator)) == 1
