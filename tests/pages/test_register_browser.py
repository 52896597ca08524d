"""Registration and account pages in a real browser against the live server: register, be
approved (through the services), log in; be rejected, correct, resubmit; change the password;
reset a lost one. axe-core and screenshots on every page, in the states a user sees."""

import secrets

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select
from stdnum.cn import uscc

from core import clock
from core.db import session_scope
from models.base import pk
from models.enterprise import Enterprise
from models.notification import PasswordResetToken
from services.accounts import enterprises
from services.notifications import password_reset
from tests.browser import check_page
from tests.factories import PASSWORD, make_enterprise, make_staff, operator_of

COUNTY = "451123"  # 富川: live tests commit data, each in a county the rolled-back tests leave
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
NEW_PASSWORD = "Browser-new-pass-7"


def unique_uscc() -> str:
    body = "91" + COUNTY + "".join(secrets.choice(USCC_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def unique_username(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def log_in(page: Page, live_server: str, username: str, password: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_register_get_approved_and_log_in_to_the_filings(
    live_server: str, browser: Browser
) -> None:
    number, username = unique_uscc(), unique_username("reg")
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/register")
    check_page(page, "register")
    page.get_by_label("企业名称").fill("富川页面测试快递有限公司")
    page.get_by_label("统一社会信用代码").fill(number)
    page.get_by_label("所在地区").select_option(COUNTY)
    page.get_by_label("分支机构").check()
    page.get_by_label("快递业务经营许可证编号").fill("桂邮2024浏览001")
    page.get_by_label("许可有效期起").fill("2024-01-01")
    page.get_by_label("许可有效期止").fill("2029-12-31")
    page.get_by_role("group", name="许可经营地域").get_by_label("富川瑶族自治县").check()
    page.get_by_label("联系人", exact=True).fill("赵六")
    page.get_by_label("联系人手机").fill("1380000")  # too short: refused, next to its box
    page.get_by_label("电子邮箱").fill("zhao@example.com")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="提交注册").click()

    expect(page.locator("#contact_mobile-error")).to_be_visible()
    expect(page.get_by_label("企业名称")).to_have_value("富川页面测试快递有限公司")
    expect(page.get_by_label("所在地区")).to_have_value(COUNTY)
    expect(page.get_by_label("分支机构")).to_be_checked()
    expect(page.get_by_label("密码")).to_have_value("")  # never sent back
    check_page(page, "register-errors")

    page.get_by_label("联系人手机").fill("13800001357")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_url("**/register/done")
    expect(page.get_by_role("status")).to_contain_text("待审核")
    check_page(page, "register-done")

    log_in(page, live_server, username, PASSWORD)
    page.wait_for_url("**/register/status")
    expect(page.get_by_role("main")).to_contain_text("待审核")
    check_page(page, "register-status-pending")

    with session_scope() as session:
        enterprise = session.exec(select(Enterprise).where(Enterprise.uscc == number)).one()
        assert enterprise.licence_regions == [COUNTY] and enterprise.is_branch
        approver = make_staff(session, role="admin", jurisdiction="450000")
        enterprises.approve(session, enterprise, approver=approver)

    page.reload()
    expect(page.get_by_role("main")).to_contain_text("已通过")
    check_page(page, "register-status-approved")
    page.get_by_role("button", name="退出登录").click()
    log_in(page, live_server, username, PASSWORD)
    page.wait_for_url("**/my/filings")
    page.close()


def test_a_rejected_owner_sees_the_reason_corrects_and_resubmits(
    live_server: str, browser: Browser
) -> None:
    username = unique_username("rej")
    with session_scope() as session:
        enterprise = make_enterprise(
            session, region_code=COUNTY, approved=False, username=username, uscc=unique_uscc()
        )
        reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
        enterprises.reject(session, enterprise, reviewer=reviewer, reason="联系人手机无法接通")
        enterprise_id = pk(enterprise)

    page = browser.new_page(locale="zh-CN")
    log_in(page, live_server, username, PASSWORD)
    page.wait_for_url("**/register/status")
    expect(page.get_by_role("alert")).to_contain_text("联系人手机无法接通")
    check_page(page, "register-status-rejected")

    page.get_by_label("联系人手机").fill("13900002468")
    page.get_by_role("button", name="重新提交").click()
    page.wait_for_url("**/register/status?notice=resubmitted")
    expect(page.get_by_role("status")).to_contain_text("已重新提交")
    expect(page.get_by_role("main")).to_contain_text("待审核")
    with session_scope() as session:
        found = session.get(Enterprise, enterprise_id)
        assert found is not None and found.status == "pending"
        assert found.contact_mobile == "13900002468"
    page.close()


def test_a_password_change_ends_the_session_and_the_new_one_logs_in(
    live_server: str, browser: Browser
) -> None:
    username = unique_username("acct")
    with session_scope() as session:
        make_enterprise(session, region_code=COUNTY, username=username, uscc=unique_uscc())

    page = browser.new_page(locale="zh-CN")
    log_in(page, live_server, username, PASSWORD)
    page.wait_for_url("**/my/filings")
    page.goto(f"{live_server}/account")
    check_page(page, "account")

    page.get_by_label("当前密码").fill("Not-my-password-1")
    page.get_by_label("新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#current_password-error")).to_have_text("当前密码不正确")
    check_page(page, "account-errors")

    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url("**/login?notice=password_changed")
    expect(page.get_by_role("status")).to_contain_text("密码已修改")
    check_page(page, "login-password-changed")
    assert "session" not in {c["name"] for c in page.context.cookies()}

    log_in(page, live_server, username, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    log_in(page, live_server, username, NEW_PASSWORD)
    page.wait_for_url("**/my/filings")
    page.close()


def test_a_lost_password_is_reset_with_the_link(live_server: str, browser: Browser) -> None:
    username = unique_username("lost")
    with session_scope() as session:
        enterprise = make_enterprise(
            session, region_code=COUNTY, username=username, uscc=unique_uscc()
        )
        user_id = pk(operator_of(session, enterprise))

    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="忘记密码").click()
    page.wait_for_url("**/reset-password")
    check_page(page, "reset-request")
    page.get_by_label("用户名").fill(username)
    page.get_by_role("button", name="发送重置链接").click()
    expect(page.get_by_role("status")).to_contain_text("重置密码的链接已发出")
    check_page(page, "reset-request-sent")

    # The link the e-mail or SMS would carry (no channel is configured in the tests).
    token = secrets.token_urlsafe(32)
    with session_scope() as session:
        now = clock.now()
        session.add(
            PasswordResetToken(
                user_id=user_id,
                token_hash=password_reset.token_hash(token),
                expires_at=now + password_reset.TOKEN_LIFETIME,
                created_at=now,
            )
        )
    page.goto(f"{live_server}/reset-password?token={token}")
    check_page(page, "reset-confirm")
    page.get_by_label("新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="设置新密码").click()
    page.wait_for_url("**/login?notice=password_reset")
    expect(page.get_by_role("status")).to_contain_text("新密码已设置")

    page.goto(f"{live_server}/reset-password?token={token}")  # a link works once
    page.get_by_label("新密码").fill("Yet-another-pass-3")
    page.get_by_role("button", name="设置新密码").click()
    expect(page.get_by_role("alert")).to_contain_text("重置密码链接无效、已过期或已使用")
    check_page(page, "reset-confirm-invalid")

    log_in(page, live_server, username, NEW_PASSWORD)
    page.wait_for_url("**/my/filings")
    page.close()
