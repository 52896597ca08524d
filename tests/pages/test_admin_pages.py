"""Admin pages for inspection plans and statistics (SPEC §6, §9): the labels of the contract,
errors kept next to their fields, CSRF, jurisdiction (404 outside), the whole plan lifecycle
through the same services as the API, and the statistics charts with their CSV files."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from domain.vocabulary import PlanStatus
from models.inspection import Inspection, InspectionPlan
from models.user import User
from tests.factories import PASSWORD, make_inspector, make_staff
from tests.pages.test_public_pages import filed_outlets
from tests.pages.test_session_pages import csrf_of
from web.charts import bar_chart

COUNTY = "451102"  # rolled back
TOWNSHIPS = ["451102001", "451102002"]
PLAN_LABELS = (
    "计划名称",
    "抽查范围",
    "抽查事项",
    "抽取方式",
    "检查组人数",
    "随机数来源",
    "开始日期",
    "结束日期",
)


def log_in(pages: TestClient, user: User) -> None:
    page = pages.get("/login")
    form = {"csrf_token": csrf_of(page.text), "username": user.username, "password": PASSWORD}
    assert pages.post("/login", data=form, follow_redirects=False).status_code == 303


def plan_form(token: str, **changes: object) -> dict[str, object]:
    today = clock.today()
    form: dict[str, object] = {
        "csrf_token": token,
        "name": "页面测试抽查计划",
        "region_code": COUNTY,
        "item_codes": ["real_name", "security_equipment"],
        "sampling.mode": "count",
        "sampling.count": "1",
        "sampling.rates.high": "1",
        "sampling.rates.medium": "0.3",
        "sampling.rates.low": "0.1",
        "team_size": "2",
        "exclude_recent_days": "0",
        "randomness_sources": "福彩 3D 开奖号码；体彩排列五开奖号码",
        "period_start": today.isoformat(),
        "period_end": (today + timedelta(days=20)).isoformat(),
    }
    form.update(changes)
    return form


def an_admin(pages: TestClient, session: Session, jurisdiction: str = COUNTY) -> User:
    admin = make_staff(session, role="admin", jurisdiction=jurisdiction)
    log_in(pages, admin)
    return admin


def plans_named(session: Session, name: str) -> list[InspectionPlan]:
    return list(session.exec(select(InspectionPlan).where(InspectionPlan.name == name)).all())


def version_of(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found
    return found.group(1)


def test_the_plan_form_has_the_labels_of_the_contract(pages: TestClient, session: Session) -> None:
    an_admin(pages, session)
    page = pages.get("/admin/plans")
    assert page.status_code == 200
    for label in PLAN_LABELS:
        assert f">{label}</label>" in page.text or f"<legend>{label}</legend>" in page.text, label
    assert ">按比例</label>" in page.text and ">按数量</label>" in page.text
    assert ">创建计划</button>" in page.text
    assert 'href="/admin">管理</a>' in page.text
    assert 'href="/admin/stats">统计</a>' in page.text


def test_a_refused_plan_keeps_what_was_typed_and_says_why_next_to_each_field(
    pages: TestClient, session: Session
) -> None:
    an_admin(pages, session)
    token = csrf_of(pages.get("/admin/plans").text)
    today = clock.today()
    form = plan_form(
        token,
        name="我的计划名称",
        **{"sampling.mode": "rate", "sampling.rates.high": "2"},
        period_end=(today - timedelta(days=1)).isoformat(),
    )
    answer = pages.post("/admin/plans", data=form)
    assert answer.status_code == 422
    assert 'id="p-sampling-rates-high-error"' in answer.text and "0–1" in answer.text
    assert 'value="我的计划名称"' in answer.text and 'value="2"' in answer.text
    # the schema passes it; the service refuses the dates: shown at 结束日期
    answer = pages.post("/admin/plans", data={**form, "sampling.rates.high": "1"})
    assert answer.status_code == 422
    assert 'id="p-period_end-error"' in answer.text and "早于开始日期" in answer.text
    assert not plans_named(session, "我的计划名称")


def test_a_plan_form_without_its_csrf_token_is_refused_and_creates_nothing(
    pages: TestClient, session: Session
) -> None:
    an_admin(pages, session)
    pages.get("/admin/plans")
    answer = pages.post("/admin/plans", data=plan_form("0" * 64, name="伪造的计划"))
    assert answer.status_code == 403 and "表单已失效" in answer.text
    assert not plans_named(session, "伪造的计划")


def test_the_plan_lifecycle_on_pages_create_announce_draw(
    pages: TestClient, session: Session
) -> None:
    _, reviewer, _ = filed_outlets(session, COUNTY, TOWNSHIPS, "管理页")
    admin = an_admin(pages, session)
    for n in range(2):
        make_inspector(session, admin, f"PAGE-{n:04d}", jurisdiction=COUNTY)
    token = csrf_of(pages.get("/admin/plans").text)
    created = pages.post("/admin/plans", data=plan_form(token), follow_redirects=False)
    assert created.status_code == 303
    location = created.headers["location"]
    plan_url = location.split("?")[0]
    page = pages.get(location)
    assert "计划已创建" in page.text and ">公示</button>" in page.text
    assert ">取消计划</button>" in page.text and ">保存修改</button>" in page.text

    stale = pages.post(f"{plan_url}/announce", data={"csrf_token": token, "version": "999"})
    assert stale.status_code == 412
    announced = pages.post(
        f"{plan_url}/announce", data={"csrf_token": token, "version": version_of(page.text)}
    )
    assert announced.status_code == 200 and "已公示" in announced.text
    assert announced.text.count('<label for="source-') == 2  # one 随机数 box per source
    assert ">随机数（福彩 3D 开奖号码）</label>" in announced.text
    assert ">抽取</button>" in announced.text and ">保存修改</button>" not in announced.text

    version = version_of(announced.text)
    refused = pages.post(
        f"{plan_url}/draw",
        data={"csrf_token": token, "version": version, "sources.0": "3 八 1", "sources.1": "2 5"},
    )
    assert refused.status_code == 422
    assert 'id="source-0-error"' in refused.text and 'value="3 八 1"' in refused.text
    drawn = pages.post(
        f"{plan_url}/draw",
        data={"csrf_token": token, "version": version, "sources.0": "3 8 1", "sources.1": "2 5 12"},
    )
    assert drawn.status_code == 200 and "已抽取" in drawn.text
    plan_id = int(plan_url.rsplit("/", 1)[1])
    plan = session.get(InspectionPlan, plan_id)
    assert plan is not None and plan.status == PlanStatus.DRAWN
    assert plan.key_string == "1.3.8./2.5.12./"
    inspection = session.exec(select(Inspection).where(Inspection.plan_id == plan_id)).one()
    assert inspection.filing_no in drawn.text
    assert f'href="/inspection-plans/{plan_id}"' in drawn.text
    assert ">取消计划</button>" not in drawn.text and ">抽取</button>" not in drawn.text
    assert reviewer is not None


def test_a_plan_is_cancelled_with_its_reason(pages: TestClient, session: Session) -> None:
    an_admin(pages, session)
    token = csrf_of(pages.get("/admin/plans").text)
    location = pages.post("/admin/plans", data=plan_form(token), follow_redirects=False).headers[
        "location"
    ]
    plan_url = location.split("?")[0]
    version = version_of(pages.get(plan_url).text)
    page = pages.post(
        f"{plan_url}/cancel", data={"csrf_token": token, "version": version, "reason": "人员调整"}
    )
    assert page.status_code == 200 and "计划已取消" in page.text and "人员调整" in page.text
    assert ">公示</button>" not in page.text


def test_an_admin_of_another_county_gets_a_404_page_for_a_plan_outside(
    pages: TestClient, session: Session
) -> None:
    an_admin(pages, session)
    token = csrf_of(pages.get("/admin/plans").text)
    location = pages.post("/admin/plans", data=plan_form(token), follow_redirects=False).headers[
        "location"
    ]
    plan_url = location.split("?")[0]
    pages.cookies.clear()
    an_admin(pages, session, jurisdiction="451121")
    assert pages.get(plan_url).status_code == 404
    token = csrf_of(pages.get("/admin/plans").text)
    answer = pages.post(f"{plan_url}/announce", data={"csrf_token": token, "version": "1"})
    assert answer.status_code == 404
    assert "页面测试抽查计划" not in pages.get("/admin/plans").text


def test_plan_pages_are_for_admins_only(pages: TestClient, session: Session) -> None:
    assert pages.get("/admin/plans", follow_redirects=False).status_code == 303  # to log in
    log_in(pages, make_staff(session, role="reviewer", jurisdiction=COUNTY))
    assert pages.get("/admin/plans").status_code == 403


def test_the_stats_page_shows_charts_and_its_csv_files(pages: TestClient, session: Session) -> None:
    filed_outlets(session, COUNTY, TOWNSHIPS, "统计页")
    log_in(pages, make_staff(session, role="reviewer", jurisdiction=COUNTY))
    page = pages.get("/admin/stats")
    assert page.status_code == 200
    assert '<svg class="chart" id="chart-coverage" role="img"' in page.text
    assert '<title id="chart-coverage-title">各区县乡镇覆盖率（目标 100%）</title>' in page.text
    for table in ("coverage", "uncovered", "overdue-submissions", "inspection-outcomes"):
        assert f'href="/admin/stats/{table}.csv"' in page.text
        answer = pages.get(f"/admin/stats/{table}.csv")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert answer.content.startswith(b"\xef\xbb\xbf")
    assert "八步区" in pages.get("/admin/stats/coverage.csv").content.decode("utf-8-sig")
    assert pages.get("/admin/stats/nothing.csv").status_code == 404


def test_a_bar_chart_escapes_its_labels_and_draws_shares_against_the_goal() -> None:
    svg = str(bar_chart("c", "覆盖<率>", [("<b>县", 0.5), ("乙", 1.0)], percent=True))
    assert "<b>" not in svg and "&lt;b&gt;县" in svg and "覆盖&lt;率&gt;" in svg
    assert svg.startswith('<svg class="chart" id="c" role="img"') and svg.endswith("</svg>")
    widths = re.findall(r'class="chart-bar" x="\d+" y="\d+" width="([\d.]+)"', svg)
    assert [float(w) for w in widths] == [100.0, 200.0] and "50%" in svg
    assert "暂无数据" in str(bar_chart("e", "空", []))


def test_random_number_boxes_take_plain_digits_only() -> None:
    """A "²" passes str.isdigit but not int(), and Python refuses integers of thousands of
    digits: both are a field error, never a 500."""
    from starlette.datastructures import FormData

    from web.admin_plans import parse_sources

    form = FormData([("sources.0", "3 8 ²"), ("sources.1", "9" * 5000), ("sources.2", "2 5 12")])
    typed, parsed, errors = parse_sources(form, 3)
    assert typed[2] == "2 5 12" and parsed[2] == [2, 5, 12]
    assert [error.field for error in errors] == ["sources.0", "sources.1"]
