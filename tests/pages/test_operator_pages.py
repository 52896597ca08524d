"""The operator's filing pages (SPEC §9): labels, saving a draft (errors next to their fields,
nothing typed lost), another enterprise's filing is a 404 page, every form checks its CSRF token,
uploads judged by content, corrections next to their fields, the receipt, a change, a closure."""

import hashlib
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from domain.vocabulary import FilingStatus, RevisionStatus
from models.base import pk
from models.filing import Document, Filing, FilingRevision
from models.notification import Notification
from models.user import User
from services.filings import actions
from tests.factories import (
    PASSWORD,
    draft_via_services,
    filed_via_services,
    make_enterprise,
    make_staff,
    operator_of,
    sample_pdf,
    sample_png,
    submitted_via_services,
    valid_id_number,
)
from tests.pages.test_session_pages import csrf_of

# The forms' dates (opened 2026-11-20, changed and closed later that month) are in the past only
# from 2026-11-30 on: the clock stands still there (tests/conftest.py FIXED_NOW).
pytestmark = pytest.mark.usefixtures("fixed_clock")

SPEC_LABELS = (
    "网点名称",
    "网点类型",
    "自营",
    "合作",
    "业务范围",
    "收寄",
    "投递",
    "服务品牌",
    "所在县区",
    "所在乡镇",
    "详细地址",
    "开办日期",
    "营业时间",
    "面积（平方米）",
    "从业人数",
    "有监控设备",
    "负责人姓名",
    "负责人身份证号码",
    "负责人手机号码",
    "合作方名称",
    "合作方证件号码",
    "合作方手机号码",
)


def log_in(pages: TestClient, user: User) -> None:
    page = pages.get("/login")
    form = {"csrf_token": csrf_of(page.text), "username": user.username, "password": PASSWORD}
    answer = pages.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def an_operator(session: Session) -> User:
    return operator_of(session, make_enterprise(session, region_code="451102"))


def form_fields(**overrides: Any) -> dict[str, Any]:
    """A complete filing form as a browser posts it (field names are the API's paths)."""
    fields: dict[str, Any] = {
        "outlet.name": "八步区贺街镇快递服务站",
        "outlet.type": "self_operated",
        "outlet.scope": ["collect", "deliver"],
        "outlet.brands": ["SF", "ZTO"],
        "outlet.county_code": "451102",
        "outlet.township_code": "451102101",
        "outlet.address": "河东街 12 号",
        "outlet.opened_on": "2026-11-20",
        "outlet.business_hours": "08:00-20:00",
        "outlet.floor_area_m2": "45.5",
        "outlet.staff_count": "3",
        "outlet.has_cctv": "true",
        "person_in_charge.name": "王五",
        "person_in_charge.id_number": valid_id_number(),
        "person_in_charge.mobile": "13977401234",
    }
    fields.update(overrides)
    return fields


def hidden_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)"', page)
    return found.group(1) if found else None


def post_form(pages: TestClient, url: str, page_url: str, **fields: Any) -> httpx.Response:
    """Posts `fields` as the page at `page_url` would: with its CSRF token and, as its forms
    carry them, the filing's `version` and the new-filing form's `form_nonce`."""
    page = pages.get(page_url).text
    sent: dict[str, Any] = {"csrf_token": csrf_of(page)}
    for name in ("version", "form_nonce"):
        value = hidden_value(page, name)
        if value is not None:
            sent[name] = value
    sent.update(fields)
    return pages.post(url, data=sent, follow_redirects=False)


def input_value(page: str, name: str) -> str:
    found = re.search(rf'<input id="[^"]+" name="{re.escape(name)}"[^>]* value="([^"]*)"', page)
    assert found, f"no input {name}"
    return found.group(1)


def test_the_pages_carry_every_label_spec_9_lists(pages: TestClient, session: Session) -> None:
    log_in(pages, an_operator(session))
    listing = pages.get("/my/filings")
    assert listing.status_code == 200 and "新建备案" in listing.text
    form = pages.get("/my/filings/new")
    assert form.status_code == 200
    for label in SPEC_LABELS:
        assert f">{label}" in form.text, label
    assert "保存草稿" in form.text
    # every input has a visible label pointing at it
    for input_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', form.text):
        assert f'for="{input_id}"' in form.text, input_id
    # without JavaScript every township is listed, grouped by county
    assert '<optgroup label="八步区" data-county="451102">' in form.text
    assert "仅网点类型为“合作”时填写" in form.text


def test_the_pages_need_an_approved_operator(pages: TestClient, session: Session) -> None:
    answer = pages.get("/my/filings", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    log_in(pages, make_staff(session))
    assert pages.get("/my/filings/new").status_code == 403


def test_a_draft_with_errors_keeps_what_was_typed_and_says_why_next_to_each_field(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    log_in(pages, user)
    fields = form_fields(
        **{
            "person_in_charge.id_number": "451102198506121234",
            "person_in_charge.mobile": "12345",
            "outlet.township_code": "451121100",  # a township of another county
            "outlet.brands": [],
        }
    )
    answer = post_form(pages, "/my/filings/new", "/my/filings/new", **fields)
    assert answer.status_code == 422
    page = answer.text
    for field_id in ("person-in-charge-id-number", "person-in-charge-mobile", "outlet-brands"):
        assert f'id="f-{field_id}-error"' in page, field_id
    assert 'aria-describedby="f-person-in-charge-mobile-error"' in page
    assert input_value(page, "outlet.name") == "八步区贺街镇快递服务站"
    assert input_value(page, "person_in_charge.id_number") == "451102198506121234"
    assert input_value(page, "outlet.floor_area_m2") == "45.5"
    assert 'value="ZTO"' in page and 'value="collect" checked' in page
    mine = select(Filing).where(Filing.enterprise_id == user.enterprise_id)
    assert session.exec(mine).all() == []

    # Shape right, rules wrong: the service's error (township not in the county) is shown too.
    fields = form_fields(**{"outlet.township_code": "451121100"})
    answer = post_form(pages, "/my/filings/new", "/my/filings/new", **fields)
    assert answer.status_code == 422
    assert 'id="f-outlet-township-code-error"' in answer.text
    assert "乡镇（街道）不属于所选区县" in answer.text


def test_saving_a_draft_creates_it_and_the_page_lists_what_is_missing(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    log_in(pages, user)
    answer = post_form(pages, "/my/filings/new", "/my/filings/new", **form_fields())
    assert answer.status_code == 303
    url = answer.headers["location"].split("?")[0]
    page = pages.get(url).text
    assert "已保存" not in page  # the notice belongs to the redirect only
    page = pages.get(answer.headers["location"]).text
    assert "已保存" in page and "提交备案" in page and "文件类别" in page and "选择文件" in page
    for label in ("营业执照", "负责人身份证明", "场所照片"):
        assert f"<li>{label}</li>" in page
    filing = session.exec(select(Filing).where(Filing.enterprise_id == user.enterprise_id)).one()
    rev = session.get(FilingRevision, filing.open_revision_id)
    assert rev is not None and rev.outlet["brands"] == ["SF", "ZTO"] and rev.outlet["has_cctv"]

    # Editing: a cleared required field is refused, the old value is not silently kept.
    edit = post_form(pages, url, url, **form_fields(**{"outlet.name": ""}))
    assert edit.status_code == 422 and 'id="f-outlet-name-error"' in edit.text
    edit = post_form(pages, url, url, **form_fields(**{"outlet.name": "贺街新站"}))
    assert edit.status_code == 303
    session.refresh(rev)
    assert rev.outlet_name == "贺街新站"

    # Submitting without the documents: every missing one is named.
    submit = post_form(pages, f"{url}/submit", url)
    assert submit.status_code == 422 and "缺少必需的文件：营业执照" in submit.text


def test_another_enterprises_filing_is_a_404_page(pages: TestClient, session: Session) -> None:
    owner = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = filed_via_services(session, owner, reviewer)
    document = session.exec(
        select(Document).where(Document.revision_id == filing.current_revision_id)
    ).first()
    assert document is not None  # a document of the other enterprise's filing
    receipt_no = f"{filing.filing_no}-R1"
    me = an_operator(session)
    own = draft_via_services(session, me)
    log_in(pages, me)
    own_page = f"/my/filings/{pk(own)}"
    for url in (
        f"/my/filings/{pk(filing)}",
        f"/my/filings/{pk(filing)}/documents/{pk(document)}",
        f"{own_page}/documents/{pk(document)}",  # a foreign document under the own filing
        f"/my/receipts/{receipt_no}/pdf",
    ):
        answer = pages.get(url)
        assert answer.status_code == 404 and "页面不存在" in answer.text, url
    for action in ("", "/submit", "/changes", "/closure", f"/documents/{pk(document)}/delete"):
        answer = post_form(pages, f"/my/filings/{pk(filing)}{action}", own_page)
        assert answer.status_code == 404, action
    # The own filing's delete form (its token and version) with the foreign document's id.
    answer = post_form(pages, f"{own_page}/documents/{pk(document)}/delete", own_page)
    assert answer.status_code == 404 and "页面不存在" in answer.text
    assert session.get(Document, pk(document)) is not None
    upload = pages.post(
        f"/my/filings/{pk(filing)}/documents",
        data={"csrf_token": csrf_of(pages.get(own_page).text), "kind": "other"},
        files={"file": ("a.pdf", sample_pdf(), "application/pdf")},
    )
    assert upload.status_code == 404
    assert session.get(Filing, pk(filing)).status == FilingStatus.FILED  # type: ignore[union-attr]  # it exists


def test_every_form_refuses_a_missing_or_wrong_csrf_token(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    draft = draft_via_services(session, user)
    document = session.exec(
        select(Document).where(Document.revision_id == draft.open_revision_id)
    ).first()
    assert document is not None
    log_in(pages, user)
    pages.get("/my/filings")
    base = f"/my/filings/{pk(draft)}"
    for url in (
        "/my/filings/new",
        base,
        f"{base}/submit",
        f"{base}/changes",
        f"{base}/closure",
        f"{base}/documents/{pk(document)}/delete",
    ):
        version = {"version": str(draft.version)}
        for token in ({"csrf_token": "0" * 64}, {}):  # a wrong token, and none at all
            answer = pages.post(url, data={**token, **version, **form_fields()})
            assert answer.status_code == 403 and "表单已失效" in answer.text, (url, token)
    for token in ({"csrf_token": "0" * 64}, {}):
        upload = pages.post(
            f"{base}/documents",
            data={**token, "kind": "other"},
            files={"file": ("a.pdf", sample_pdf(), "application/pdf")},
        )
        assert upload.status_code == 403 and "表单已失效" in upload.text, token
    session.refresh(draft)
    assert draft.status == FilingStatus.DRAFT
    kinds = session.exec(
        select(Document.kind).where(Document.revision_id == draft.open_revision_id)
    ).all()
    assert sorted(kinds) == ["business_licence", "id_document", "premises_photo"]


def test_an_upload_is_judged_by_its_content(pages: TestClient, session: Session) -> None:
    user = an_operator(session)
    draft = draft_via_services(session, user)
    log_in(pages, user)
    url = f"/my/filings/{pk(draft)}"

    def upload(kind: str, name: str, content: bytes) -> httpx.Response:
        return pages.post(
            f"{url}/documents",
            data={"csrf_token": csrf_of(pages.get(url).text), "kind": kind},
            files={"file": (name, content, "image/png")},
            follow_redirects=False,
        )

    refused = upload("premises_photo", "photo.png", b"just some text, not a picture")
    assert refused.status_code == 415
    assert 'id="doc-file-error"' in refused.text and "只接受 PDF、JPEG 或 PNG" in refused.text
    assert '<option value="premises_photo" selected>' in refused.text  # the kind is kept
    no_kind = upload("", "photo.png", sample_png())
    assert no_kind.status_code == 422 and "请选择文件类别" in no_kind.text

    accepted = upload("other", "shop.png", sample_png())
    assert accepted.status_code == 303
    page = pages.get(url).text
    stored = session.exec(
        select(Document).where(
            Document.revision_id == draft.open_revision_id, Document.kind == "other"
        )
    ).one()
    image = pages.get(f"{url}/documents/{pk(stored)}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert f'<img class="preview" src="{url}/documents/{pk(stored)}"' in page
    deleted = post_form(pages, f"{url}/documents/{pk(stored)}/delete", url)
    assert deleted.status_code == 303
    assert session.get(Document, pk(stored)) is None


def test_a_returned_filing_shows_every_correction_next_to_its_field_or_document(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = submitted_via_services(session, user)
    corrections = [
        {"field": "outlet.address", "reason": "门牌号与营业执照不符"},
        {"field": "person_in_charge.mobile", "reason": "手机号无法接通"},
        {"document": "premises_photo", "reason": "照片看不清门头"},
    ]
    actions.return_for_correction(session, filing, reviewer=reviewer, corrections=corrections)
    log_in(pages, user)
    listing = pages.get("/my/filings").text
    assert "按补正意见修改后重新提交" in listing and "未读" in listing
    page = pages.get(f"/my/filings/{pk(filing)}").text
    assert 'id="f-outlet-address-correction"><p>补正意见：门牌号与营业执照不符' in page
    assert 'aria-describedby="f-outlet-address-correction"' in page
    assert 'id="f-person-in-charge-mobile-correction"><p>补正意见：手机号无法接通' in page
    assert "补正意见（场所照片）：照片看不清门头" in page
    assert "保存草稿" in page and "提交备案" in page


def test_the_list_puts_returned_filings_first_and_says_what_to_do(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filed = filed_via_services(session, user, reviewer, name="已备案站")
    draft_via_services(session, user, name="草稿站")
    returned = submitted_via_services(session, user, name="退回站")
    actions.return_for_correction(
        session, returned, reviewer=reviewer, corrections=[{"field": "outlet.name", "reason": "x"}]
    )
    submitted_via_services(session, user, name="待审站")
    log_in(pages, user)
    page = pages.get("/my/filings").text
    order = [page.index(name) for name in ("退回站", "草稿站", "待审站", "已备案站")]
    assert order == sorted(order)
    for step in ("按补正意见修改后重新提交", "补全资料并提交", "等待审核", "下载回执"):
        assert step in page
    assert f"/my/receipts/{filed.filing_no}-R1/pdf" in page
    assert "审核期限" in page

    notice = session.exec(select(Notification).where(Notification.user_id == user.id)).first()
    assert notice is not None and notice.read_at is None
    read = post_form(pages, f"/my/notifications/{pk(notice)}/read", "/my/filings")
    assert read.status_code == 303
    session.refresh(notice)
    assert notice.read_at is not None


def test_a_filed_outlet_offers_its_receipt_a_change_and_a_closure(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = filed_via_services(session, user, reviewer)
    log_in(pages, user)
    url = f"/my/filings/{pk(filing)}"
    page = pages.get(url).text
    receipt_no = f"{filing.filing_no}-R1"
    expected = ("下载回执", f"/verify/{receipt_no}", "申请变更", "变更日期", "停业日期", "停业原因")
    for text in expected:
        assert text in page, text
    assert "快递业务经营许可" in page
    pdf = pages.get(f"/my/receipts/{receipt_no}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    future = post_form(pages, f"{url}/changes", url, changed_on="2999-01-01")
    assert future.status_code == 422 and "变更日期不能晚于今天" in future.text
    assert 'value="2999-01-01"' in future.text
    opened = post_form(pages, f"{url}/changes", url, changed_on="2026-11-25")
    assert opened.status_code == 303
    page = pages.get(url).text
    assert input_value(page, "changed_on") == "2026-11-25" and "变更内容" in page
    # A save the service refuses (township outside the county) keeps nothing of it, not even
    # the new 变更日期 it had already taken, and shows what was typed.
    fields = form_fields(changed_on="2026-11-27", **{"outlet.township_code": "451121100"})
    refused = post_form(pages, url, url, **fields)
    assert refused.status_code == 422 and 'id="f-outlet-township-code-error"' in refused.text
    assert input_value(refused.text, "changed_on") == "2026-11-27"
    session.refresh(filing)
    change = session.get(FilingRevision, filing.open_revision_id)
    assert change is not None and str(change.changed_on) == "2026-11-25"
    edit = post_form(pages, url, url, **form_fields(changed_on="2026-11-26"))
    assert edit.status_code == 303
    session.refresh(filing)
    change = session.get(FilingRevision, filing.open_revision_id)
    assert change is not None and change.status == RevisionStatus.DRAFT
    assert str(change.changed_on) == "2026-11-26" and change.outlet["brands"] == ["SF", "ZTO"]

    reasonless = post_form(pages, f"{url}/closure", url, closed_on="2026-11-28", reason="")
    assert reasonless.status_code == 422 and 'id="close-reason-error"' in reasonless.text
    assert 'value="2026-11-28"' in reasonless.text
    closed = post_form(pages, f"{url}/closure", url, closed_on="2026-11-28", reason="租约到期")
    assert closed.status_code == 303
    session.refresh(filing)
    assert filing.status == FilingStatus.CLOSED
    assert "租约到期" in pages.get(url).text


# --- lost updates and double submits ------------------------------------------------------------

CONFLICT = "另一位用户已修改此备案"


def test_a_save_from_a_stale_page_is_refused_and_keeps_what_was_typed(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    draft = draft_via_services(session, user)
    log_in(pages, user)
    url = f"/my/filings/{pk(draft)}"
    stale = pages.get(url).text  # the form as shown in a first tab
    first = post_form(pages, url, url, **form_fields(**{"outlet.name": "另一个标签页的名称"}))
    assert first.status_code == 303  # someone else's save, from a fresh page
    sent = {"csrf_token": csrf_of(stale), "version": hidden_value(stale, "version")}
    answer = pages.post(url, data={**sent, **form_fields(**{"outlet.name": "过时的名称"})})
    assert answer.status_code == 409 and CONFLICT in answer.text
    assert input_value(answer.text, "outlet.name") == "过时的名称"  # what was typed is kept
    assert hidden_value(answer.text, "version") == str(draft.version)  # now the current one
    rev = session.get(FilingRevision, draft.open_revision_id)
    assert rev is not None and rev.outlet_name == "另一个标签页的名称"
    # A form without a version is refused the same way.
    missing = pages.post(url, data={"csrf_token": sent["csrf_token"], **form_fields()})
    assert missing.status_code == 409 and CONFLICT in missing.text


def test_submit_and_document_delete_from_a_stale_page_change_nothing(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    draft = draft_via_services(session, user)
    document = session.exec(
        select(Document).where(Document.revision_id == draft.open_revision_id)
    ).first()
    assert document is not None
    log_in(pages, user)
    url = f"/my/filings/{pk(draft)}"
    stale = {"csrf_token": csrf_of(pages.get(url).text), "version": str(draft.version)}
    assert post_form(pages, url, url, **form_fields()).status_code == 303  # a newer save
    for action in ("/submit", f"/documents/{pk(document)}/delete"):
        answer = pages.post(f"{url}{action}", data=stale)
        assert answer.status_code == 409 and CONFLICT in answer.text, action
    session.refresh(draft)
    assert draft.status == FilingStatus.DRAFT
    assert session.get(Document, pk(document)) is not None


def test_a_change_or_closure_from_a_stale_page_is_refused_with_what_was_typed(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = filed_via_services(session, user, reviewer)
    log_in(pages, user)
    url = f"/my/filings/{pk(filing)}"
    stale = {"csrf_token": csrf_of(pages.get(url).text), "version": str(filing.version)}
    filing.version += 1  # someone else's write in between (every write bumps the version)
    session.add(filing)
    session.flush()
    change = pages.post(f"{url}/changes", data={**stale, "changed_on": "2026-11-25"})
    assert change.status_code == 409 and CONFLICT in change.text
    assert 'value="2026-11-25"' in change.text
    closure = pages.post(
        f"{url}/closure", data={**stale, "closed_on": "2026-11-28", "reason": "租约到期"}
    )
    assert closure.status_code == 409 and CONFLICT in closure.text and "租约到期" in closure.text
    session.refresh(filing)
    assert filing.status == FilingStatus.FILED and filing.open_revision_id is None


def test_a_double_submitted_new_filing_form_creates_one_draft(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    log_in(pages, user)
    page = pages.get("/my/filings/new").text
    nonce = hidden_value(page, "form_nonce")
    assert nonce and hidden_value(pages.get("/my/filings/new").text, "form_nonce") != nonce
    sent = {"csrf_token": csrf_of(page), "form_nonce": nonce, **form_fields()}
    first = pages.post("/my/filings/new", data=sent, follow_redirects=False)
    second = pages.post("/my/filings/new", data=sent, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    mine = select(Filing).where(Filing.enterprise_id == user.enterprise_id)
    assert len(session.exec(mine).all()) == 1

    # A refused form keeps its nonce unused: corrected and sent again, it creates the draft.
    page = pages.get("/my/filings/new").text
    sent = {"csrf_token": csrf_of(page), "form_nonce": hidden_value(page, "form_nonce")}
    refused = pages.post("/my/filings/new", data={**sent, **form_fields(**{"outlet.name": ""})})
    assert refused.status_code == 422
    assert hidden_value(refused.text, "form_nonce") == sent["form_nonce"]
    again = pages.post("/my/filings/new", data={**sent, **form_fields()}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] != first.headers["location"]
    assert len(session.exec(mine).all()) == 2


# --- the same rules as the API -------------------------------------------------------------------


def test_a_change_may_be_opened_before_its_date_is_known_as_in_the_api(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = filed_via_services(session, user, reviewer)
    log_in(pages, user)
    url = f"/my/filings/{pk(filing)}"
    opened = post_form(pages, f"{url}/changes", url, changed_on="")
    assert opened.status_code == 303
    session.refresh(filing)
    change = session.get(FilingRevision, filing.open_revision_id)
    assert change is not None and change.changed_on is None
    submit = post_form(pages, f"{url}/submit", url)  # the submit requires it (the service)
    assert submit.status_code == 422 and "提交变更前须填写变更日期" in submit.text


def test_the_pages_state_the_limits_the_rules_and_settings_enforce(
    pages: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.config import get_settings
    from services.filings import rules

    monkeypatch.setattr(rules, "FILING_DAYS", 15)
    monkeypatch.setattr(rules, "CHANGE_DAYS", 7)
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 5 * 1024 * 1024)
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    log_in(pages, user)
    assert "开办之日起 15 日内备案" in pages.get("/my/filings").text
    assert "开办之日起 15 日内备案" in pages.get("/my/filings/new").text
    draft = draft_via_services(session, user)
    page = pages.get(f"/my/filings/{pk(draft)}").text
    assert "每个不超过 5 MB" in page and f'data-max-bytes="{5 * 1024 * 1024}"' in page
    filed = filed_via_services(session, user, reviewer)
    assert "应自变更之日起 7 日内办理" in pages.get(f"/my/filings/{pk(filed)}").text


# --- one element per id ---------------------------------------------------------------------


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.described: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1
            if name == "aria-describedby" and value:
                self.described += value.split()


def repeated_ids(page: str) -> tuple[list[str], list[str]]:
    """(ids used more than once, aria-describedby targets that are missing)."""
    parser = _Ids()
    parser.feed(page)
    missing = [target for target in parser.described if parser.ids[target] == 0]
    return [name for name, count in parser.ids.items() if count > 1], missing


def test_two_messages_on_one_field_share_one_described_element(
    pages: TestClient, session: Session
) -> None:
    user = an_operator(session)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = submitted_via_services(session, user)
    corrections = [
        {"field": "outlet.address", "reason": "门牌号与营业执照不符"},
        {"field": "outlet.address", "reason": "请写明村名"},
    ]
    actions.return_for_correction(session, filing, reviewer=reviewer, corrections=corrections)
    log_in(pages, user)
    url = f"/my/filings/{pk(filing)}"
    page = pages.get(url).text
    assert "门牌号与营业执照不符" in page and "请写明村名" in page
    assert repeated_ids(page) == ([], [])
    # Two errors on one field (two unknown brands), next to the two corrections.
    fields = form_fields(**{"outlet.brands": ["NOPE1", "NOPE2"]})
    refused = post_form(pages, url, url, **fields)
    assert refused.status_code == 422
    assert "品牌 NOPE1 不在品牌目录中" in refused.text and "NOPE2" in refused.text
    assert repeated_ids(refused.text) == ([], [])


# --- uploads ---------------------------------------------------------------------------------


def test_an_upload_without_a_valid_token_is_refused_before_its_file_is_read(
    pages: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.config import get_settings
    from core.storage import get_storage
    from web import uploads

    user = an_operator(session)
    draft = draft_via_services(session, user)
    log_in(pages, user)
    url = f"/my/filings/{pk(draft)}"
    pages.get(url)
    spooled: list[object] = []

    class Spy(uploads.SpooledUpload):  # counts the spooled files
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            spooled.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(uploads, "SpooledUpload", Spy)
    store = Path(get_settings().data_dir)
    before = {path for path in store.rglob("*") if path.is_file()}
    content = sample_pdf() + f"% {pk(draft)} {user.username}\n".encode()  # not stored yet
    # A file past the size limit: refused for its token (403), not read on to the limit (413).
    too_big = b"%PDF-1.4\n" + b"0" * (get_settings().max_upload_bytes + 1024)
    for token, file in (("0" * 64, content), ("", content), ("0" * 64, too_big)):
        answer = pages.post(
            f"{url}/documents",
            data={"csrf_token": token, "kind": "other"} if token else {"kind": "other"},
            files={"file": ("a.pdf", file, "application/pdf")},
        )
        assert answer.status_code == 403 and "表单已失效" in answer.text
    assert spooled == []  # not a byte of the file was written anywhere
    assert {path for path in store.rglob("*") if path.is_file()} == before
    assert not get_storage().exists(hashlib.sha256(content).hexdigest())
