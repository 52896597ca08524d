"""The admin's index, inspector directory and inspection-item pages (SPEC §6, §9), and where staff
land after logging in: the same schemas and services as /api/v1/inspectors and
/api/v1/inspection-items, errors next to their fields with what was typed kept, CSRF checked."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.security import create_access_token
from models.base import pk
from models.inspection import InspectionItem, Inspector
from models.user import User
from services.inspections import directories
from tests.factories import PASSWORD, make_staff
from tests.pages.test_session_pages import csrf_of

CITY = "451100"
COUNTY = "451123"  # 富川
USCC = "91451123MA5L000001"


def logged_in(pages: TestClient, user: User) -> TestClient:
    pages.cookies.set("session", create_access_token(pk(user), user.token_version))
    return pages


def test_the_admin_index_links_every_admin_page_and_the_header_links_it(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    page = logged_in(pages, admin).get("/admin")
    assert page.status_code == 200
    for href, label in (
        ("/admin/users", "账号"),
        ("/admin/inspectors", "检查人员"),
        ("/admin/items", "检查事项"),
        ("/admin/plans", "抽查计划"),
        ("/admin/stats", "统计"),
        ("/admin/audit", "审计"),
        ("/admin/calendar", "工作日历"),
    ):
        assert f'<a href="{href}">{label}</a>' in page.text
    assert '<a href="/admin">管理</a>' in page.text


def test_the_admin_pages_are_for_admins_only(pages: TestClient, session: Session) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction=CITY)
    assert pages.get("/admin/inspectors", follow_redirects=False).status_code == 303
    client = logged_in(pages, reviewer)
    for path in ("/admin", "/admin/inspectors", "/admin/items"):
        assert client.get(path).status_code == 403


def test_an_inspector_is_created_and_listed_with_its_jurisdiction_conflicts_and_login(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    login = make_staff(session, role="inspector", jurisdiction=COUNTY)
    page = logged_in(pages, admin).get("/admin/inspectors")
    assert page.status_code == 200
    for field, label in (
        ("name", "姓名"),
        ("certificate_no", "执法证号"),
        ("jurisdiction", "辖区"),
        ("conflicts", "回避企业（统一社会信用代码，每行一个）"),
        ("username", "登录账号（可选）"),
    ):
        assert f'<label for="i-{field}">{label}</label>' in page.text
    assert ">添加检查人员</button>" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "name": "富川检查员甲",
        "certificate_no": "FC-T2-0001",
        "jurisdiction": COUNTY,
        "conflicts": f"{USCC}\n",
        "username": login.username,
    }
    answer = pages.post("/admin/inspectors", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    listed = pages.get(answer.headers["location"]).text
    assert "已添加" in listed
    assert "FC-T2-0001" in listed and "富川瑶族自治县" in listed and USCC in listed
    assert login.username in listed
    made = session.exec(select(Inspector).where(Inspector.certificate_no == "FC-T2-0001")).one()
    assert made.conflicts == [USCC] and made.user_id == login.id and made.active


def test_inspector_errors_are_shown_next_to_their_fields_and_keep_what_was_typed(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=COUNTY)
    token = csrf_of(logged_in(pages, admin).get("/admin/inspectors").text)
    form = {
        "csrf_token": token,
        "name": "富川检查员乙",
        "certificate_no": "x",  # too short (schema)
        "jurisdiction": COUNTY,
        "conflicts": "91451123MA5L00000199999",  # too long (schema)
        "username": "",
    }
    page = pages.post("/admin/inspectors", data=form)
    assert page.status_code == 422
    assert 'id="i-certificate_no-error"' in page.text
    assert 'aria-describedby="i-certificate_no-error"' in page.text
    assert 'id="i-conflicts-error"' in page.text
    assert 'value="富川检查员乙"' in page.text and "91451123MA5L00000199999" in page.text
    # The service's rules: a region outside the county admin's jurisdiction, a login that is
    # no inspector's.
    outside = {**form, "certificate_no": "FC-T2-0002", "conflicts": "", "jurisdiction": "451121"}
    page = pages.post("/admin/inspectors", data={**outside, "username": admin.username})
    assert page.status_code == 422
    assert 'id="i-jurisdiction-error"' in page.text
    page = pages.post(
        "/admin/inspectors", data={**outside, "jurisdiction": COUNTY, "username": admin.username}
    )
    assert page.status_code == 422 and 'id="i-username-error"' in page.text
    assert session.exec(select(Inspector).where(Inspector.name == "富川检查员乙")).first() is None


def test_a_known_certificate_number_is_shown_next_to_its_field(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    directories.create_inspector(
        session,
        admin=admin,
        name="丙",
        certificate_no="FC-T2-0003",
        jurisdiction=COUNTY,
        active=True,
        conflicts=[],
        username=None,
    )
    token = csrf_of(logged_in(pages, admin).get("/admin/inspectors").text)
    form = {
        "csrf_token": token,
        "name": "丁",
        "certificate_no": "FC-T2-0003",
        "jurisdiction": COUNTY,
    }
    page = pages.post("/admin/inspectors", data=form)
    assert page.status_code == 422
    assert 'id="i-certificate_no-error"' in page.text and "执法证号已登记" in page.text


def test_an_inspector_is_edited_and_one_outside_the_jurisdiction_is_a_404(
    pages: TestClient, session: Session
) -> None:
    city = make_staff(session, role="admin", jurisdiction=CITY)
    county = make_staff(session, role="admin", jurisdiction=COUNTY)
    inspector = directories.create_inspector(
        session,
        admin=city,
        name="戊",
        certificate_no="FC-T2-0004",
        jurisdiction=COUNTY,
        active=True,
        conflicts=[],
        username=None,
    )
    other = directories.create_inspector(
        session,
        admin=city,
        name="己",
        certificate_no="ZP-T2-0005",
        jurisdiction="451121",
        active=True,
        conflicts=[],
        username=None,
    )
    page = logged_in(pages, county).get(f"/admin/inspectors/{inspector.id}")
    assert page.status_code == 200
    assert '<label for="i-conflicts">回避企业（统一社会信用代码，每行一个）</label>' in page.text
    assert "在岗（可被抽取）" in page.text and ">保存</button>" in page.text
    token = csrf_of(page.text)
    bad = pages.post(
        f"/admin/inspectors/{inspector.id}", data={"csrf_token": token, "conflicts": "9" * 19}
    )
    assert bad.status_code == 422 and 'id="i-conflicts-error"' in bad.text and "9" * 19 in bad.text
    answer = pages.post(
        f"/admin/inspectors/{inspector.id}",
        data={"csrf_token": token, "conflicts": f"{USCC}\n{USCC}"},  # active unchecked
        follow_redirects=False,
    )
    assert answer.status_code == 303
    session.refresh(inspector)
    assert inspector.active is False and inspector.conflicts == [USCC]
    assert pages.get(f"/admin/inspectors/{other.id}").status_code == 404
    refused = pages.post(f"/admin/inspectors/{other.id}", data={"csrf_token": token})
    assert refused.status_code == 404


def test_the_directory_forms_need_the_csrf_token(pages: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    logged_in(pages, admin).get("/admin/inspectors")
    form = {"name": "庚", "certificate_no": "FC-T2-0006", "jurisdiction": COUNTY}
    assert pages.post("/admin/inspectors", data=form).status_code == 403
    assert pages.post("/admin/inspectors", data={**form, "csrf_token": "x"}).status_code == 403
    item = {"code": "t2_csrf", "name": "事项"}
    assert pages.post("/admin/items", data=item).status_code == 403
    assert (
        session.exec(select(Inspector).where(Inspector.certificate_no == "FC-T2-0006")).first()
        is None
    )
    assert session.get(InspectionItem, "t2_csrf") is None


def test_an_item_is_created_and_edited_with_errors_next_to_their_fields(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    page = logged_in(pages, admin).get("/admin/items")
    assert page.status_code == 200
    for field, label in (
        ("code", "事项代码"),
        ("name", "事项名称"),
        ("legal_basis", "检查依据"),
        ("method", "检查方法"),
    ):
        assert f'<label for="t-{field}">{label}</label>' in page.text
    token = csrf_of(page.text)
    bad = pages.post(
        "/admin/items",
        data={"csrf_token": token, "code": "Bad Code", "name": "", "method": "现场查看"},
    )
    assert bad.status_code == 422
    assert 'id="t-code-error"' in bad.text and 'id="t-name-error"' in bad.text
    assert 'value="Bad Code"' in bad.text and "现场查看" in bad.text
    form = {"csrf_token": token, "code": "t2_fire", "name": "消防器材", "legal_basis": "消防法"}
    answer = pages.post("/admin/items", data=form, follow_redirects=False)
    assert answer.status_code == 303
    listed = pages.get(answer.headers["location"]).text
    assert "t2_fire" in listed and "消防器材" in listed and "消防法" in listed
    again = pages.post("/admin/items", data=form)
    assert again.status_code == 422 and 'id="t-code-error"' in again.text

    edit = pages.get("/admin/items/t2_fire")
    assert edit.status_code == 200 and 'value="消防器材"' in edit.text
    empty = pages.post("/admin/items/t2_fire", data={"csrf_token": token, "name": ""})
    assert empty.status_code == 422 and 'id="t-name-error"' in empty.text
    saved = pages.post(
        "/admin/items/t2_fire",
        data={"csrf_token": token, "name": "消防设施", "method": "查看", "legal_basis": ""},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    item = session.get(InspectionItem, "t2_fire")
    assert item is not None
    session.refresh(item)
    assert (item.name, item.active, item.legal_basis, item.method) == (
        "消防设施",
        False,
        None,
        "查看",
    )
    assert pages.get("/admin/items/no_such_item").status_code == 404


def test_a_county_admin_reads_the_items_but_may_not_change_them(
    pages: TestClient, session: Session
) -> None:
    county = make_staff(session, role="admin", jurisdiction=COUNTY)
    page = logged_in(pages, county).get("/admin/items")
    assert page.status_code == 200 and ">添加检查事项</button>" not in page.text
    token = csrf_of(page.text)
    refused = pages.post("/admin/items", data={"csrf_token": token, "code": "t2_c", "name": "甲"})
    assert refused.status_code == 403 and "仅市级管理人员可以修改" in refused.text
    invalid = pages.post("/admin/items", data={"csrf_token": token, "code": "", "name": ""})
    assert invalid.status_code == 403
    assert session.get(InspectionItem, "t2_c") is None
    code = directories.list_items(session)[0].code if directories.list_items(session) else "x"
    assert pages.get(f"/admin/items/{code}").status_code == 403
    edit = pages.post(f"/admin/items/{code}", data={"csrf_token": token, "name": "改"})
    assert edit.status_code == 403


@pytest.mark.parametrize(
    ("role", "landing"),
    [("reviewer", "/review"), ("inspector", "/inspector/tasks"), ("admin", "/admin")],
)
def test_staff_land_on_their_own_page_after_login(
    pages: TestClient, session: Session, role: str, landing: str
) -> None:
    user = make_staff(session, role=role, jurisdiction=COUNTY)
    form = {
        "csrf_token": csrf_of(pages.get("/login").text),
        "username": user.username,
        "password": PASSWORD,
    }
    answer = pages.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == landing


def test_a_next_page_asked_for_wins_over_the_staff_landing(
    pages: TestClient, session: Session
) -> None:
    user = make_staff(session, role="admin", jurisdiction=COUNTY)
    page = pages.get("/login", params={"next": "/admin/items"})
    form = {
        "csrf_token": csrf_of(page.text),
        "username": user.username,
        "password": PASSWORD,
        "next": "/admin/items",
    }
    answer = pages.post("/login", data=form, follow_redirects=False)
    assert answer.headers["location"] == "/admin/items"
