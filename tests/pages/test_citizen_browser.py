"""The citizen's journey in a real browser against the live server: home → check a receipt (its
signature checked in the browser) → directory search → an outlet's page → a plan's page."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from core.db import session_scope
from models.filing import Filing
from services.filings import queries
from tests.browser import check_page
from tests.pages.test_public_pages import drawn_plan_with_a_result

COUNTY, TOWNSHIPS = "451123", ["451123102", "451123103"]  # 富川: live tests commit data here
SIGNED_OK = "签名有效：页面内容与备案机关签发的数据一致"


@dataclass
class Published:
    tag: str
    plan_id: int
    plan_name: str
    outlet_name: str
    filing_no: str
    receipt_no: str


@pytest.fixture(scope="module")
def published(live_server: str) -> Iterator[Published]:
    """Committed: outlets in 富川, a drawn plan over them and one recorded result. The draw picks
    from every outlet filed in 富川 (other committing tests file there too): the drawn outlet
    may be anyone's, so the test follows it by its number, never by this module's tag."""
    tag = f"富川公开{secrets.token_hex(3)}"
    with session_scope() as session:
        world = drawn_plan_with_a_result(session, COUNTY, TOWNSHIPS, tag)
        drawn = session.get(Filing, world.inspection.filing_id)
        assert drawn is not None and drawn.filing_no is not None
        receipt_no = queries.shown_revision(session, drawn).receipt_no
        assert receipt_no is not None
        made = Published(
            tag=tag,
            plan_id=world.plan.id or 0,
            plan_name=world.plan.name,
            outlet_name=world.inspection.outlet_name,
            filing_no=drawn.filing_no,
            receipt_no=receipt_no,
        )
    yield made  # committed: the live server sees it


def new_page(browser: Browser) -> Page:
    return browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")


def test_a_citizen_checks_a_receipt_searches_the_directory_and_reads_a_plan(
    live_server: str, browser: Browser, published: Published
) -> None:
    page = new_page(browser)
    page.goto(f"{live_server}/")
    check_page(page, "home")

    page.get_by_label("回执编号").fill(published.receipt_no.lower())
    page.get_by_role("button", name="核验").click()
    page.wait_for_url(f"**/verify/{published.receipt_no}")
    expect(page.locator("#status")).to_have_attribute("data-status", "valid")
    expect(page.get_by_role("status")).to_contain_text(SIGNED_OK)
    check_page(page, "verify")

    page.get_by_role("link", name="网点名录").click()
    page.wait_for_url("**/outlets")
    page.get_by_label("搜索").fill(published.filing_no)
    page.get_by_label("县区").select_option(label="富川瑶族自治县")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/outlets?*")
    expect(page.locator("#total")).to_contain_text("共 1 个网点")
    expect(page.get_by_label("乡镇（街道）")).to_contain_text("白沙镇")  # the county's townships
    check_page(page, "outlets")

    page.get_by_role("link", name=published.outlet_name).click()
    page.wait_for_url(f"**/outlets/{published.filing_no}")
    expect(page.locator("#receipt-status")).to_have_text("有效")
    expect(page.locator("main")).to_contain_text("责令整改")
    check_page(page, "outlet")

    page.get_by_role("link", name=published.plan_name).click()
    page.wait_for_url(f"**/inspection-plans/{published.plan_id}")
    expect(page.locator("#verification")).to_have_attribute("data-verified", "true")
    expect(page.locator("#key-string")).to_have_text("1.3.8./2.5.8.10.12./")
    expect(page.locator("main")).to_contain_text("outlet-filing verify-draw")
    check_page(page, "plan")

    page.get_by_role("link", name="抽查公示").first.click()
    page.wait_for_url("**/inspection-plans")
    expect(page.get_by_role("link", name=published.plan_name)).to_be_visible()
    check_page(page, "plans")
    page.close()


def test_a_browser_without_ed25519_says_so_instead_of_failing(
    live_server: str, browser: Browser, published: Published
) -> None:
    page = new_page(browser)
    page.add_init_script(
        "crypto.subtle.importKey = () => Promise.reject("
        "new DOMException('Ed25519', 'NotSupportedError'));"
    )
    page.goto(f"{live_server}/verify/{published.receipt_no}")
    region = page.locator("#signature")
    expect(region).to_have_attribute("data-state", "unsupported")
    expect(region).to_contain_text("此浏览器不支持 Ed25519 签名核验")
    expect(page.locator("#status")).to_have_attribute("data-status", "valid")
    check_page(page, "verify-unsupported")
    page.close()


def test_a_page_that_differs_from_the_signed_data_is_flagged(
    live_server: str, browser: Browser, published: Published
) -> None:
    page = new_page(browser)

    def altered(route: Route) -> None:
        original = route.fetch()
        body = original.text().replace(published.outlet_name, "冒名快递驿站")
        route.fulfill(response=original, body=body)

    page.route(f"**/verify/{published.receipt_no}", altered)
    page.goto(f"{live_server}/verify/{published.receipt_no}")
    region = page.locator("#signature")
    expect(region).to_have_attribute("data-state", "mismatch")
    expect(region).to_contain_text("不一致（网点名称）")
    check_page(page, "verify-mismatch")
    page.close()


def test_a_signature_that_does_not_verify_is_flagged(
    live_server: str, browser: Browser, published: Published
) -> None:
    page = new_page(browser)

    def forged(route: Route) -> None:
        original = route.fetch()
        receipt = original.json()
        header, payload, signature = receipt["jws"].split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        receipt["jws"] = f"{header}.{payload}.{flipped}"
        route.fulfill(response=original, json=receipt)

    page.route(f"**/api/v1/public/receipts/{published.receipt_no}", forged)
    page.goto(f"{live_server}/verify/{published.receipt_no}")
    region = page.locator("#signature")
    expect(region).to_have_attribute("data-state", "invalid")
    expect(region).to_contain_text("签名无效")
    page.close()
