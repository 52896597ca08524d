"""Logging in with a real browser against the live server: the Secure, HttpOnly session cookie
works on the loopback address, and the header offers 退出登录 on every logged-in page."""

from playwright.sync_api import Browser, expect

from core.db import session_scope
from tests.browser import check_page
from tests.factories import PASSWORD, make_enterprise, operator_of

COUNTY = "451123"  # 富川: live tests commit data, each in a county the rolled-back tests leave


def test_an_operator_logs_in_and_out_in_a_browser(live_server: str, browser: Browser) -> None:
    with session_scope() as session:
        username = operator_of(session, make_enterprise(session, region_code=COUNTY)).username
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    check_page(page, "login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value(username)

    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/my/filings")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["session"]["httpOnly"] and cookies["session"]["sameSite"] == "Lax"

    page.goto(f"{live_server}/login")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_server}/")
    assert "session" not in {c["name"] for c in page.context.cookies()}
    page.close()
