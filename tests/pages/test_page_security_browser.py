"""Page security in a real browser on the live server (its own database sessions): an error page
keeps the logged-in header, and logging out there ends the session (a copied cookie is refused)."""

from playwright.sync_api import Browser, expect

from core.db import session_scope
from tests.browser import check_page
from tests.factories import PASSWORD, make_enterprise
from tests.pages.test_register_browser import unique_uscc, unique_username

COUNTY = "451123"  # 富川: live tests commit data, each in a county the rolled-back tests leave


def test_an_error_page_keeps_the_header_and_logout_there_ends_the_session(
    live_server: str, browser: Browser
) -> None:
    username = unique_username("err")
    with session_scope() as session:
        make_enterprise(session, region_code=COUNTY, username=username, uscc=unique_uscc())
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/my/filings")
    copied = next(c["value"] for c in context.cookies() if c["name"] == "session")

    answer = page.goto(f"{live_server}/no-such-page")
    assert answer is not None and answer.status == 404
    assert answer.headers["cache-control"] == "no-store"
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    check_page(page, "error-404-logged-in")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_server}/")

    # A copy of the cookie, kept from before the logout.
    context.add_cookies([{"name": "session", "value": copied, "url": live_server}])
    page.goto(f"{live_server}/my/filings")
    page.wait_for_url("**/login?next=/my/filings")
    context.close()
