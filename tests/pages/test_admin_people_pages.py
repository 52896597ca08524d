"""The administrator's people pages (SPEC §9): the calendar (the years known and a holiday file
loaded through the same service as PUT /api/v1/calendar/{year}, its errors shown in Chinese by
line), the staff accounts (/admin/users, as /api/v1/users) and the audit trail (/admin/audit)."""

from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from core.security import create_access_token
from models.base import pk
from models.calendar import CalendarYear
from models.user import User
from services.oversight import audit
from tests.factories import PASSWORD, make_staff
from tests.pages.test_session_pages import csrf_of

YEAR = 2091  # a year no package knows and no other test loads (rolled back anyway)
GOOD = f"date,kind,note\n{YEAR}-01-01,holiday,元旦\n{YEAR}-01-06,workday,调休\n"


def logged_in(pages: TestClient, user: User) -> TestClient:
    pages.cookies.set("session", create_access_token(pk(user), user.token_version))
    return pages


def load(pages: TestClient, token: str, content: bytes) -> httpx.Response:
    return pages.post(
        "/admin/calendar",
        data={"csrf_token": token},
        files={"file": ("calendar.csv", content, "text/csv")},
        follow_redirects=False,
    )


def test_the_calendar_page_lists_the_years_with_their_source(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    page = logged_in(pages, admin).get("/admin/calendar")
    assert page.status_code == 200
    assert '<label for="calendar-file">节假日文件</label>' in page.text
    assert ">导入</button>" in page.text
    assert "2026" in page.text and "chinese-calendar 软件包" in page.text


def test_a_holiday_file_is_loaded_and_shown_with_its_source(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    token = csrf_of(logged_in(pages, admin).get("/admin/calendar").text)
    answer = load(pages, token, GOOD.encode())
    assert answer.status_code == 303, answer.text
    page = pages.get(answer.headers["location"])
    assert f"已导入 {YEAR} 年工作日历" in page.text and "管理人员导入" in page.text
    record = session.get(CalendarYear, YEAR)
    assert record is not None and record.loaded_by_id == admin.id


def test_a_bad_file_shows_every_error_by_line_in_chinese_and_loads_nothing(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    token = csrf_of(logged_in(pages, admin).get("/admin/calendar").text)
    bad = f"date,kind,note\n{YEAR}-13-01,holiday,\n{YEAR}-01-02,workday,周二不能调休\n"
    page = load(pages, token, bad.encode())
    assert page.status_code == 422
    text = page.text
    assert "第 2 行：日期“2091-13-01”无效" in text
    assert "第 3 行：2091-01-02 是周一至周五" in text
    assert 'id="calendar-file-error"' in text
    no_header = load(pages, token, b"2091-01-01,holiday\n")
    assert "第 1 行应为表头" in no_header.text
    gbk = load(pages, token, "date,kind,note\n2091-01-01,holiday,元旦\n".encode("gbk"))
    assert "UTF-8" in gbk.text
    assert session.get(CalendarYear, YEAR) is None


def test_the_calendar_needs_the_csrf_token_and_a_city_level_admin(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    logged_in(pages, admin).get("/admin/calendar")
    refused = load(pages, "forged", GOOD.encode())
    assert refused.status_code == 403
    assert session.get(CalendarYear, YEAR) is None
    county_admin = make_staff(session, role="admin", jurisdiction="451102")
    assert logged_in(pages, county_admin).get("/admin/calendar").status_code == 403
    reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    assert logged_in(pages, reviewer).get("/admin/calendar").status_code == 403


# --- /admin/users -------------------------------------------------------------------------------


def test_the_users_page_lists_the_staff_inside_the_jurisdiction_with_its_labels(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    inside = make_staff(session, role="inspector", jurisdiction="451123", display_name="富川检查")
    outside = make_staff(session, role="reviewer", jurisdiction="451121", display_name="昭平审核")
    page = logged_in(pages, admin).get("/admin/users")
    assert page.status_code == 200
    assert inside.username in page.text and "富川检查" in page.text and "执法检查人员" in page.text
    assert "富川瑶族自治县" in page.text
    assert outside.username not in page.text and "昭平审核" not in page.text
    for label in ("用户名", "显示名称", "角色", "辖区", "密码"):
        assert f'">{label}</label>' in page.text, label
    assert f'<label for="pw-{inside.id}">新密码' in page.text
    assert ">创建账号</button>" in page.text and ">停用</button>" in page.text
    assert ">重置密码</button>" in page.text
    # The jurisdiction offered: only the admin's own county.
    assert 'value="451123"' in page.text and 'value="451121"' not in page.text
    reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    assert logged_in(pages, reviewer).get("/admin/users").status_code == 403


def test_creating_a_user_with_errors_shows_them_by_field_and_keeps_the_values(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    taken = make_staff(session, role="reviewer", jurisdiction="451123")
    token = csrf_of(logged_in(pages, admin).get("/admin/users").text)
    form = {
        "csrf_token": token,
        "username": "x",
        "display_name": "新同事甲",
        "role": "inspector",
        "jurisdiction": "451123",
        "password": "short",
    }
    page = pages.post("/admin/users", data=form)
    assert page.status_code == 422
    assert 'id="u-username-error"' in page.text and 'id="u-password-error"' in page.text
    assert 'value="x"' in page.text and 'value="新同事甲"' in page.text
    assert '<option value="inspector" selected>' in page.text
    assert "short" not in page.text  # never the password
    duplicate = pages.post(
        "/admin/users", data={**form, "username": taken.username, "password": "Long-enough-1"}
    )
    assert duplicate.status_code == 422
    assert 'id="u-username-error"' in duplicate.text and "用户名已被使用" in duplicate.text
    assert session.exec(select(User).where(User.display_name == "新同事甲")).first() is None


def test_creating_a_user_makes_the_account_in_the_chosen_region(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    token = csrf_of(logged_in(pages, admin).get("/admin/users").text)
    form = {
        "csrf_token": token,
        "username": "fc_new_reviewer",
        "display_name": "富川新审核员",
        "role": "reviewer",
        "jurisdiction": "451123",
        "password": "Fresh-pass-1",
    }
    answer = pages.post("/admin/users", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    created = session.exec(select(User).where(User.username == "fc_new_reviewer")).one()
    assert created.role == "reviewer" and created.jurisdiction == "451123" and created.active
    page = pages.get(answer.headers["location"])
    assert "账号已创建" in page.text and "富川新审核员" in page.text
    # A region outside the admin's jurisdiction is refused (a forged form): nothing made.
    outside = pages.post(
        "/admin/users", data={**form, "username": "zp_x", "jurisdiction": "451121"}
    )
    assert outside.status_code == 403
    assert session.exec(select(User).where(User.username == "zp_x")).first() is None


def test_deactivating_and_activating_a_user(pages: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    staff = make_staff(session, role="inspector", jurisdiction="451123")
    version = staff.token_version
    token = csrf_of(logged_in(pages, admin).get("/admin/users").text)
    answer = pages.post(
        f"/admin/users/{staff.id}/active",
        data={"csrf_token": token, "active": "false"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    session.refresh(staff)
    assert not staff.active and staff.token_version == version + 1
    page = pages.get(answer.headers["location"])
    assert "账号已停用" in page.text and ">启用</button>" in page.text
    pages.post(f"/admin/users/{staff.id}/active", data={"csrf_token": token, "active": "true"})
    session.refresh(staff)
    assert staff.active


def test_a_reset_password_lets_the_user_log_in_with_the_new_one(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    staff = make_staff(session, role="reviewer", jurisdiction="451123")
    token = csrf_of(logged_in(pages, admin).get("/admin/users").text)
    short = pages.post(
        f"/admin/users/{staff.id}/password", data={"csrf_token": token, "password": "x"}
    )
    assert short.status_code == 422 and f'id="pw-{staff.id}-error"' in short.text
    answer = pages.post(
        f"/admin/users/{staff.id}/password",
        data={"csrf_token": token, "password": "Brand-new-pass-2"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "新密码已设置" in pages.get(answer.headers["location"]).text
    pages.cookies.clear()
    login = pages.get("/login")
    form = {"csrf_token": csrf_of(login.text), "username": staff.username}
    old = pages.post("/login", data={**form, "password": PASSWORD}, follow_redirects=False)
    assert old.status_code == 401
    new = pages.post(
        "/login", data={**form, "password": "Brand-new-pass-2"}, follow_redirects=False
    )
    assert new.status_code == 303 and new.headers["location"] != "/login"


def test_user_forms_need_the_csrf_token(pages: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    staff = make_staff(session, role="inspector", jurisdiction="451123")
    hash_before = staff.password_hash
    logged_in(pages, admin).get("/admin/users")
    for path, form in (
        (
            "/admin/users",
            {
                "username": "fc_forged",
                "display_name": "伪",
                "role": "admin",
                "jurisdiction": "451123",
                "password": "Forged-pass-1",
            },
        ),
        (f"/admin/users/{staff.id}/active", {"active": "false"}),
        (f"/admin/users/{staff.id}/password", {"password": "Forged-pass-1"}),
    ):
        refused = pages.post(path, data={**form, "csrf_token": "forged"})
        assert refused.status_code == 403 and "表单已失效" in refused.text, path
    session.refresh(staff)
    assert staff.active and staff.password_hash == hash_before
    assert session.exec(select(User).where(User.username == "fc_forged")).first() is None


def test_an_admin_of_another_county_gets_a_404_for_a_user_outside(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451121")
    staff = make_staff(session, role="inspector", jurisdiction="451123")
    token = csrf_of(logged_in(pages, admin).get("/admin/users").text)
    for path, form in (
        (f"/admin/users/{staff.id}/active", {"active": "false"}),
        (f"/admin/users/{staff.id}/password", {"password": "Other-pass-12"}),
    ):
        page = pages.post(path, data={**form, "csrf_token": token})
        assert page.status_code == 404 and "页面不存在" in page.text, path
    session.refresh(staff)
    assert staff.active


# --- /admin/audit -------------------------------------------------------------------------------


def test_the_audit_page_lists_entries_newest_first_and_filters_them(
    pages: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451123")
    clock.set_clock(lambda: datetime(2091, 3, 1, 17, 0, tzinfo=UTC))  # 3-2 01:00 in Beijing
    try:
        early = audit.append(
            session,
            actor_id=pk(admin),
            action="t1.early",
            entity="t1thing",
            entity_id=1,
            region_code="451123",
        )
        clock.set_clock(lambda: datetime(2091, 3, 5, 2, 0, tzinfo=UTC))
        late = audit.append(
            session,
            actor_id=None,
            action="t1.late",
            entity="t1thing",
            entity_id=2,
            region_code="451123",
        )
    finally:
        clock.set_clock(None)
    elsewhere = audit.append(
        session,
        actor_id=None,
        action="t1.early",
        entity="t1thing",
        entity_id=3,
        region_code="451121",
    )
    client = logged_in(pages, admin)
    page = client.get("/admin/audit", params={"entity": "t1thing"})
    assert page.status_code == 200
    text = page.text
    assert "t1.early" in text and "t1.late" in text and "2091-03-02 01:00:00" in text
    assert text.index("t1.late") < text.index("t1.early")  # newest first
    assert "富川瑶族自治县" in text and f">{admin.id}</td>" in text
    assert f"#{elsewhere.id}<" not in text  # another county's entry
    for label in ("对象类型", "操作", "起始日期", "截止日期"):
        assert f'">{label}</label>' in text, label
    only_late = client.get("/admin/audit", params={"action": "t1.late"}).text
    assert f"#{late.id}<" in only_late and f"#{early.id}<" not in only_late
    in_range = client.get(
        "/admin/audit", params={"entity": "t1thing", "from": "2091-03-02", "to": "2091-03-02"}
    ).text
    assert f"#{early.id}<" in in_range and f"#{late.id}<" not in in_range
    after = client.get("/admin/audit", params={"entity": "t1thing", "from": "2091-03-03"}).text
    assert f"#{late.id}<" in after and f"#{early.id}<" not in after
    older = client.get("/admin/audit", params={"entity": "t1thing", "before_id": late.id}).text
    assert f"#{early.id}<" in older and f"#{late.id}<" not in older
    bad = client.get("/admin/audit", params={"from": "2091-13-01"})
    assert bad.status_code == 422 and 'id="a-from-error"' in bad.text


def test_only_a_city_level_admin_sees_the_chain_verification(
    pages: TestClient, session: Session
) -> None:
    county = make_staff(session, role="admin", jurisdiction="451123")
    page = logged_in(pages, county).get("/admin/audit")
    assert page.status_code == 200 and "审计链核验" not in page.text
    city = make_staff(session, role="admin", jurisdiction="451100")
    page = logged_in(pages, city).get("/admin/audit")
    assert "审计链核验" in page.text and "data-verified" not in page.text  # only on request
    assert 'href="/admin/audit?verify=1"' in page.text
    page = pages.get("/admin/audit", params={"verify": "1"})
    assert 'data-verified="verified"' in page.text
    head = audit.head(session)
    assert head.head_hash in page.text
    reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    assert logged_in(pages, reviewer).get("/admin/audit").status_code == 403
