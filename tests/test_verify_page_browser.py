"""The verification page in a real browser (headless Chromium): what a phone shows after a scan."""

from pathlib import Path

from playwright.sync_api import Browser

from core import clock
from core.db import session_scope
from services.filings import actions, queries
from tests.factories import filed_via_services, make_enterprise, make_staff, operator_of

COUNTY, TOWNSHIP = "451122", "451122100"  # 钟山县: no other test files outlets here


def _filed_then_changed() -> tuple[str, str]:
    """A filing accepted twice (committed): (superseded receipt, current receipt)."""
    with session_scope() as session:
        reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        filing = filed_via_services(
            session,
            operator,
            reviewer,
            county_code=COUNTY,
            township_code=TOWNSHIP,
            name="钟山镇快递服务站",
            opened_on="2026-11-01",
        )
        first = queries.shown_revision(session, filing).receipt_no
        assert first is not None  # an accepted revision has its receipt
        actions.open_new_change(
            session, filing, actor=operator, changed_on=clock.today(), reason="更名"
        )
        actions.update(
            session, filing, actor=operator, patch={"outlet": {"name": "钟山镇快递综合服务站"}}
        )
        actions.submit(session, filing, actor=operator)
        actions.accept(session, filing, reviewer=reviewer)
        second = queries.shown_revision(session, filing).receipt_no
        assert second is not None
    return first, second


def test_phone_sees_status_at_a_glance_and_follows_to_the_current_receipt(
    live_server: str, browser: Browser, tmp_path: Path
) -> None:
    superseded, current = _filed_then_changed()
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(f"{live_server}/verify/{superseded}")
    badge = page.locator("#status")
    assert badge.get_attribute("data-status") == "superseded"
    assert "已变更" in badge.inner_text()
    assert "钟山镇快递服务站" in page.content()
    page.screenshot(path=str(tmp_path / "superseded.png"), full_page=True)
    page.click("#current")
    page.wait_for_url(f"**/verify/{current}")
    assert page.locator("#status").get_attribute("data-status") == "valid"
    assert "有效" in page.locator("#status").inner_text()
    assert "钟山镇快递综合服务站" in page.content()
    page.close()


def test_unknown_receipt_shows_a_plain_not_found_page(live_server: str, browser: Browser) -> None:
    page = browser.new_page()
    response = page.goto(f"{live_server}/verify/451122-2026-999999-R9")
    assert response is not None and response.status == 404
    assert "查无此回执" in page.locator("#status").inner_text()
    page.close()
