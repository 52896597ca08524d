"""Log in and out on pages: the session cookie, the CSRF token in every form, pages for errors."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from models.user import User
from tests.factories import PASSWORD, make_enterprise, operator_of


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def an_operator(session: Session) -> User:
    return operator_of(session, make_enterprise(session, region_code="451102"))


def test_login_sets_an_httponly_lax_secure_session_and_logout_ends_it(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    page = pages.get("/login")
    assert page.status_code == 200 and "用户名" in page.text and "密码" in page.text
    form = {"csrf_token": csrf_of(page.text), "username": user.username, "password": PASSWORD}
    answer = pages.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/my/filings"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie

    home = pages.get("/login")
    assert "退出登录" in home.text and user.display_name in home.text
    out = pages.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert "退出登录" not in pages.get("/login").text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    pages.get("/login")  # the browser has its seed cookie
    for token in (None, "0" * 64):
        form = {"username": user.username, "password": PASSWORD}
        if token:
            form["csrf_token"] = token
        answer = pages.post("/login", data=form, follow_redirects=False)
        assert answer.status_code == 403 and "表单已失效" in answer.text
        assert not any(c.startswith("session=") for c in answer.headers.get_list("set-cookie"))


def test_a_wrong_password_keeps_the_username_and_says_why(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    page = pages.get("/login")
    form = {"csrf_token": csrf_of(page.text), "username": user.username, "password": "nope-nope"}
    answer = pages.post("/login", data=form)
    assert answer.status_code == 401
    assert "用户名或密码错误" in answer.text and f'value="{user.username}"' in answer.text


def test_login_goes_back_only_to_a_page_of_this_site(pages: TestClient, session: Session) -> None:
    user = an_operator(session)
    for asked, expected in (("/outlets?q=1", "/outlets?q=1"), ("//evil.example", "/my/filings")):
        pages.cookies.clear()
        page = pages.get("/login", params={"next": asked})
        form = {
            "csrf_token": csrf_of(page.text),
            "username": user.username,
            "password": PASSWORD,
            "next": asked,
        }
        answer = pages.post("/login", data=form, follow_redirects=False)
        assert answer.headers["location"] == expected


def test_an_unknown_page_is_a_page_and_the_api_keeps_problem_json(pages: TestClient) -> None:
    page = pages.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text
    api = pages.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
