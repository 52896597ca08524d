"""Page security (issue 12 review): the reset token kept out of URLs, logs and caches; the
"enterprise approved?" rule in one place; CSRF tokens bound to the session; logout ending the
session on the server; error pages with the real header; the directory's last page; no-store on
every page a logged-in user sees."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock, logs
from core.security import create_access_token, verify_password
from models.base import pk
from models.notification import PasswordResetToken
from models.user import User
from services.accounts import enterprises
from services.notifications import password_reset
from tests.factories import PASSWORD, make_enterprise, make_staff, operator_of
from tests.pages.test_public_pages import filed_outlets
from tests.pages.test_session_pages import csrf_of
from web import public
from web import session as web_session

COUNTY = "451123"  # rolled back; 富川
NEW_PASSWORD = "A-new-secret-9"


def an_operator(session: Session, *, approved: bool = True) -> User:
    return operator_of(session, make_enterprise(session, region_code=COUNTY, approved=approved))


def cookie_for(user: User) -> str:
    return create_access_token(pk(user), user.token_version)


def set_cookies(response_cookies: list[str], name: str) -> list[str]:
    return [c for c in response_cookies if c.startswith(f"{name}=")]


def log_in_with_the_form(pages: TestClient, user: User) -> str:
    """Logs in through /login; the session cookie's value."""
    page = pages.get("/login")
    form = {"csrf_token": csrf_of(page.text), "username": user.username, "password": PASSWORD}
    answer = pages.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303
    value = pages.cookies.get("session")
    assert value
    return value


# --- 1. the password-reset token -----------------------------------------------------------


def a_reset_token(session: Session, user: User, token: str) -> None:
    session.add(
        PasswordResetToken(
            user_id=pk(user),
            token_hash=password_reset.token_hash(token),
            expires_at=clock.now() + timedelta(minutes=30),
            created_at=clock.now(),
        )
    )
    session.flush()


def assert_not_stored(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", response.headers.get("cache-control")
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_reset_link_moves_its_token_into_a_strict_cookie_and_out_of_the_url(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    token = "reset-token-for-the-security-test-01"
    a_reset_token(session, user, token)

    link = pages.get("/reset-password", params={"token": token}, follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"] == "/reset-password/new"
    assert token not in link.headers["location"]
    assert_not_stored(link)
    (cookie,) = set_cookies(link.headers.get_list("set-cookie"), "reset_token")
    assert cookie.startswith(f"reset_token={token};")
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/reset-password", "Max-Age="):
        assert attribute in cookie, cookie

    form_page = pages.get("/reset-password/new")
    assert form_page.status_code == 200 and ">设置新密码</button>" in form_page.text
    assert token not in form_page.text  # no hidden field carries it any more
    assert_not_stored(form_page)

    form = {"csrf_token": csrf_of(form_page.text), "password": "short"}
    short = pages.post("/reset-password/confirm", data=form)
    assert short.status_code == 422 and 'id="password-error"' in short.text
    assert_not_stored(short)
    assert not set_cookies(short.headers.get_list("set-cookie"), "reset_token")  # kept

    done = pages.post(
        "/reset-password/confirm",
        data={**form, "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/login?notice=password_reset"
    assert_not_stored(done)
    (deleted,) = set_cookies(done.headers.get_list("set-cookie"), "reset_token")
    assert "Max-Age=0" in deleted and "Path=/reset-password" in deleted
    assert pages.cookies.get("reset_token") is None
    session.refresh(user)
    assert verify_password(NEW_PASSWORD, user.password_hash)


def test_the_reset_form_without_the_cookie_or_with_a_used_token_says_the_link_is_invalid(
    pages: TestClient, session: Session
) -> None:
    page = pages.get("/reset-password/new")
    form = {"csrf_token": csrf_of(page.text), "password": NEW_PASSWORD}
    missing = pages.post("/reset-password/confirm", data=form)
    assert missing.status_code == 422 and "重置密码链接无效、已过期或已使用" in missing.text

    user = an_operator(session)
    a_reset_token(session, user, "reset-token-for-the-security-test-02")
    pages.get("/reset-password", params={"token": "reset-token-for-the-security-test-02"})
    reset = pages.post("/reset-password/confirm", data=form, follow_redirects=False)
    assert reset.status_code == 303
    # The link again: the cookie is back, the token used.
    page = pages.get("/reset-password", params={"token": "reset-token-for-the-security-test-02"})
    used = pages.post(
        "/reset-password/confirm", data={"csrf_token": csrf_of(page.text), "password": "x" * 12}
    )
    assert used.status_code == 422 and "重置密码链接无效、已过期或已使用" in used.text
    (deleted,) = set_cookies(used.headers.get_list("set-cookie"), "reset_token")
    assert "Max-Age=0" in deleted


def test_every_page_and_redirect_of_the_reset_flow_is_no_store_without_referrer(
    pages: TestClient, session: Session
) -> None:
    staff = make_staff(session, jurisdiction=COUNTY)
    page = pages.get("/reset-password")
    assert_not_stored(page)
    token = csrf_of(page.text)
    sent = pages.post(
        "/reset-password",
        data={"csrf_token": token, "username": staff.username},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert_not_stored(sent)
    assert_not_stored(pages.get(sent.headers["location"]))
    assert_not_stored(pages.post("/reset-password", data={"csrf_token": token, "username": ""}))


def access_record(path: str) -> logging.LogRecord:
    """A record shaped like uvicorn's access line: (client, method, path, version, status)."""
    return logging.LogRecord(
        name="uvicorn.access",
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg='%s - "%s %s HTTP/%s" %d',
        args=("203.0.113.9:5123", "GET", path, "1.1", 303),
        exc_info=None,
    )


def test_the_access_log_never_carries_a_token_from_a_query() -> None:
    record = access_record("/reset-password?token=SeCrEt-123&next=%2F")
    assert logs.RedactQuerySecrets().filter(record)
    line = record.getMessage()
    assert "SeCrEt-123" not in line
    assert '"GET /reset-password?token=***&next=%2F HTTP/1.1" 303' in line
    other = access_record("/outlets?q=token&page=2&access_token=abc")
    logs.RedactQuerySecrets().filter(other)
    assert "/outlets?q=token&page=2&access_token=*** " in other.getMessage()


def test_configure_puts_the_redaction_on_uvicorns_access_logger() -> None:
    logs.configure("INFO")
    logs.configure("INFO")  # twice: still one filter
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, logs.RedactQuerySecrets) for f in access.filters) == 1
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    keep = Keep()
    access.addHandler(keep)
    try:
        access.handle(access_record("/reset-password?token=SeCrEt-456"))
    finally:
        access.removeHandler(keep)
    assert seen and all("SeCrEt-456" not in line for line in seen)


# --- 2. an operator of an enterprise not approved ----------------------------------------------


def test_a_logged_in_operator_not_yet_approved_goes_straight_to_its_registration(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session, approved=False)
    assert not enterprises.is_approved(session, user)
    pages.cookies.set("session", cookie_for(user))
    for path in ("/my/filings", "/my/inspections", "/my/filings/new"):
        answer = pages.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/register/status", path
    assert pages.get("/register/status").status_code == 200
    api = pages.get("/api/v1/filings", headers={"Authorization": f"Bearer {cookie_for(user)}"})
    assert api.status_code == 403 and api.json()["code"] == "enterprise_not_approved"


def test_the_approval_rule_lets_staff_and_approved_operators_through(session: Session) -> None:
    assert enterprises.is_approved(session, an_operator(session))
    assert enterprises.is_approved(session, make_staff(session, jurisdiction=COUNTY))


# --- 3. CSRF tokens bound to the session ---------------------------------------------------------


def test_a_form_token_of_one_session_is_refused_in_another_with_the_same_seed(
    pages: TestClient, session: Session
) -> None:
    first, second = an_operator(session), an_operator(session)
    pages.cookies.set("session", cookie_for(first))
    first_token = csrf_of(pages.get("/account").text)
    seed = pages.cookies.get("csrf_seed")

    pages.cookies.set("session", cookie_for(second))
    assert pages.cookies.get("csrf_seed") == seed  # the same browser seed
    contacts = {"email": "", "mobile": "13900002222"}
    refused = pages.post("/account", data={**contacts, "csrf_token": first_token})
    assert refused.status_code == 403 and "表单已失效" in refused.text
    session.refresh(second)
    assert second.mobile != "13900002222"

    second_token = csrf_of(pages.get("/account").text)
    assert second_token != first_token
    saved = pages.post(
        "/account", data={**contacts, "csrf_token": second_token}, follow_redirects=False
    )
    assert saved.status_code == 303


def test_a_token_from_before_the_login_is_refused_and_one_after_it_works(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    before = csrf_of(pages.get("/reset-password").text)
    log_in_with_the_form(pages, user)
    assert pages.post("/logout", data={"csrf_token": before}).status_code == 403
    after = csrf_of(pages.get("/account").text)
    answer = pages.post(
        "/account",
        data={"csrf_token": after, "email": "", "mobile": "13900003333"},
        follow_redirects=False,
    )
    assert answer.status_code == 303


# --- 4. logout ends the session on the server ---------------------------------------------------


def test_a_copied_session_cookie_is_refused_after_logout(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    copied = log_in_with_the_form(pages, user)
    account = pages.get("/account")
    assert account.status_code == 200
    out = pages.post("/logout", data={"csrf_token": csrf_of(account.text)}, follow_redirects=False)
    assert out.status_code == 303

    pages.cookies.clear()
    pages.cookies.set("session", copied)
    again = pages.get("/account", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    api = pages.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {copied}"})
    assert api.status_code == 401


# --- 5. error pages keep the header -------------------------------------------------------------


def test_a_logged_in_operators_404_page_shows_its_header_and_a_working_logout(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    pages.cookies.set("session", cookie_for(user))
    page = pages.get("/outlets/FILING-THAT-DOES-NOT-EXIST")
    assert page.status_code == 404 and "没有找到这个网点" in page.text
    assert "退出登录" in page.text and user.display_name in page.text
    assert page.headers["cache-control"] == "no-store"
    out = pages.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303


def test_an_unknown_pages_404_reads_the_user_from_the_cookie_and_survives_a_database_failure(
    pages: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = an_operator(session)

    @contextmanager
    def the_tests_session(*, for_write: bool = True) -> Iterator[Session]:
        yield session  # the test's transaction (a session of its own would not see the user)

    monkeypatch.setattr(web_session, "session_scope", the_tests_session)
    pages.cookies.set("session", cookie_for(user))
    page = pages.get("/no-such-page")
    assert page.status_code == 404 and "退出登录" in page.text
    assert page.headers["cache-control"] == "no-store"

    @contextmanager
    def broken(*, for_write: bool = True) -> Iterator[Session]:
        raise RuntimeError("the database is away")
        yield session  # pragma: no cover

    monkeypatch.setattr(web_session, "session_scope", broken)
    page = pages.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in page.text and "登录" in page.text
    assert "退出登录" not in page.text


# --- 6. the directory's last page --------------------------------------------------------------


def test_a_page_past_the_end_of_the_directory_shows_the_last_page(
    pages: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    filed_outlets(session, COUNTY, ["451123100"], "末页丁", 3)
    page = pages.get("/outlets", params={"q": "末页丁", "page": 9999})
    assert page.status_code == 200 and "第 2 / 2 页" in page.text
    assert "末页丁网点2" in page.text
    assert "下一页" not in page.text and "page=9998" not in page.text
    assert "page=1" in page.text and "上一页" in page.text
    nothing = pages.get("/outlets", params={"q": "没有这样的网点名", "page": 50})
    assert nothing.status_code == 200 and "上一页" not in nothing.text


# --- 7. no-store on every logged-in page -------------------------------------------------------


def test_every_page_a_logged_in_user_sees_is_no_store(pages: TestClient, session: Session) -> None:
    user = an_operator(session)
    pages.cookies.set("session", cookie_for(user))
    for path in (
        "/",
        "/outlets",
        "/inspection-plans",
        "/login",
        "/register",
        "/account",
        "/reset-password",
        "/my/filings",
        "/my/filings/new",
        "/my/inspections",
        "/register/status",
        "/outlets/NO-SUCH-FILING",
    ):
        page = pages.get(path)
        assert page.status_code in (200, 404), path
        assert "退出登录" in page.text, path
        assert page.headers["cache-control"] == "no-store", path
    pending = an_operator(session, approved=False)
    pages.cookies.set("session", cookie_for(pending))
    status = pages.get("/register/status")
    assert status.status_code == 200 and status.headers["cache-control"] == "no-store"
    pages.cookies.clear()
    assert pages.get("/outlets").headers["cache-control"] == "no-cache"  # anonymous: shared
