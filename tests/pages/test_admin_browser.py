"""An admin in a real browser against the live server: creates a plan (a refused one first),
公示, enters the numbers of the two sources, 抽取, and the public page's re-run says verified;
the statistics page shows the coverage chart. Live tests commit: everything here is in 富川
(451123) with unique names, and the draw picks from every filed outlet there (others commit
there too), so the test never assumes which."""

import secrets
from datetime import timedelta

from playwright.sync_api import Browser, expect

from core import clock
from core.db import session_scope
from services.inspections import directories
from tests.browser import check_page
from tests.factories import PASSWORD, filed_via_services, make_enterprise, make_staff, operator_of
from tests.pages.test_register_browser import unique_uscc

COUNTY = "451123"  # 富川: live tests commit data, each in a county the rolled-back tests leave
TOWNSHIP = "451123100"  # 富阳镇


def test_an_admin_runs_a_plan_from_creation_to_a_verified_draw(
    live_server: str, browser: Browser
) -> None:
    tag = secrets.token_hex(4)
    with session_scope() as session:
        enterprise = make_enterprise(
            session,
            region_code=COUNTY,
            username=f"op-{tag}",
            name=f"富川抽查快递{tag}有限公司",
            uscc=unique_uscc(),
        )
        reviewer = make_staff(session, jurisdiction=COUNTY, username=f"rev-{tag}")
        filed_via_services(
            session,
            operator_of(session, enterprise),
            reviewer,
            county_code=COUNTY,
            township_code=TOWNSHIP,
            name=f"富阳镇抽查网点{tag}",
        )
        admin = make_staff(session, role="admin", jurisdiction=COUNTY, username=f"adm-{tag}")
        for n in range(2):
            directories.create_inspector(
                session,
                admin=admin,
                name=f"富川检查员{n}",
                certificate_no=f"FC{tag}{n}",
                jurisdiction=COUNTY,
                active=True,
                conflicts=[],
                username=None,
            )
    today = clock.today()
    plan_name = f"富川抽查计划{tag}"

    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(f"adm-{tag}")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")  # an admin lands on the administration index
    page.get_by_role("link", name="抽查计划", exact=True).click()
    page.wait_for_url("**/admin/plans")
    check_page(page, "admin-plans")

    page.get_by_label("计划名称").fill(plan_name)
    page.get_by_label("抽查范围").select_option(COUNTY)
    page.get_by_label("按数量").check()
    page.get_by_label("抽取数量").fill("1")
    page.get_by_label("检查组人数").fill("2")
    page.get_by_label("排除近期已抽查天数").fill("0")
    page.get_by_label("随机数来源").fill("福彩3D开奖号码；体彩排列5开奖号码")
    page.get_by_label("开始日期").fill(today.isoformat())
    page.get_by_label("结束日期").fill((today + timedelta(days=20)).isoformat())
    page.get_by_role("button", name="创建计划").click()  # no item chosen: refused, kept
    expect(page.locator("#p-item_codes-error")).to_be_visible()
    expect(page.get_by_label("计划名称")).to_have_value(plan_name)
    check_page(page, "admin-plans-errors")
    page.get_by_label("收寄实名制执行情况").check()
    page.get_by_label("安全检查及视频监控设备配备情况").check()
    page.get_by_role("button", name="创建计划").click()
    expect(page.get_by_role("status")).to_contain_text("计划已创建")
    check_page(page, "admin-plan-draft")

    page.get_by_role("button", name="公示").click()
    expect(page.get_by_role("status")).to_contain_text("已公示")
    check_page(page, "admin-plan-announced")
    page.get_by_label("随机数（福彩3D开奖号码）").fill("3 8 1")
    page.get_by_label("随机数（体彩排列5开奖号码）").fill("2 5 12 8 10")
    page.get_by_role("button", name="抽取").click()
    expect(page.get_by_role("status")).to_contain_text("已抽取")
    check_page(page, "admin-plan-drawn")

    page.get_by_role("link", name="查看公示与核验").click()
    expect(page.locator("#verification")).to_have_attribute("data-verified", "true")
    expect(page.locator("#verification")).to_contain_text("核验通过")

    page.goto(f"{live_server}/admin/stats")
    chart = page.locator("svg#chart-coverage")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title")).to_have_text("各区县乡镇覆盖率（目标 100%）")
    check_page(page, "admin-stats")
    page.close()
