"""The reviewer's journey in a real browser against the live server (SPEC §9): the queue, a
submitted filing (its photo inline), a return with two corrections (the second row added by
`增加补正项`), the corrected submission accepted with its receipt number shown, an enterprise
approved, a filing revoked. Every page state passes axe-core and is photographed at 390 and
1280 px (build/screenshots/review-*.png)."""

import hashlib
import secrets
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Browser, expect

from core.db import session_scope
from core.storage import get_storage
from domain.vocabulary import EnterpriseStatus, FilingStatus
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing
from models.user import User
from services.filings import actions, documents, queries
from tests.browser import check_page
from tests.factories import (
    PASSWORD,
    draft_via_services,
    filed_via_services,
    make_enterprise,
    make_staff,
    operator_of,
    sample_png,
)
from tests.pages.test_register_browser import unique_uscc

COUNTY = "451123"  # 富川: live tests commit data, each in a county the rolled-back tests leave
TOWNSHIP = "451123101"


def test_a_reviewer_returns_accepts_approves_and_revokes(
    live_server: str, browser: Browser, tmp_path: Path, fixed_clock: datetime
) -> None:
    tag = secrets.token_hex(4)
    outlet_name = f"富川白沙审核驿站{tag}"
    photo = sample_png((64, 40))
    photo_sha = hashlib.sha256(photo).hexdigest()
    stored = tmp_path / "photo.png"
    stored.write_bytes(photo)
    get_storage().put_file(stored, photo_sha)
    with session_scope() as session:
        enterprise = make_enterprise(
            session,
            region_code=COUNTY,
            username=f"rop-{tag}",
            name=f"富川审核快递{tag}有限公司",
            uscc=unique_uscc(),
        )
        operator = operator_of(session, enterprise)
        reviewer = make_staff(session, jurisdiction=COUNTY, username=f"rrev-{tag}")
        place = {"county_code": COUNTY, "township_code": TOWNSHIP}
        filing = draft_via_services(session, operator, name=outlet_name, **place)
        documents.add_document(
            session,
            filing,
            actor=operator,
            file=documents.StoredFile(
                "premises_photo", "门头.png", "image/png", len(photo), photo_sha
            ),
        )
        actions.submit(session, filing, actor=operator)
        to_revoke = filed_via_services(
            session, operator, reviewer, name=f"富川待撤销驿站{tag}", **place
        )
        pending = make_enterprise(
            session,
            region_code=COUNTY,
            approved=False,
            username=f"rpend-{tag}",
            name=f"富川待批快递{tag}有限公司",
            uscc=unique_uscc(),
        )
        filing_id, revoke_id, pending_id = pk(filing), pk(to_revoke), pk(pending)
        operator_id = pk(operator)

    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login?next=/review")
    page.get_by_label("用户名").fill(f"rrev-{tag}")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/review")
    expect(page.get_by_role("link", name=outlet_name)).to_be_visible()
    check_page(page, "review-queue")

    # The submission: every field, its photo inline; return it with two corrections.
    page.get_by_role("link", name=outlet_name).click()
    page.wait_for_url(f"**/review/filings/{filing_id}")
    expect(page.get_by_role("img", name="场所照片：门头.png")).to_be_visible()
    check_page(page, "review-filing")
    page.get_by_label("补正项").nth(0).select_option("field:outlet.address")
    page.get_by_label("说明").nth(0).fill("地址缺少门牌号")
    page.get_by_role("button", name="增加补正项").click()  # JavaScript: a fourth row, no reload
    expect(page.get_by_label("补正项")).to_have_count(4)
    page.get_by_label("补正项").nth(3).select_option("document:premises_photo")
    page.get_by_label("说明").nth(3).fill("照片看不清门头")
    page.get_by_role("button", name="退回").click()
    expect(page.get_by_role("status")).to_contain_text("已退回")
    expect(page.get_by_text("照片看不清门头")).to_be_visible()
    check_page(page, "review-returned")

    # The operator corrects and resubmits (through the services); the reviewer accepts.
    with session_scope() as session:
        filing_row = session.get(Filing, filing_id)
        assert filing_row is not None
        operator_row = session.get(User, operator_id)
        assert operator_row is not None
        actions.update(
            session,
            filing_row,
            actor=operator_row,
            patch={"outlet": {"address": "白沙镇新街 8 号"}},
        )
        actions.submit(session, filing_row, actor=operator_row)
    page.goto(f"{live_server}/review/filings/{filing_id}")
    page.get_by_role("button", name="通过").click()
    expect(page.get_by_role("status")).to_contain_text("回执编号")
    with session_scope() as session:
        accepted = session.get(Filing, filing_id)
        assert accepted is not None and accepted.status == FilingStatus.FILED
        receipt_no = queries.shown_revision(session, accepted).receipt_no
    assert receipt_no
    expect(page.get_by_role("status")).to_contain_text(receipt_no)
    check_page(page, "review-accepted")

    # An enterprise registration approved.
    page.get_by_role("link", name="待审核备案").click()
    page.get_by_role("link", name="企业登记审核").click()
    page.wait_for_url("**/review/enterprises")
    card = page.locator("section.review-enterprise").filter(has_text=f"富川待批快递{tag}有限公司")
    check_page(page, "review-enterprises")
    card.get_by_role("button", name="批准").click()
    expect(page.get_by_role("status")).to_contain_text("企业登记已批准")
    check_page(page, "review-enterprises-approved")
    with session_scope() as session:
        approved = session.get(Enterprise, pending_id)
        assert approved is not None and approved.status == EnterpriseStatus.APPROVED

    # A filed outlet revoked, with its reason.
    page.goto(f"{live_server}/review/filings/{revoke_id}")
    check_page(page, "review-filed")
    page.get_by_label("撤销原因").fill("虚假备案：场所不存在")
    page.get_by_role("button", name="撤销").click()
    expect(page.get_by_role("status")).to_contain_text("备案已撤销")
    check_page(page, "review-revoked")
    with session_scope() as session:
        revoked = session.get(Filing, revoke_id)
        assert revoked is not None and revoked.status == FilingStatus.REVOKED
    page.close()
