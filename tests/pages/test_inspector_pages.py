"""The inspector's pages (SPEC §9): `/inspector/tasks` and `/inspector/tasks/{id}` with the
result form (`检查日期`, `检查结果`, `检查情况`, `整改期限`, `上传证据`, `提交结果`), the
follow-up form, evidence and the filing's documents, through the same services as the API."""

import re
from dataclasses import dataclass
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from core.security import create_access_token
from models.base import pk
from models.inspection import Inspection, InspectionEvidence, InspectionPlan, Inspector
from models.user import User
from schemas.inspections import PlanCreate
from services.inspections import draws, plans
from tests.factories import make_inspector, make_staff, sample_png
from tests.pages.test_public_pages import filed_outlets
from tests.pages.test_session_pages import csrf_of
from web.inspector import map_link

COUNTY, TOWNSHIPS = "451103", ["451103101", "451103102"]  # rolled back


@dataclass
class Task:
    plan: InspectionPlan
    inspection: Inspection
    member: User  # an inspector on the drawn team
    outsider: User | None  # an inspector of the county not on the team (None: no such one)


def drawn_task(session: Session, county: str, townships: list[str], tag: str) -> Task:
    """Filed outlets, three inspectors, a plan over the county drawn (one object, teams of two):
    the drawn inspection, a team member's login and, when there is one, an outsider's. Other
    committing tests may share the county: the draw decides who is on the team."""
    filed_outlets(session, county, townships, tag)
    admin = make_staff(session, role="admin", jurisdiction=county)
    mine = [make_inspector(session, admin, f"{tag}-{n:04d}", jurisdiction=county) for n in range(3)]
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
    member = session.exec(
        select(Inspector).where(Inspector.certificate_no == inspection.team[0])
    ).one()
    user = session.get(User, member.user_id)
    assert user is not None
    outsiders = [u for i, u in mine if i.certificate_no not in inspection.team]
    return Task(plan, inspection, user, outsiders[0] if outsiders else None)


def logged_in(pages: TestClient, user: User) -> TestClient:
    pages.cookies.set("session", create_access_token(pk(user), user.token_version))
    return pages


def label_for(page: str, text: str) -> str:
    """The id of the control a visible `<label for=…>text</label>` names."""
    found = re.search(rf'<label for="([^"]+)">{re.escape(text)}</label>', page)
    assert found, f"no label {text}"
    return found.group(1)


def test_the_task_list_shows_the_outlet_operator_period_and_a_map_link(
    pages: TestClient, session: Session
) -> None:
    task = drawn_task(session, COUNTY, TOWNSHIPS, "平桂任务")
    page = logged_in(pages, task.member).get("/inspector/tasks")
    assert page.status_code == 200
    assert task.inspection.outlet_name in page.text
    assert f'href="/inspector/tasks/{task.inspection.id}"' in page.text
    assert "平桂区" in page.text and "收寄实名制执行情况" in page.text
    assert 'href="/inspector/tasks"' in page.text  # the header's 检查任务


def test_a_map_link_is_a_geo_uri_with_the_encoded_name() -> None:
    class Outlet:
        name, latitude, longitude = "富川 A&B 网点", 24.81, 111.27

    class Task_:
        outlet = Outlet()

    assert map_link(Task_()) == (  # type: ignore[arg-type]  # a stand-in with the fields read
        "geo:24.81,111.27?q=24.81,111.27%28%E5%AF%8C%E5%B7%9D%20A%26B%20%E7%BD%91%E7%82%B9%29"
    )


def test_the_task_page_has_the_labelled_result_form_and_evidence_upload(
    pages: TestClient, session: Session
) -> None:
    task = drawn_task(session, COUNTY, TOWNSHIPS, "平桂表单")
    page = logged_in(pages, task.member).get(f"/inspector/tasks/{task.inspection.id}")
    assert page.status_code == 200
    for text in ("检查日期", "检查结果", "检查情况", "整改期限", "上传证据"):
        label_for(page.text, text)
    assert ">提交结果</button>" in page.text
    assert '<option value="rectification">责令整改</option>' in page.text
    assert 'accept="image/*" capture="environment"' in page.text
    assert f"/inspector/tasks/{task.inspection.id}/documents/" in page.text  # while open


def test_another_inspectors_task_is_a_404_page_and_other_roles_are_refused(
    pages: TestClient, session: Session
) -> None:
    task = drawn_task(session, COUNTY, TOWNSHIPS, "平桂他人")
    assert task.outsider is not None
    logged_in(pages, task.outsider)
    assert pages.get(f"/inspector/tasks/{task.inspection.id}").status_code == 404
    assert task.inspection.outlet_name not in pages.get("/inspector/tasks").text
    token = csrf_of(pages.get("/inspector/tasks").text)
    refused = pages.post(
        f"/inspector/tasks/{task.inspection.id}/result",
        data={"csrf_token": token, "inspected_on": clock.today().isoformat(), "outcome": "refused"},
    )
    assert refused.status_code == 404
    session.refresh(task.inspection)
    assert task.inspection.outcome is None
    reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
    assert logged_in(pages, reviewer).get("/inspector/tasks").status_code == 403


def test_a_result_without_a_valid_csrf_token_is_refused(
    pages: TestClient, session: Session
) -> None:
    task = drawn_task(session, COUNTY, TOWNSHIPS, "平桂令牌")
    logged_in(pages, task.member)
    form = {"inspected_on": clock.today().isoformat(), "outcome": "no_problem"}
    answer = pages.post(f"/inspector/tasks/{task.inspection.id}/result", data=form)
    assert answer.status_code == 403 and "表单已失效" in answer.text
    answer = pages.post(
        f"/inspector/tasks/{task.inspection.id}/evidence",
        data={"csrf_token": "forged"},
        files={"file": ("photo.png", sample_png(), "image/png")},
    )
    assert answer.status_code == 403
    session.refresh(task.inspection)
    assert task.inspection.outcome is None
    evidence = select(InspectionEvidence).where(
        InspectionEvidence.inspection_id == task.inspection.id
    )
    assert session.exec(evidence).first() is None


def test_a_rectification_needs_its_deadline_then_is_recorded_and_followed_up(
    pages: TestClient, session: Session
) -> None:
    task = drawn_task(session, COUNTY, TOWNSHIPS, "平桂整改")
    url = f"/inspector/tasks/{task.inspection.id}"
    token = csrf_of(logged_in(pages, task.member).get(url).text)
    today = clock.today()
    form = {
        "csrf_token": token,
        "inspected_on": today.isoformat(),
        "outcome": "rectification",
        "findings": "未落实收寄验视制度",
        "rectify_by": "",
    }
    page = pages.post(f"{url}/result", data=form)
    assert page.status_code == 422
    assert 'id="rectify_by-error"' in page.text and "整改期限" in page.text
    assert "未落实收寄验视制度" in page.text  # what was typed is kept
    session.refresh(task.inspection)
    assert task.inspection.outcome is None

    form["rectify_by"] = (today + timedelta(days=10)).isoformat()
    answer = pages.post(f"{url}/result", data=form, follow_redirects=False)
    assert answer.status_code == 303
    page = pages.get(answer.headers["location"])
    assert "检查结果已记录并公示" in page.text and "复查日期" in page.text
    session.refresh(task.inspection)
    assert task.inspection.outcome == "rectification"

    follow = {"csrf_token": token, "inspected_on": today.isoformat(), "outcome": "rectified"}
    answer = pages.post(f"{url}/follow-up", data=follow, follow_redirects=False)
    assert answer.status_code == 303
    page = pages.get(answer.headers["location"])
    assert "检查已结束" in page.text and ">提交结果</button>" not in page.text
    assert "/documents/" not in page.text  # closed: the filing's documents are no longer offered


def test_a_photo_is_stored_as_evidence_and_a_text_file_is_refused_in_chinese(
    pages: TestClient, session: Session
) -> None:
    task = drawn_task(session, COUNTY, TOWNSHIPS, "平桂证据")
    url = f"/inspector/tasks/{task.inspection.id}"
    token = csrf_of(logged_in(pages, task.member).get(url).text)
    refused = pages.post(
        f"{url}/evidence",
        data={"csrf_token": token},
        files={"file": ("note.txt", b"just text", "text/plain")},
    )
    assert refused.status_code == 415 and 'id="evidence-file-error"' in refused.text
    answer = pages.post(
        f"{url}/evidence",
        data={"csrf_token": token},
        files={"file": ("photo.png", sample_png(), "image/png")},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "photo.png" in pages.get(url).text
