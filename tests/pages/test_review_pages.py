"""The reviewer's pages (SPEC §9): the queue, one filing (通过, 退回 with every correction in one
notice, 撤销), enterprises (批准, 驳回); labels and buttons of the spec, a filing of another county
is a 404 page, every form checks its CSRF token, errors are shown and what was typed is kept."""

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from domain.vocabulary import EnterpriseStatus, FilingAction, FilingStatus, RevisionStatus
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing, FilingEvent, FilingRevision
from models.notification import Notification
from models.user import User
from services.filings import actions, queries
from tests.factories import (
    filed_via_services,
    make_enterprise,
    make_staff,
    operator_of,
    submitted_via_services,
)
from tests.pages.test_operator_pages import hidden_value, log_in
from tests.pages.test_session_pages import csrf_of

pytestmark = pytest.mark.usefixtures("fixed_clock")


def a_reviewer(session: Session, jurisdiction: str = "451102") -> User:
    return make_staff(session, role="reviewer", jurisdiction=jurisdiction)


def a_submission(session: Session) -> Filing:
    return submitted_via_services(session, operator_of(session, make_enterprise(session)))


def post_on(pages: TestClient, page_url: str, url: str, fields: dict[str, Any]) -> httpx.Response:
    """Posts `fields` as the page at `page_url` would (its CSRF token and filing version)."""
    page = pages.get(page_url).text
    sent: dict[str, Any] = {"csrf_token": csrf_of(page)}
    version = hidden_value(page, "version")
    if version is not None:
        sent["version"] = version
    sent.update(fields)
    return pages.post(url, data=sent, follow_redirects=False)


def labels(page: str) -> set[str]:
    return set(re.findall(r"<label for=\"[^\"]+\">([^<]+)</label>", page))


def buttons(page: str) -> set[str]:
    return set(re.findall(r"<button[^>]*>([^<]+)</button>", page))


def test_queue_lists_the_submission_with_its_due_date(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    make_enterprise(session, approved=False)
    log_in(pages, a_reviewer(session))
    page = pages.get("/review")
    assert page.status_code == 200
    rev = queries.working_revision(session, filing)
    assert f'href="/review/filings/{pk(filing)}"' in page.text
    assert str(rev.review_due_on) in page.text and "个工作日" in page.text
    assert 'href="/review/enterprises"' in page.text and "项待审" in page.text
    assert 'href="/review">审核</a>' in page.text  # the header's link for the role
    other_county = pages.get("/review?county=451121")
    assert f"/review/filings/{pk(filing)}" not in other_county.text


def test_the_pages_carry_the_labels_and_buttons_of_spec_9(
    pages: TestClient, session: Session
) -> None:
    reviewer = a_reviewer(session)
    submitted = a_submission(session)
    filed = filed_via_services(session, operator_of(session, make_enterprise(session)), reviewer)
    make_enterprise(session, approved=False)
    log_in(pages, reviewer)
    page = pages.get(f"/review/filings/{pk(submitted)}").text
    assert {"补正项", "说明"} <= labels(page)
    assert {"通过", "增加补正项", "退回"} <= buttons(page)
    assert len(re.findall(r'name="corrections\.\d+\.target"', page)) == 3  # rows without JS
    filed_page = pages.get(f"/review/filings/{pk(filed)}").text
    assert "撤销原因" in labels(filed_page) and "撤销" in buttons(filed_page)
    enterprises_page = pages.get("/review/enterprises").text
    assert {"驳回原因", "许可有效期起", "许可有效期止"} <= labels(enterprises_page)
    assert {"批准", "驳回"} <= buttons(enterprises_page)


def test_a_reviewer_of_another_county_gets_a_404_page(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session, jurisdiction="451121"))
    page = pages.get(f"/review/filings/{pk(filing)}")
    assert page.status_code == 404 and "页面不存在" in page.text
    assert f"/review/filings/{pk(filing)}" not in pages.get("/review").text


def test_an_operator_may_not_use_the_review_pages(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, operator_of(session, make_enterprise(session)))
    assert pages.get("/review").status_code == 403
    assert pages.get(f"/review/filings/{pk(filing)}").status_code == 403


def test_a_form_without_its_csrf_token_is_refused(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session))
    page = pages.get(f"/review/filings/{pk(filing)}").text
    answer = pages.post(
        f"/review/filings/{pk(filing)}/accept",
        data={"version": hidden_value(page, "version") or ""},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    session.refresh(filing)
    assert filing.status == FilingStatus.SUBMITTED


def test_return_with_two_corrections_builds_one_notice(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session))
    url = f"/review/filings/{pk(filing)}"
    answer = post_on(
        pages,
        url,
        f"{url}/return",
        {
            "corrections.0.target": "field:outlet.address",
            "corrections.0.reason": "地址缺少门牌号",
            "corrections.1.target": "",
            "corrections.1.reason": "",
            "corrections.2.target": "document:premises_photo",
            "corrections.2.reason": "照片看不清门头",
            "action": "return",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"{url}?done=returned"
    rev = queries.working_revision(session, filing)
    assert rev.status == RevisionStatus.RETURNED
    assert rev.corrections == [
        {"field": "outlet.address", "reason": "地址缺少门牌号"},
        {"document": "premises_photo", "reason": "照片看不清门头"},
    ]
    events = session.exec(
        select(FilingEvent).where(
            FilingEvent.filing_id == pk(filing), FilingEvent.action == FilingAction.RETURN
        )
    ).all()
    assert len(events) == 1
    enterprise = session.get(Enterprise, filing.enterprise_id)
    assert enterprise is not None
    operator = operator_of(session, enterprise)
    notices = session.exec(
        select(Notification).where(
            Notification.user_id == pk(operator), col_title_starts("备案退回补正")
        )
    ).all()
    assert len(notices) == 1 and "共 2 项" in notices[0].body
    shown = pages.get(f"{url}?done=returned").text
    assert "已退回" in shown and "地址缺少门牌号" in shown


def col_title_starts(prefix: str) -> Any:
    return col(Notification.title).startswith(prefix)


def test_errors_are_shown_next_to_the_row_and_what_was_typed_is_kept(
    pages: TestClient, session: Session
) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session))
    url = f"/review/filings/{pk(filing)}"
    answer = post_on(
        pages,
        url,
        f"{url}/return",
        {
            "corrections.0.target": "field:outlet.name",
            "corrections.0.reason": "名称与门头不符",
            "corrections.1.target": "",
            "corrections.1.reason": "请补充说明营业时间",  # no 补正项 chosen
            "action": "return",
        },
    )
    assert answer.status_code == 422
    page = answer.text
    assert 'id="c-1-error"' in page and "每项补正须指明字段或文件之一" in page
    assert 'aria-describedby="c-1-error"' in page
    assert "名称与门头不符" in page and "请补充说明营业时间" in page
    assert '<option value="field:outlet.name" selected>' in page
    assert queries.working_revision(session, filing).status == RevisionStatus.SUBMITTED
    none = post_on(pages, url, f"{url}/return", {"action": "return"})
    assert none.status_code == 422 and "至少一项" in none.text


def test_add_row_without_javascript_shows_one_more_row(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session))
    url = f"/review/filings/{pk(filing)}"
    fields = {f"corrections.{n}.{part}": "" for n in range(3) for part in ("target", "reason")}
    fields["corrections.0.reason"] = "已写的说明"
    answer = post_on(pages, url, f"{url}/return", {**fields, "action": "add_row"})
    assert answer.status_code == 200
    assert 'name="corrections.3.target"' in answer.text and "已写的说明" in answer.text
    assert queries.working_revision(session, filing).status == RevisionStatus.SUBMITTED


def test_accept_shows_the_receipt_number(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session))
    url = f"/review/filings/{pk(filing)}"
    answer = post_on(pages, url, f"{url}/accept", {})
    assert answer.status_code == 303
    session.refresh(filing)
    assert filing.status == FilingStatus.FILED
    rev = session.get(FilingRevision, filing.current_revision_id)
    assert rev is not None and rev.receipt_no
    page = pages.get(answer.headers["location"]).text
    assert "已通过" in page and f"回执编号 <strong>{rev.receipt_no}</strong>" in page


def test_a_stale_form_is_refused(pages: TestClient, session: Session) -> None:
    filing = a_submission(session)
    log_in(pages, a_reviewer(session))
    url = f"/review/filings/{pk(filing)}"
    page = pages.get(url).text
    answer = pages.post(
        f"{url}/accept",
        data={"csrf_token": csrf_of(page), "version": str(filing.version - 1)},
        follow_redirects=False,
    )
    assert answer.status_code == 409
    session.refresh(filing)
    assert filing.status == FilingStatus.SUBMITTED


def test_revocation_needs_a_reason(pages: TestClient, session: Session) -> None:
    reviewer = a_reviewer(session)
    filing = filed_via_services(session, operator_of(session, make_enterprise(session)), reviewer)
    log_in(pages, reviewer)
    url = f"/review/filings/{pk(filing)}"
    refused = post_on(pages, url, f"{url}/revocation", {"reason": ""})
    assert refused.status_code == 422 and 'id="revoke-reason-error"' in refused.text
    answer = post_on(pages, url, f"{url}/revocation", {"reason": "虚假备案：场所不存在"})
    assert answer.status_code == 303
    session.refresh(filing)
    assert filing.status == FilingStatus.REVOKED and filing.end_reason == "虚假备案：场所不存在"


def test_a_change_shows_what_it_alters(pages: TestClient, session: Session) -> None:
    reviewer = a_reviewer(session)
    operator = operator_of(session, make_enterprise(session))
    filing = filed_via_services(session, operator, reviewer)
    actions.open_new_change(
        session, filing, actor=operator, changed_on=filing.created_at.date(), reason=None
    )
    actions.update(session, filing, actor=operator, patch={"outlet": {"name": "改名后的服务站"}})
    actions.submit(session, filing, actor=operator)
    log_in(pages, reviewer)
    page = pages.get(f"/review/filings/{pk(filing)}").text
    assert "变更内容（与现备案信息相比）" in page
    assert re.search(r"<th scope=\"row\">网点名称</th><td>[^<]+</td><td>改名后的服务站</td>", page)


def test_approve_and_reject_enterprises(pages: TestClient, session: Session) -> None:
    approved = make_enterprise(session, approved=False)
    rejected = make_enterprise(session, approved=False)
    outside = make_enterprise(session, region_code="451121", approved=False)
    log_in(pages, a_reviewer(session))
    page = pages.get("/review/enterprises").text
    assert approved.name in page and rejected.name in page and outside.name not in page
    url = "/review/enterprises"
    answer = post_on(
        pages, url, f"{url}/{pk(approved)}/approve", {"licence_valid_until": "2030-12-31"}
    )
    assert answer.status_code == 303
    session.refresh(approved)
    assert approved.status == EnterpriseStatus.APPROVED
    assert str(approved.licence_valid_until) == "2030-12-31"
    refused = post_on(pages, url, f"{url}/{pk(rejected)}/rejection", {"reason": ""})
    assert refused.status_code == 422 and "驳回原因：" in refused.text
    answer = post_on(pages, url, f"{url}/{pk(rejected)}/rejection", {"reason": "许可证号有误"})
    assert answer.status_code == 303
    session.refresh(rejected)
    assert rejected.status == EnterpriseStatus.REJECTED
    assert post_on(pages, url, f"{url}/{pk(outside)}/approve", {}).status_code == 404
    no_token = pages.post(f"{url}/{pk(outside)}/rejection", data={"reason": "x"})
    assert no_token.status_code == 403


def test_a_registration_change_is_accepted_or_rejected(pages: TestClient, session: Session) -> None:
    from services.accounts import enterprises

    accepted = make_enterprise(session)
    rejected = make_enterprise(session)
    renames = ((accepted, "贺州新名快递有限公司"), (rejected, "贺州另名快递有限公司"))
    for enterprise, name in renames:
        enterprises.update(
            session, enterprise, owner=operator_of(session, enterprise), patch={"name": name}
        )
    log_in(pages, a_reviewer(session))
    url = "/review/enterprises"
    page = pages.get(url).text
    assert "贺州新名快递有限公司" in page and {"同意变更", "不予变更"} <= buttons(page)
    answer = post_on(pages, url, f"{url}/{pk(accepted)}/change-review", {"decision": "accept"})
    assert answer.status_code == 303
    answer = post_on(
        pages,
        url,
        f"{url}/{pk(rejected)}/change-review",
        {"decision": "reject", "reason": "无更名证明"},
    )
    assert answer.status_code == 303
    session.refresh(accepted)
    session.refresh(rejected)
    assert accepted.name == "贺州新名快递有限公司" and accepted.pending_change is None
    assert rejected.name != "贺州另名快递有限公司" and rejected.pending_change is None
