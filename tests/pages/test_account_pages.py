"""The own account (`/account`) and the lost password (`/reset-password`) on pages: the services
and throttles of `PATCH /auth/me` and `/auth/password-reset`, errors next to their fields,
passwords never echoed, forms without their CSRF token refused, no Referer for the reset link."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from core.security import create_access_token, verify_password
from models.base import pk
from models.notification import PasswordResetToken
from models.throttle import Throttle
from models.user import User
from services.accounts import throttling
from services.notifications import password_reset
from tests.factories import PASSWORD, make_enterprise, make_staff, operator_of
from tests.pages.test_register_pages import labels_of
from tests.pages.test_session_pages import csrf_of

NEW_PASSWORD = "A-new-secret-9"


def signed_in(pages: TestClient, session: Session, **changes: str) -> User:
    user = operator_of(session, make_enterprise(session, region_code="451121"))
    for name, value in changes.items():
        setattr(user, name, value)
    session.add(user)
    session.flush()
    pages.cookies.set("session", create_access_token(pk(user), user.token_version))
    return user


def test_the_account_page_shows_the_account_and_its_forms(
    pages: TestClient, session: Session
) -> None:
    user = signed_in(pages, session, email="me@example.com")
    page = pages.get("/account")
    assert page.status_code == 200 and user.username in page.text
    assert {"电子邮箱", "手机号码", "当前密码", "新密码"} <= labels_of(page.text)
    assert ">保存联系方式</button>" in page.text and ">修改密码</button>" in page.text
    assert 'value="me@example.com"' in page.text


def test_the_account_page_needs_a_login(pages: TestClient) -> None:
    answer = pages.get("/account", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/account"


def test_contacts_are_saved_cleared_and_a_wrong_one_is_shown_next_to_its_box(
    pages: TestClient, session: Session
) -> None:
    user = signed_in(pages, session, email="old@example.com")
    token = csrf_of(pages.get("/account").text)
    answer = pages.post(
        "/account",
        data={"csrf_token": token, "email": "", "mobile": "13900001111"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "联系方式已保存" in pages.get(answer.headers["location"]).text
    session.refresh(user)
    assert user.email is None and user.mobile == "13900001111"

    wrong = pages.post("/account", data={"csrf_token": token, "email": "x@", "mobile": "1"})
    assert wrong.status_code == 422
    assert 'id="email-error"' in wrong.text and 'id="mobile-error"' in wrong.text
    assert 'value="x@"' in wrong.text
    session.refresh(user)
    assert user.mobile == "13900001111"

    refused = pages.post("/account", data={"email": "", "mobile": ""})
    assert refused.status_code == 403
    session.refresh(user)
    assert user.mobile == "13900001111"


def test_a_password_change_ends_the_session_and_the_new_password_logs_in(
    pages: TestClient, session: Session
) -> None:
    user = signed_in(pages, session)
    token = csrf_of(pages.get("/account").text)
    form = {"csrf_token": token, "current_password": PASSWORD, "password": NEW_PASSWORD}
    answer = pages.post("/account/password", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?notice=password_changed"
    assert "密码已修改" in pages.get(answer.headers["location"]).text
    session.refresh(user)
    assert verify_password(NEW_PASSWORD, user.password_hash)
    # The old session is over (token version): the account page asks for a login again.
    pages.cookies.set("session", create_access_token(pk(user), user.token_version - 1))
    assert pages.get("/account", follow_redirects=False).status_code == 303

    login = pages.get("/login")
    logged = pages.post(
        "/login",
        data={
            "csrf_token": csrf_of(login.text),
            "username": user.username,
            "password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert logged.status_code == 303 and logged.headers["location"] == "/my/filings"


def test_a_wrong_current_password_is_counted_shown_and_never_echoed(
    pages: TestClient, session: Session
) -> None:
    user = signed_in(pages, session)
    token = csrf_of(pages.get("/account").text)
    form = {"csrf_token": token, "current_password": "Wrong-guess-1", "password": NEW_PASSWORD}
    answer = pages.post("/account/password", data=form)
    assert answer.status_code == 422
    assert re.search(r'id="current_password-error">当前密码不正确<', answer.text)
    assert "Wrong-guess-1" not in answer.text and NEW_PASSWORD not in answer.text
    session.refresh(user)
    assert verify_password(PASSWORD, user.password_hash)
    key = throttling.login_user_key(user.username)
    row = session.exec(select(Throttle).where(Throttle.key == key)).one()
    assert row.count == 1  # counted with failed logins of the username

    short = pages.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "password": "short"},
    )
    assert short.status_code == 422 and 'id="password-error"' in short.text
    missing = pages.post("/account/password", data={"csrf_token": token, "password": NEW_PASSWORD})
    assert missing.status_code == 422 and 'id="current_password-error"' in missing.text


def test_a_password_change_is_refused_while_the_username_is_locked(
    pages: TestClient, session: Session
) -> None:
    user = signed_in(pages, session)
    key = throttling.login_user_key(user.username)
    throttling.hit(session, key, throttling.Limit(1, timedelta(minutes=15), timedelta(minutes=15)))
    token = csrf_of(pages.get("/account").text)
    form = {"csrf_token": token, "current_password": PASSWORD, "password": NEW_PASSWORD}
    answer = pages.post("/account/password", data=form)
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    session.refresh(user)
    assert verify_password(PASSWORD, user.password_hash)


def test_a_password_change_without_its_csrf_token_is_refused(
    pages: TestClient, session: Session
) -> None:
    user = signed_in(pages, session)
    pages.get("/account")
    form = {"current_password": PASSWORD, "password": NEW_PASSWORD}
    assert pages.post("/account/password", data=form).status_code == 403
    session.refresh(user)
    assert verify_password(PASSWORD, user.password_hash)


def test_asking_for_a_reset_link_answers_the_same_whether_or_not_the_user_exists(
    pages: TestClient, session: Session
) -> None:
    staff = make_staff(session, jurisdiction="451121")
    page = pages.get("/reset-password")
    assert page.status_code == 200 and "用户名" in labels_of(page.text)
    assert ">发送重置链接</button>" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    answers = []
    for username in (staff.username, "nobody-here"):
        answer = pages.post(
            "/reset-password",
            data={"csrf_token": csrf_of(page.text), "username": username},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        answers.append(pages.get(answer.headers["location"]))
    assert answers[0].text == answers[1].text and "重置密码的链接已发出" in answers[0].text

    blank = pages.post("/reset-password", data={"csrf_token": csrf_of(page.text), "username": ""})
    assert blank.status_code == 422 and 'id="username-error"' in blank.text
    assert pages.post("/reset-password", data={"username": staff.username}).status_code == 403


def test_a_reset_link_sets_a_new_password_once(pages: TestClient, session: Session) -> None:
    user = operator_of(session, make_enterprise(session, region_code="451121"))
    token = "reset-token-for-the-page-test-0001"
    session.add(
        PasswordResetToken(
            user_id=pk(user),
            token_hash=password_reset.token_hash(token),
            expires_at=clock.now() + timedelta(minutes=30),
            created_at=clock.now(),
        )
    )
    session.flush()
    page = pages.get("/reset-password", params={"token": token})  # on to /reset-password/new
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    assert page.url.path == "/reset-password/new" and token not in str(page.url)
    assert "新密码" in labels_of(page.text) and ">设置新密码</button>" in page.text
    form = {"csrf_token": csrf_of(page.text), "password": "short"}
    short = pages.post("/reset-password/confirm", data=form)
    assert short.status_code == 422 and 'id="password-error"' in short.text
    assert short.headers["referrer-policy"] == "no-referrer"

    answer = pages.post(
        "/reset-password/confirm", data={**form, "password": NEW_PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?notice=password_reset"
    session.refresh(user)
    assert verify_password(NEW_PASSWORD, user.password_hash)

    pages.get("/reset-password", params={"token": token})  # the link again: used
    again = pages.post("/reset-password/confirm", data={**form, "password": "Another-pass-2"})
    assert again.status_code == 422 and "重置密码链接无效、已过期或已使用" in again.text
    assert "Another-pass-2" not in again.text
    session.refresh(user)
    assert verify_password(NEW_PASSWORD, user.password_hash)

    no_csrf = {"password": "Another-pass-2"}
    assert pages.post("/reset-password/confirm", data=no_csrf).status_code == 403
