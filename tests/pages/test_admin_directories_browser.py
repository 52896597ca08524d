"""The admin index, inspector directory and item pages in a real browser (axe-core, screenshots
at 390 and 1280 px). Live tests commit: a county admin of 富川 (451123) with a unique username
adds an inspector with a unique certificate number; the city-wide item list is only read."""

import secrets

from playwright.sync_api import Browser, expect

from core.db import session_scope
from services.inspections import directories
from tests.browser import check_page
from tests.factories import PASSWORD, make_staff

COUNTY = "451123"  # 富川


def test_an_admin_lands_on_the_index_and_adds_an_inspector(
    live_server: str, browser: Browser
) -> None:
    tag = secrets.token_hex(4)
    with session_scope() as session:
        make_staff(session, role="admin", jurisdiction=COUNTY, username=f"adm-dir-{tag}")
        make_staff(session, role="admin", jurisdiction="451100", username=f"cit-{tag}")
        item = directories.list_items(session)[0].code
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(f"adm-dir-{tag}")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")
    check_page(page, "admin-index")

    page.get_by_role("link", name="检查人员", exact=True).click()
    page.wait_for_url("**/admin/inspectors")
    page.get_by_label("姓名").fill(f"富川检查员{tag}")
    page.get_by_label("执法证号").fill("x1")  # too short: refused, kept
    page.get_by_label("辖区").select_option(COUNTY)
    page.get_by_label("回避企业（统一社会信用代码，每行一个）").fill("91451123MA5L0000X1")
    page.get_by_role("button", name="添加检查人员").evaluate("b => b.form.noValidate = true")
    page.get_by_role("button", name="添加检查人员").click()
    expect(page.locator("#i-certificate_no-error")).to_be_visible()
    expect(page.get_by_label("姓名")).to_have_value(f"富川检查员{tag}")
    check_page(page, "admin-inspectors-errors")
    page.get_by_label("执法证号").fill(f"FCD{tag}")
    page.get_by_role("button", name="添加检查人员").click()
    expect(page.get_by_role("status")).to_contain_text("已添加")
    check_page(page, "admin-inspectors")
    page.get_by_role("link", name=f"富川检查员{tag}").click()
    expect(page.get_by_label("在岗（可被抽取）")).to_be_checked()
    check_page(page, "admin-inspector-edit")

    page.goto(f"{live_server}/admin/items")
    expect(page.get_by_role("button", name="添加检查事项")).to_have_count(0)
    check_page(page, "admin-items-county")
    page.close()

    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login?next=/admin/items")
    page.get_by_label("用户名").fill(f"cit-{tag}")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/items")
    check_page(page, "admin-items")
    page.goto(f"{live_server}/admin/items/{item}")
    expect(page.get_by_label("事项名称")).not_to_have_value("")
    check_page(page, "admin-item-edit")
    page.close()
