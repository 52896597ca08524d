"""Public pages (SPEC §9): home, the directory and an outlet's page, the inspection publications,
and the receipt page's signed fields. The same services as the public API answer them."""

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from domain.identifiers import mask_mobile
from domain.vocabulary import FilingStatus
from models.filing import Filing
from models.inspection import Inspection, InspectionPlan, Inspector
from models.user import User
from schemas.inspections import PlanCreate
from services.filings import actions, queries
from services.inspections import draws, plans, results
from services.receipts import signing
from tests.factories import (
    filed_via_services,
    make_enterprise,
    make_inspector,
    make_staff,
    operator_of,
    submitted_via_services,
    valid_id_number,
)
from web import public

COUNTY, COUNTY_NAME = "451103", "平桂区"  # rolled back: the live tests use 451121
TOWNSHIPS = (("451103101", "黄田镇"), ("451103102", "鹅塘镇"))
MOBILE = "13977401234"  # filing_body's person in charge


@dataclass
class PublicWorld:
    admin: User
    operator: User
    reviewer: User
    outlets: list[Filing]
    plan: InspectionPlan
    inspection: Inspection


def filed_outlets(
    session: Session, county: str, townships: list[str], tag: str, count: int = 3
) -> tuple[User, User, list[Filing]]:
    """`count` filed outlets named `{tag}网点{n}` of one operator, over the townships; the odd
    ones serve 顺丰 and 圆通, the even ones 中通."""
    reviewer = make_staff(session, role="reviewer", jurisdiction=county)
    operator = operator_of(session, make_enterprise(session, region_code=county))
    outlets = [
        filed_via_services(
            session,
            operator,
            reviewer,
            county_code=county,
            township_code=townships[n % len(townships)],
            name=f"{tag}网点{n}",
            address=f"{tag}路 {n} 号",
            brands=["SF", "YTO"] if n % 2 else ["ZTO"],
        )
        for n in range(count)
    ]
    return operator, reviewer, outlets


def drawn_plan_with_a_result(
    session: Session, county: str, townships: list[str], tag: str
) -> PublicWorld:
    """Outlets, two inspectors, a plan drawn over the county (one object, teams of two) and the
    result of its first inspection (a rectification), all through the services."""
    operator, reviewer, outlets = filed_outlets(session, county, townships, tag)
    admin = make_staff(session, role="admin", jurisdiction=county)
    for n in range(2):
        make_inspector(session, admin, f"{tag}-{n:04d}", jurisdiction=county)
    today = clock.today()
    body = PlanCreate.model_validate(
        {
            "name": f"{tag}双随机抽查计划",
            "region_code": county,
            "item_codes": ["real_name", "security_equipment"],
            "sampling": {"mode": "count", "count": 1},
            "team_size": 2,
            "exclude_recent_days": 0,
            "period_start": (today - timedelta(days=5)).isoformat(),
            "period_end": (today + timedelta(days=25)).isoformat(),
            "randomness_sources": "福彩 3D 开奖号码；体彩排列五开奖号码",
        }
    )
    plan = plans.create_plan(session, admin=admin, body=body)
    plans.announce(session, plan, admin=admin)
    draws.run_draw(session, plan, admin=admin, sources=[[3, 8, 1], [2, 5, 12, 8, 10]])
    inspection = session.exec(select(Inspection).where(Inspection.plan_id == plan.id)).one()
    inspector = session.exec(
        select(Inspector).where(Inspector.certificate_no == inspection.team[0])
    ).one()
    results.record_result(
        session,
        inspection,
        inspector,
        inspected_on=today,
        outcome="rectification",
        findings="未落实收寄验视制度",
        rectify_by=today + timedelta(days=10),
    )
    return PublicWorld(admin, operator, reviewer, outlets, plan, inspection)


def visible_text(page: str, start: str = "<main", end: str = "</main>") -> str:
    """The text a person reads between two markers (tags and attributes removed)."""
    part = page[page.index(start) : page.index(end)]
    return html.unescape(re.sub(r"<[^>]+>", " ", part))


# --- home -----------------------------------------------------------------------------------


def test_home_says_what_this_is_and_offers_the_checks_and_links(pages: TestClient) -> None:
    page = pages.get("/")
    assert page.status_code == 200
    text = page.text
    assert 'for="receipt_no">回执编号</label>' in text and ">核验</button>" in text
    assert 'action="/verify"' in text and 'method="get"' in text
    assert 'for="q">搜索</label>' in text and ">查询</button>" in text
    for link in ('href="/inspection-plans"', 'href="/login"', 'href="/register"'):
        assert link in text
    assert "快递末端网点" in visible_text(text)


def test_the_receipt_check_without_javascript_goes_to_the_receipt_page(pages: TestClient) -> None:
    answer = pages.get(
        "/verify", params={"receipt_no": " 451103-2026-000001-r1 "}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/verify/451103-2026-000001-R1"
    empty = pages.get("/verify", params={"receipt_no": ""}, follow_redirects=False)
    assert empty.status_code == 303 and empty.headers["location"] == "/"
    odd = pages.get("/verify", params={"receipt_no": "../../a?b"}, follow_redirects=False)
    assert odd.headers["location"] == "/verify/..%2F..%2FA%3FB"
    assert pages.get("/verify/451103-2026-999999-R1").status_code == 404


# --- the directory --------------------------------------------------------------------------


def test_the_directory_filters_by_text_county_township_and_brand_by_name(
    pages: TestClient, session: Session
) -> None:
    _, _, outlets = filed_outlets(session, COUNTY, [code for code, _ in TOWNSHIPS], "筛选甲", 4)
    page = pages.get("/outlets", params={"q": "筛选甲"})
    assert page.status_code == 200
    assert 'for="q">搜索</label>' in page.text and ">查询</button>" in page.text
    listed = visible_text(page.text, "<tbody>", "</tbody>")
    assert all(f"筛选甲网点{n}" in listed for n in range(4)) and "共 4 个网点" in page.text
    # names, not codes
    assert COUNTY_NAME in listed and "黄田镇" in listed and "顺丰、圆通" in listed
    assert COUNTY not in listed and "SF" not in listed
    assert f'<option value="{COUNTY}">{COUNTY_NAME}</option>' in page.text

    by_township = pages.get(
        "/outlets", params={"q": "筛选甲", "county": COUNTY, "township": TOWNSHIPS[1][0]}
    )
    listed = visible_text(by_township.text, "<tbody>", "</tbody>")
    assert "筛选甲网点1" in listed and "筛选甲网点3" in listed and "筛选甲网点0" not in listed
    assert f'<option value="{TOWNSHIPS[1][0]}" selected>{TOWNSHIPS[1][1]}</option>' in (
        by_township.text
    )

    by_brand = pages.get("/outlets", params={"q": "筛选甲", "brand": "ZTO"})
    listed = visible_text(by_brand.text, "<tbody>", "</tbody>")
    assert "筛选甲网点0" in listed and "筛选甲网点2" in listed and "筛选甲网点1" not in listed
    assert '<option value="ZTO" selected>中通</option>' in by_brand.text

    other_county = pages.get("/outlets", params={"q": "筛选甲", "county": "451121"})
    assert "筛选甲网点" not in other_county.text and "没有符合条件的网点" in other_county.text
    assert outlets[0].filing_no and f"/outlets/{outlets[0].filing_no}" in page.text


def test_a_township_is_offered_and_applied_only_within_the_chosen_county(
    pages: TestClient, session: Session
) -> None:
    filed_outlets(session, COUNTY, [TOWNSHIPS[0][0]], "乡镇乙", 1)
    plain = pages.get("/outlets")
    assert TOWNSHIPS[0][1] not in visible_text(plain.text, "<form", "</form>")
    in_county = pages.get("/outlets", params={"county": COUNTY})
    assert f'<option value="{TOWNSHIPS[0][0]}">{TOWNSHIPS[0][1]}</option>' in in_county.text
    # a township of another county (left over after changing the county) is ignored
    stale = pages.get("/outlets", params={"q": "乡镇乙", "county": COUNTY, "township": "451121100"})
    assert "乡镇乙网点0" in stale.text


def test_the_directory_pages_through_with_the_total_and_a_csv_link_with_the_filters(
    pages: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    filed_outlets(session, COUNTY, [TOWNSHIPS[0][0]], "分页丙", 3)
    first = pages.get("/outlets", params={"q": "分页丙", "county": COUNTY})
    assert "共 3 个网点" in first.text and "第 1 / 2 页" in first.text
    assert "下一页" in first.text and "上一页" not in first.text
    assert 'href="/outlets?q=%E5%88%86%E9%A1%B5%E4%B8%99&amp;county=451103&amp;page=2"' in (
        first.text
    )
    csv_href = "/api/v1/public/outlets.csv?q=%E5%88%86%E9%A1%B5%E4%B8%99&amp;county=451103"
    assert f'href="{csv_href}"' in first.text
    second = pages.get("/outlets", params={"q": "分页丙", "county": COUNTY, "page": 2})
    assert "上一页" in second.text and "下一页" not in second.text
    assert visible_text(second.text, "<tbody>", "</tbody>").count("分页丙网点") == 1
    csv = pages.get(html.unescape(csv_href))
    assert csv.status_code == 200 and csv.text.count("分页丙网点") == 3
    assert pages.get("/outlets", params={"page": 0}).status_code == 400


def test_the_directory_and_an_outlet_page_show_no_id_number_or_full_mobile(
    pages: TestClient, session: Session
) -> None:
    _, _, outlets = filed_outlets(session, COUNTY, [TOWNSHIPS[0][0]], "隐私丁", 1)
    id_number = valid_id_number()  # filing_body's person in charge
    for url in ("/outlets?q=隐私丁", f"/outlets/{outlets[0].filing_no}"):
        page = pages.get(url)
        assert page.status_code == 200 and "隐私丁网点0" in page.text
        assert id_number not in page.text and MOBILE not in page.text and "王五" not in page.text
        assert mask_mobile(MOBILE) in page.text and "王*" in page.text


def test_an_outlet_page_shows_its_receipt_status_and_published_results(
    pages: TestClient, session: Session, fixed_clock: datetime
) -> None:
    world = drawn_plan_with_a_result(session, COUNTY, [TOWNSHIPS[0][0]], "结果戊")
    drawn = session.get(Filing, world.inspection.filing_id)
    assert drawn is not None
    receipt_no = queries.shown_revision(session, drawn).receipt_no
    page = pages.get(f"/outlets/{drawn.filing_no}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert world.inspection.outlet_name in text and "自营" in text and "收寄、投递" in text
    assert f"{COUNTY_NAME}黄田镇" in text and "开办者" in text
    assert f'href="/verify/{receipt_no}"' in page.text and "有效" in text
    assert "责令整改" in text and "未落实收寄验视制度" in text
    assert f'href="/inspection-plans/{world.plan.id}"' in page.text

    others = [o for o in world.outlets if o.id != drawn.id]
    quiet = pages.get(f"/outlets/{others[0].filing_no}")
    assert "暂无公示的抽查结果" in quiet.text and "未落实收寄验视制度" not in quiet.text


def test_an_outlet_not_in_force_or_unknown_is_a_404_page(
    pages: TestClient, session: Session, fixed_clock: datetime
) -> None:
    operator, _, outlets = filed_outlets(session, COUNTY, [TOWNSHIPS[0][0]], "停业己", 1)
    closed = outlets[0]
    actions.close(session, closed, actor=operator, closed_on=clock.today(), reason="转让")
    assert closed.status == FilingStatus.CLOSED
    submitted = submitted_via_services(
        session, operator, county_code=COUNTY, township_code=TOWNSHIPS[0][0], name="停业己未审"
    )
    for filing_no in (closed.filing_no, submitted.filing_no, "451103-2026-999999", "x" * 300):
        if filing_no is None:
            continue
        page = pages.get(f"/outlets/{filing_no}")
        assert page.status_code == 404 and "页面不存在" in page.text, filing_no


# --- inspection publications ----------------------------------------------------------------


def test_the_publications_list_and_a_plan_page_show_the_draw_and_how_to_rerun_it(
    pages: TestClient, session: Session, fixed_clock: datetime
) -> None:
    world = drawn_plan_with_a_result(session, COUNTY, [TOWNSHIPS[0][0]], "公示庚")
    listing = pages.get("/inspection-plans")
    assert listing.status_code == 200
    assert "公示庚双随机抽查计划" in listing.text
    assert f'href="/inspection-plans/{world.plan.id}"' in listing.text
    assert COUNTY_NAME in listing.text and "已抽取" in listing.text

    page = pages.get(f"/inspection-plans/{world.plan.id}")
    assert page.status_code == 200
    text = visible_text(page.text)
    published = pages.get(f"/api/v1/public/inspection-plans/{world.plan.id}").json()
    assert published["key_string"] == "1.3.8./2.5.8.10.12./" and published["key_string"] in text
    assert "收寄实名制执行情况" in text and "安全检查及视频监控设备配备情况" in text  # items
    assert COUNTY_NAME in text and "按数量抽取（1 个）" in text
    assert "福彩 3D 开奖号码" in text and "第 1 组：1、3、8" in text  # sources
    assert "全部网点" in text  # the stratum
    assert all(no in text for no in published["strata"][0]["candidates"])
    assert published["strata"][0]["selected"][0] in text
    assert all(cert in text for cert in published["assignments"][0]["team"])  # teams
    assert world.inspection.outlet_name in text and world.inspection.outlet_address in text
    assert "责令整改" in text and "未落实收寄验视制度" in text  # results
    assert 'data-verified="true"' in page.text and "核验通过" in text
    assert "RFC 3797" in text
    assert (
        f"outlet-filing verify-draw https://filing.example.test/api/v1/public/inspection-plans/"
        f"{world.plan.id}"
    ) in text


def test_a_draft_plan_is_a_404_page_and_a_cancelled_one_shows_its_reason(
    pages: TestClient, session: Session, fixed_clock: datetime
) -> None:
    world = drawn_plan_with_a_result(session, COUNTY, [TOWNSHIPS[0][0]], "取消辛")
    body = PlanCreate.model_validate(
        {
            "name": "取消辛第二计划",
            "region_code": COUNTY,
            "item_codes": ["real_name"],
            "sampling": {"mode": "count", "count": 1},
            "team_size": 2,
            "period_start": "2026-12-01",
            "period_end": "2026-12-31",
            "randomness_sources": "福彩 3D",
        }
    )
    draft = plans.create_plan(session, admin=world.admin, body=body)
    assert pages.get(f"/inspection-plans/{draft.id}").status_code == 404
    assert "取消辛第二计划" not in pages.get("/inspection-plans").text
    plans.announce(session, draft, admin=world.admin)
    plans.cancel_plan(session, draft, admin=world.admin, reason="检查力量调整")
    page = pages.get(f"/inspection-plans/{draft.id}")
    assert page.status_code == 200
    assert "已取消" in page.text and "检查力量调整" in page.text and "尚未抽取" in page.text
    assert pages.get("/inspection-plans/999999999").status_code == 404
    assert pages.get("/inspection-plans/abc").status_code in (400, 404)


# --- the receipt page -----------------------------------------------------------------------


def test_the_receipt_page_marks_every_signed_field_as_the_signature_check_reads_it(
    pages: TestClient, session: Session
) -> None:
    """What verify-signature.js compares: each `data-signed` element reads what the payload says."""
    _, _, outlets = filed_outlets(session, COUNTY, [TOWNSHIPS[0][0]], "签名壬", 2)
    receipt_no = queries.shown_revision(session, outlets[1]).receipt_no
    page = pages.get(f"/verify/{receipt_no}")
    assert page.status_code == 200
    assert '<script src="/static/js/verify-signature.js" defer></script>' in page.text
    assert 'id="signature" role="status"' in page.text
    token = pages.get(f"/api/v1/public/receipts/{receipt_no}").json()["jws"]
    keys = pages.get("/.well-known/jwks.json").json()
    payload = signing.verify(token, keys)
    outlet = payload["outlet"]
    expected = {
        "receipt_no": payload["receipt_no"],
        "outlet.name": outlet["name"],
        "outlet.type": "自营",
        "address": outlet["county_name"] + outlet["township_name"] + outlet["address"],
        "brands": "、".join(brand["name"] for brand in payload["brands"]),
        "operator.name": payload["operator"]["name"],
        "operator.uscc": payload["operator"]["uscc"],
        "issued_on": payload["issued_on"],
        "authority": payload["authority"],
    }
    shown = {
        field: html.unescape(value).strip()
        for field, value in re.findall(r'<dd data-signed="([^"]+)"[^>]*>([^<]*)</dd>', page.text)
    }
    assert shown == expected
    script = pages.get("/static/js/verify-signature.js")
    assert script.status_code == 200 and "签名有效：页面内容与备案机关签发的数据一致" in script.text
    assert "此浏览器不支持 Ed25519 签名核验" in script.text


def test_public_pages_need_no_login_and_keep_the_header(pages: TestClient) -> None:
    for url in ("/", "/outlets", "/inspection-plans"):
        page = pages.get(url)
        assert page.status_code == 200, url
        assert 'href="/login"' in page.text and "退出登录" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
