"""The operator's journey in a real browser against the live server (SPEC §9): log in, new filing,
upload the three documents, submit, see the two corrections, fix, resubmit, download the receipt
and open its verify page, then a change and a closure. Every page state passes axe-core and is
photographed at 390 and 1280 px (build/screenshots/operator-*.png)."""

import re
import secrets
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from core.db import session_scope
from domain.vocabulary import FilingStatus
from models.filing import Filing
from models.user import User
from services.filings import actions
from tests.browser import check_page
from tests.factories import (
    PASSWORD,
    make_enterprise,
    make_staff,
    sample_pdf,
    sample_png,
    valid_id_number,
)
from tests.pages.test_register_browser import unique_uscc

COUNTY = "451123"  # 富川: live tests commit data, each in a county the rolled-back tests leave
TOWNSHIP = "451123101"  # 白沙镇


def upload(page: Page, kind: str, name: str, mime: str, content: bytes) -> None:
    page.get_by_label("文件类别").select_option(kind)
    page.get_by_label("选择文件").set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_role("status")).to_contain_text("文件已上传")


def test_an_operator_files_an_outlet_changes_it_and_closes_it(
    live_server: str, browser: Browser, tmp_path: Path, fixed_clock: datetime
) -> None:
    # The typed dates (opened 2026-11-20, changed 11-28, closed 11-29) are in the past on the
    # fixed clock (2026-11-30), which the in-process live server shares.
    tag = secrets.token_hex(4)
    with session_scope() as session:
        enterprise = make_enterprise(
            session,
            region_code=COUNTY,
            username=f"op-{tag}",
            name=f"富川快递{tag}有限公司",
            uscc=unique_uscc(),  # random: no collision with the factories' serial numbers
        )
        reviewer = make_staff(session, jurisdiction=COUNTY, username=f"rev-{tag}")
        enterprise_id, reviewer_id = enterprise.id, reviewer.id
    outlet_name = f"白沙镇快递驿站{tag}"

    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(f"op-{tag}")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/my/filings")
    check_page(page, "operator-list-empty")

    # A new filing: the township list follows the county, the partner fieldset only for 合作.
    page.get_by_role("link", name="新建备案").first.click()
    page.wait_for_url("**/my/filings/new")
    expect(page.get_by_label("合作方名称")).to_be_hidden()
    page.get_by_label("合作", exact=True).check()
    expect(page.get_by_label("合作方名称")).to_be_visible()
    page.get_by_label("自营", exact=True).check()
    expect(page.get_by_label("合作方名称")).to_be_hidden()
    page.get_by_label("所在县区").select_option(COUNTY)
    check_page(page, "operator-new")
    page.get_by_label("网点名称").fill(outlet_name)
    page.get_by_label("收寄").check()
    page.get_by_label("投递").check()
    page.get_by_label("顺丰").check()
    page.get_by_label("所在乡镇").select_option(TOWNSHIP)
    page.get_by_label("详细地址").fill("白沙街 8 号")
    page.get_by_label("开办日期").fill("2026-11-20")
    page.get_by_label("营业时间").fill("08:00-20:00")
    page.get_by_label("面积（平方米）").fill("30")
    page.get_by_label("从业人数").fill("2")
    page.get_by_label("有监控设备").check()
    page.get_by_label("负责人姓名").fill("李四")
    page.get_by_label("负责人身份证号码").fill(valid_id_number(area="451123"))
    page.get_by_label("负责人手机号码").fill("1397740")  # too short: refused, kept
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#f-person-in-charge-mobile-error")).to_be_visible()
    expect(page.get_by_label("网点名称")).to_have_value(outlet_name)
    check_page(page, "operator-new-errors")
    page.get_by_label("负责人手机号码").fill("13977401234")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r".*/my/filings/\d+\?done=saved"))
    filing_url = page.url.split("?")[0]
    filing_id = int(filing_url.rsplit("/", 1)[1])

    upload(page, "business_licence", "licence.pdf", "application/pdf", sample_pdf())
    upload(page, "id_document", "id.png", "image/png", sample_png())
    upload(page, "premises_photo", "shop.png", "image/png", sample_png((16, 12)))
    expect(page.get_by_text("必需文件已齐全")).to_be_visible()
    check_page(page, "operator-draft")
    page.get_by_role("button", name="提交备案").click()
    expect(page.get_by_role("status")).to_contain_text("已提交")
    check_page(page, "operator-submitted")

    # Returned with two corrections (a reviewer's decision, through the services).
    with session_scope() as session:
        filing = session.get(Filing, filing_id)
        reviewer_user = session.get(User, reviewer_id)
        assert filing is not None and filing.enterprise_id == enterprise_id and reviewer_user
        actions.return_for_correction(
            session,
            filing,
            reviewer=reviewer_user,
            corrections=[
                {"field": "outlet.address", "reason": "门牌号与营业执照不符"},
                {"document": "premises_photo", "reason": "照片看不清门头"},
            ],
        )
    page.goto(f"{live_server}/my/filings")
    expect(page.get_by_role("link", name="按补正意见修改后重新提交")).to_be_visible()
    expect(page.locator("#notices")).to_contain_text("未读")
    page.get_by_role("link", name="按补正意见修改后重新提交").click()
    expect(page.locator("#f-outlet-address-correction")).to_contain_text("门牌号与营业执照不符")
    expect(page.get_by_text("补正意见（场所照片）：照片看不清门头")).to_be_visible()
    check_page(page, "operator-returned")
    page.get_by_label("详细地址").fill("白沙街 18 号")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    upload(page, "premises_photo", "front.png", "image/png", sample_png((20, 10)))
    page.get_by_role("button", name="提交备案").click()
    expect(page.get_by_role("status")).to_contain_text("已提交")

    with session_scope() as session:
        filing = session.get(Filing, filing_id)
        reviewer_user = session.get(User, reviewer_id)
        assert filing is not None and reviewer_user is not None
        actions.accept(session, filing, reviewer=reviewer_user)
        filing_no = filing.filing_no
    receipt_no = f"{filing_no}-R1"

    page.goto(filing_url)
    expect(page.get_by_text(f"回执编号 {receipt_no}")).to_be_visible()
    check_page(page, "operator-filed")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载回执").click()
    saved = tmp_path / "receipt.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name="核验页面").click()
    page.wait_for_url(f"**/verify/{receipt_no}")
    expect(page.locator("body")).to_contain_text(outlet_name)

    # A change: 申请变更 with 变更日期, then the form edits the change.
    page.goto(filing_url)
    page.get_by_label("变更日期").fill("2026-11-28")
    page.get_by_role("button", name="申请变更").click()
    expect(page.get_by_role("status")).to_contain_text("已发起变更")
    expect(page.get_by_label("变更日期")).to_have_value("2026-11-28")
    second = browser.new_context(locale="zh-CN")  # the same session, a second window
    second.add_cookies(page.context.cookies())  # type: ignore[arg-type]  # Cookie has every SetCookieParam key
    other_tab = second.new_page()
    other_tab.goto(filing_url)
    page.get_by_label("网点名称").fill(outlet_name + "（新）")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    check_page(page, "operator-change")
    # The second tab's save would overwrite it: refused, what was typed there kept.
    other_tab.get_by_label("营业时间").fill("09:00-18:00")
    other_tab.get_by_role("button", name="保存草稿").click()
    expect(other_tab.locator("#conflict")).to_contain_text("另一位用户已修改此备案")
    expect(other_tab.get_by_label("营业时间")).to_have_value("09:00-18:00")
    check_page(other_tab, "operator-conflict")
    second.close()
    page.get_by_role("button", name="提交备案").click()
    expect(page.get_by_role("status")).to_contain_text("已提交")

    # A closure: 停业 with 停业日期 and 停业原因.
    page.get_by_label("停业日期").fill("2026-11-29")
    page.get_by_label("停业原因").fill("租约到期")
    page.get_by_role("button", name="停业", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已报告停业")
    check_page(page, "operator-closed")

    page.goto(f"{live_server}/my/filings")
    expect(page.get_by_role("link", name=outlet_name)).to_be_visible()
    check_page(page, "operator-list")
    page.close()

    with session_scope() as session:
        mine = session.exec(select(Filing).where(Filing.enterprise_id == enterprise_id)).all()
        assert [f.status for f in mine] == [FilingStatus.CLOSED]
