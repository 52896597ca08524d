"""An inspector in a real browser against the live server: log in → 检查任务 → open the task →
record a result with a photo → the result is on the public plan page."""

import secrets
from pathlib import Path

from playwright.sync_api import Browser, expect

from core.db import session_scope
from tests.browser import check_page
from tests.factories import PASSWORD, make_staff, sample_png
from tests.pages.test_inspector_pages import drawn_task

COUNTY, TOWNSHIPS = "451123", ["451123102", "451123103"]  # 富川: live tests commit data here


def test_an_inspector_records_a_result_with_a_photo_and_it_is_published(
    live_server: str, browser: Browser, tmp_path: Path
) -> None:
    tag = f"富川检查{secrets.token_hex(3)}"
    with session_scope() as session:
        task = drawn_task(session, COUNTY, TOWNSHIPS, tag)
        username, plan_id = task.member.username, task.plan.id
        inspection_id, outlet_name = task.inspection.id, task.inspection.outlet_name
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(sample_png((64, 48)))

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(f"{live_server}/login?next=/inspector/tasks")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/inspector/tasks")
    check_page(page, "inspector-tasks")

    page.get_by_role("link", name=outlet_name).first.click()
    page.wait_for_url(f"**/inspector/tasks/{inspection_id}")
    check_page(page, "inspector-task")

    page.get_by_label("上传证据").set_input_files(photo)
    page.get_by_role("button", name="上传", exact=True).click()
    page.wait_for_url(f"**/inspector/tasks/{inspection_id}?done=evidence*")
    expect(page.locator("#evidence")).to_contain_text("现场照片.png")

    page.get_by_label("检查结果").select_option(label="责令整改")
    page.get_by_label("检查情况").fill("未配备视频监控设备")
    page.get_by_role("button", name="提交结果").click()
    expect(page.get_by_role("alert").first).to_contain_text("提交未成功")
    expect(page.locator("#rectify_by-error")).to_contain_text("整改期限")
    expect(page.get_by_label("检查情况")).to_have_value("未配备视频监控设备")
    check_page(page, "inspector-task-error")

    page.get_by_label("检查结果").select_option(label="未发现问题")
    page.get_by_label("检查情况").fill("各项制度落实到位")
    page.get_by_role("button", name="提交结果").click()
    page.wait_for_url(f"**/inspector/tasks/{inspection_id}?done=result")
    expect(page.get_by_role("status")).to_contain_text("检查结果已记录并公示")
    check_page(page, "inspector-task-recorded")

    page.goto(f"{live_server}/inspection-plans/{plan_id}")
    expect(page.locator("main")).to_contain_text("未发现问题")
    page.close()


def test_a_city_admin_loads_a_holiday_file_on_the_calendar_page(
    live_server: str, browser: Browser, tmp_path: Path
) -> None:
    year = 2093  # a year nothing else counts deadlines in: loading it changes no one's deadline
    with session_scope() as session:
        admin = make_staff(
            session, role="admin", jurisdiction="451100", username=f"cal-{secrets.token_hex(4)}"
        )
        username = admin.username
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,kind,note\n{year}-01-01,holiday,元旦\n{year}-01-05,workday,\n")
    good = tmp_path / "holidays.csv"
    good.write_text(f"date,kind,note\n{year}-01-01,holiday,元旦\n{year}-01-03,workday,调休\n")

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(f"{live_server}/login?next=/admin/calendar")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/calendar")
    check_page(page, "admin-calendar")

    page.get_by_label("节假日文件").set_input_files(bad)
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("alert")).to_contain_text(f"第 3 行：{year}-01-05 是周一至周五")
    check_page(page, "admin-calendar-error")

    page.get_by_label("节假日文件").set_input_files(good)
    page.get_by_role("button", name="导入").click()
    page.wait_for_url(f"**/admin/calendar?loaded={year}")
    expect(page.get_by_role("status")).to_contain_text(f"已导入 {year} 年工作日历")
    expect(page.get_by_role("row", name=str(year))).to_contain_text("管理人员导入")
    check_page(page, "admin-calendar-loaded")
    page.close()


def test_a_county_admin_creates_a_user_and_reads_the_audit_trail(
    live_server: str, browser: Browser
) -> None:
    tag = secrets.token_hex(4)
    with session_scope() as session:
        admin = make_staff(session, role="admin", jurisdiction=COUNTY, username=f"fcadm-{tag}")
        username = admin.username

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(f"{live_server}/login?next=/admin/users")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/users")
    page.get_by_label("用户名").fill(f"fcrev-{tag}")
    page.get_by_label("显示名称").fill(f"富川审核{tag}")
    page.get_by_label("角色").select_option(label="审核人员")
    page.get_by_label("密码", exact=True).fill("Fresh-pass-1")
    page.get_by_role("button", name="创建账号").click()
    page.wait_for_url("**/admin/users?done=created")
    expect(page.get_by_role("status")).to_contain_text("账号已创建")
    expect(page.locator("main")).to_contain_text(f"富川审核{tag}")
    check_page(page, "admin-users")

    page.goto(f"{live_server}/admin/audit?action=user.create")
    expect(page.locator("main")).to_contain_text("user.create")
    check_page(page, "admin-audit")
    page.close()
