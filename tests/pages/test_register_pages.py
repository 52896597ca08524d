"""Enterprise registration on pages (SPEC §9 `/register`, `/register/status`): the API's
schema, services and throttle; errors next to their fields; what was typed kept, never the
password; a form without its CSRF token refused."""

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.security import create_access_token
from domain.vocabulary import EnterpriseStatus
from models.base import pk
from models.enterprise import Enterprise
from models.user import User
from services.accounts import enterprises, throttling
from tests.factories import make_enterprise, make_staff, operator_of, valid_uscc
from tests.pages.test_session_pages import csrf_of

REGISTRATION_LABELS = (
    "企业名称",
    "统一社会信用代码",
    "快递业务经营许可证编号",
    "许可有效期起",
    "许可有效期止",
    "分支机构",
    "所在地区",
    "联系人",
    "联系人手机",
    "电子邮箱",
    "用户名",
    "密码",
)


def labels_of(page: str) -> set[str]:
    """The text of every `<label for=…>` and of every label wrapping its input."""
    found = set(re.findall(r"<label for=\"[^\"]+\">([^<]+)</label>", page))
    found |= set(re.findall(r"<label[^>]*><input [^>]+>([^<]+)</label>", page))
    return found


def form_of(token: str, **changes: Any) -> dict[str, Any]:
    serial = changes.pop("serial", 77001)
    form: dict[str, Any] = {
        "csrf_token": token,
        "name": "贺州页面注册快递有限公司",
        "uscc": valid_uscc(serial),
        "licence_no": "桂邮2024页001",
        "licence_valid_from": "2024-01-01",
        "licence_valid_until": "2029-12-31",
        "licence_regions": ["451102", "451121"],
        "is_branch": "true",
        "region_code": "451102",
        "contact_name": "李四",
        "contact_mobile": "13800005678",
        "contact_email": "li@example.com",
        "username": f"pagereg{serial}",
        "password": "Page-secret-1",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def sign_in(pages: TestClient, user: User) -> None:
    pages.cookies.set("session", create_access_token(pk(user), user.token_version))


def enterprise_named(session: Session, uscc: str) -> Enterprise | None:
    return session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()


def test_the_registration_form_has_every_label_and_names_regions(pages: TestClient) -> None:
    page = pages.get("/register")
    assert page.status_code == 200
    assert set(REGISTRATION_LABELS) <= labels_of(page.text)
    assert "<legend>许可经营地域</legend>" in page.text
    assert ">提交注册</button>" in page.text
    # Names, not codes: the seat and the licensed area come from the region tree.
    assert '<option value="451121">昭平县</option>' in page.text
    assert 'value="450000">广西壮族自治区</label>' in page.text


def test_a_registration_is_pending_and_its_owner_logs_in_to_its_status(
    pages: TestClient, session: Session
) -> None:
    form = form_of(csrf_of(pages.get("/register").text), serial=77002)
    answer = pages.post("/register", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/register/done"
    done = pages.get("/register/done")
    assert "待审核" in done.text and "登录" in done.text

    enterprise = enterprise_named(session, form["uscc"])
    assert enterprise is not None and enterprise.status == EnterpriseStatus.PENDING
    assert enterprise.is_branch and enterprise.licence_regions == ["451102", "451121"]
    assert str(enterprise.licence_valid_until) == "2029-12-31"
    assert enterprise.contact_email == "li@example.com"

    login = pages.get("/login")
    credentials = {"username": form["username"], "password": form["password"]}
    logged = pages.post(
        "/login", data={"csrf_token": csrf_of(login.text), **credentials}, follow_redirects=False
    )
    assert logged.headers["location"] == "/register/status"
    status = pages.get("/register/status")
    assert status.status_code == 200 and "待审核" in status.text
    assert "重新提交" not in status.text  # nothing to correct while pending


def test_errors_are_shown_next_to_their_fields_and_what_was_typed_is_kept(
    pages: TestClient, session: Session
) -> None:
    form = form_of(
        csrf_of(pages.get("/register").text),
        serial=77003,
        uscc="91451100MA5T0000X",
        contact_mobile="12345",
        password="short",
        name="",
    )
    answer = pages.post("/register", data=form)
    assert answer.status_code == 422
    for field in ("uscc", "contact_mobile", "password", "name"):
        assert f'id="{field}-error"' in answer.text, field
        assert f'aria-describedby="{field}-error"' in answer.text, field
    assert 'value="91451100MA5T0000X"' in answer.text and 'value="12345"' in answer.text
    assert 'value="li@example.com"' in answer.text and 'value="pagereg77003"' in answer.text
    assert re.search(r'value="451121" checked', answer.text)
    assert re.search(r'id="is_branch" name="is_branch" value="true" checked', answer.text)
    assert "short" not in answer.text  # the password is never sent back
    assert enterprise_named(session, "91451100MA5T0000X") is None


def test_the_services_errors_come_back_next_to_their_fields(
    pages: TestClient, session: Session
) -> None:
    taken = operator_of(session, make_enterprise(session, region_code="451102"))
    token = csrf_of(pages.get("/register").text)
    answer = pages.post("/register", data=form_of(token, serial=77004, username=taken.username))
    assert answer.status_code == 409
    assert re.search(r'id="username-error">用户名已被使用<', answer.text)
    assert "Page-secret-1" not in answer.text

    backwards = form_of(token, serial=77005, licence_valid_until="2023-01-01")
    answer = pages.post("/register", data=backwards)
    assert answer.status_code == 422
    assert re.search(r'id="licence_valid_until-error">许可有效期止不能早于有效期起<', answer.text)
    assert enterprise_named(session, backwards["uscc"]) is None


def test_a_registration_without_its_csrf_token_is_refused_and_writes_nothing(
    pages: TestClient, session: Session
) -> None:
    pages.get("/register")
    form = form_of("0" * 64, serial=77006)
    answer = pages.post("/register", data=form)
    assert answer.status_code == 403 and "表单已失效" in answer.text
    del form["csrf_token"]
    assert pages.post("/register", data=form).status_code == 403
    assert enterprise_named(session, form["uscc"]) is None


def test_registrations_are_throttled_per_client_address_as_in_the_api(
    pages: TestClient, session: Session
) -> None:
    key = throttling.registration_address_key("testclient")
    throttling.hit(session, key, throttling.Limit(1, timedelta(hours=1), timedelta(hours=1)))
    form = form_of(csrf_of(pages.get("/register").text), serial=77007)
    answer = pages.post("/register", data=form)
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert "尝试次数过多" in answer.text and 'value="pagereg77007"' in answer.text
    assert enterprise_named(session, form["uscc"]) is None


def rejected_owner(session: Session, reason: str = "许可证编号与许可证不符") -> User:
    enterprise = make_enterprise(session, region_code="451121", approved=False)
    reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    enterprises.reject(session, enterprise, reviewer=reviewer, reason=reason)
    return operator_of(session, enterprise)


def test_a_rejected_owner_sees_the_reason_corrects_and_resubmits(
    pages: TestClient, session: Session
) -> None:
    owner = rejected_owner(session)
    sign_in(pages, owner)
    page = pages.get("/register/status")
    assert page.status_code == 200
    assert "已驳回" in page.text and "许可证编号与许可证不符" in page.text
    assert ">重新提交</button>" in page.text
    assert set(REGISTRATION_LABELS) - {"用户名", "密码"} <= labels_of(page.text)
    enterprise = session.get(Enterprise, owner.enterprise_id)
    assert enterprise is not None
    assert f'value="{enterprise.licence_no}"' in page.text  # the form starts from what is on file

    form = {
        "csrf_token": csrf_of(page.text),
        "action": "resubmit",
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "licence_no": "桂邮2024改001",
        "licence_valid_from": "",
        "licence_valid_until": "",
        "region_code": "451121",
        "contact_name": "王五",
        "contact_mobile": "13800009999",
        "contact_email": "",
    }
    answer = pages.post("/register/status", data=form, follow_redirects=False)
    assert answer.status_code == 303
    shown = pages.get(answer.headers["location"])
    assert "已重新提交" in shown.text and "待审核" in shown.text
    session.refresh(enterprise)
    assert enterprise.status == EnterpriseStatus.PENDING
    assert enterprise.licence_no == "桂邮2024改001" and enterprise.contact_name == "王五"


def test_a_correction_with_errors_keeps_what_was_typed_and_changes_nothing(
    pages: TestClient, session: Session
) -> None:
    owner = rejected_owner(session)
    sign_in(pages, owner)
    page = pages.get("/register/status")
    enterprise = session.get(Enterprise, owner.enterprise_id)
    assert enterprise is not None
    licence_no = enterprise.licence_no
    form = {
        "csrf_token": csrf_of(page.text),
        "action": "resubmit",
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "licence_no": "桂邮2024改002",
        "region_code": "451121",
        "contact_name": "王五",
        "contact_mobile": "99",
        "contact_email": "not-an-address",
    }
    answer = pages.post("/register/status", data=form)
    assert answer.status_code == 422
    assert 'id="contact_mobile-error"' in answer.text and 'id="contact_email-error"' in answer.text
    assert 'value="桂邮2024改002"' in answer.text and 'value="not-an-address"' in answer.text
    session.refresh(enterprise)
    assert enterprise.status == EnterpriseStatus.REJECTED and enterprise.licence_no == licence_no

    del form["csrf_token"]
    assert pages.post("/register/status", data=form).status_code == 403


def test_an_approved_owner_sees_it_passed_and_the_way_to_its_filings(
    pages: TestClient, session: Session
) -> None:
    owner = operator_of(session, make_enterprise(session, region_code="451121"))
    sign_in(pages, owner)
    page = pages.get("/register/status")
    assert page.status_code == 200 and "已通过" in page.text
    assert 'href="/my/filings"' in page.text and "重新提交" not in page.text


def test_the_status_page_needs_a_login(pages: TestClient) -> None:
    answer = pages.get("/register/status", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/register/status")
