"""Issue 11, rules that were too loose: a change's date, the receipt's statement, the address.

The clock is fixed at 2026-11-30 (Beijing) by `fixed_clock`.
"""

import io
import re
from datetime import datetime
from typing import Any

import pypdf
from fastapi.testclient import TestClient

from models.user import User
from tests.factories import auth, create_draft, filed_filing, filing_body, problem

# --- a change's date (changed_on) -----------------------------------------------------------


def _field_errors(response: Any) -> list[tuple[str, str]]:
    return [(item["field"], item["code"]) for item in response.json().get("errors", [])]


def test_change_opened_without_a_body_needs_changed_on_before_it_is_submitted(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    opened = client.post(f"/api/v1/filings/{fid}/changes", headers=auth(operator))
    assert opened.status_code == 201, opened.text
    assert opened.json()["change"]["changed_on"] is None

    refused = client.post(f"/api/v1/filings/{fid}/submit", headers=auth(operator))
    assert problem(refused) == (422, "validation_error")
    assert _field_errors(refused) == [("changed_on", "validation_error")]
    assert "变更日期" in refused.json()["errors"][0]["message"]
    shown = client.get(f"/api/v1/filings/{fid}", headers=auth(operator)).json()
    assert shown["change"]["status"] == "draft" and shown["change"]["submitted_at"] is None

    # 11-19 → 11-30 is 11 days: the change is late, counted from the date given by PATCH.
    dated = client.patch(
        f"/api/v1/filings/{fid}", json={"changed_on": "2026-11-19"}, headers=auth(operator)
    )
    assert dated.status_code == 200, dated.text
    assert dated.json()["change"]["changed_on"] == "2026-11-19"
    submitted = client.post(f"/api/v1/filings/{fid}/submit", headers=auth(operator))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["change"]["status"] == "submitted"
    assert submitted.json()["change"]["late"] is True


def test_changed_on_set_by_patch_on_the_10th_day_is_not_late(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    assert (
        client.post(
            f"/api/v1/filings/{fid}/changes", json={"reason": "负责人变更"}, headers=auth(operator)
        ).status_code
        == 201
    )
    patched = client.patch(
        f"/api/v1/filings/{fid}",
        json={"changed_on": "2026-11-20", "outlet": {"name": "贺街镇快递综合服务站"}},
        headers=auth(operator),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["change"]["outlet"]["name"] == "贺街镇快递综合服务站"
    submitted = client.post(f"/api/v1/filings/{fid}/submit", headers=auth(operator))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["change"]["late"] is False


def test_changed_on_in_the_future_or_on_a_first_filing_is_refused(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    client.post(f"/api/v1/filings/{fid}/changes", json={}, headers=auth(operator))
    future = client.patch(
        f"/api/v1/filings/{fid}", json={"changed_on": "2026-12-01"}, headers=auth(operator)
    )
    assert problem(future)[0] == 422
    assert _field_errors(future) == [("changed_on", "future_date")]
    shown = client.get(f"/api/v1/filings/{fid}", headers=auth(operator)).json()
    assert shown["change"]["changed_on"] is None

    draft = create_draft(client, operator)
    first = client.patch(
        f"/api/v1/filings/{draft['id']}", json={"changed_on": "2026-11-20"}, headers=auth(operator)
    )
    assert problem(first) == (422, "validation_error")
    assert _field_errors(first) == [("changed_on", "validation_error")]


# --- the receipt's statement names the outlet's scope ------------------------------------


def _pdf_text(client: TestClient, user: User, receipt_no: str) -> str:
    response = client.get(f"/api/v1/receipts/{receipt_no}/pdf", headers=auth(user))
    assert response.status_code == 200, response.text
    text = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    return re.sub(r"\s+", "", text)


def test_receipt_statement_of_a_deliver_only_outlet_names_only_delivery(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filing = filed_filing(client, operator, reviewer, scope=["deliver"])
    text = _pdf_text(client, operator, filing["receipt_no"])
    assert "不办理营业执照" in text
    assert "从事快递末端网点投递服务" in text
    assert "收寄" not in text


def test_receipt_statement_names_collection_or_both(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    collect = filed_filing(client, operator, reviewer, scope=["collect"])
    text = _pdf_text(client, operator, collect["receipt_no"])
    assert "从事快递末端网点收寄服务" in text and "投递" not in text
    both = filed_filing(client, operator, reviewer, scope=["deliver", "collect"])
    assert "从事快递末端网点收寄、投递服务" in _pdf_text(client, operator, both["receipt_no"])


# --- the address is the street part ------------------------------------------------------


def test_leading_division_names_that_repeat_the_chosen_codes_are_removed(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    for given in (
        "贺州市八步区贺街镇河东街 12 号",
        "广西壮族自治区贺州市八步区贺街镇河东街 12 号",
        "八步区 贺街镇 河东街 12 号",
        "贺街镇河东街 12 号",
    ):
        draft = create_draft(client, operator, address=given)
        assert draft["outlet"]["address"] == "河东街 12 号", given
    # Only the street: kept as it is; another township's name is not the chosen one's.
    assert create_draft(client, operator, address="河东街 12 号")["outlet"]["address"] == (
        "河东街 12 号"
    )
    other = create_draft(client, operator, address="莲塘镇路 3 号")
    assert other["outlet"]["address"] == "莲塘镇路 3 号"


def test_address_edited_with_division_names_keeps_the_street_part(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    draft = create_draft(client, operator)
    patched = client.patch(
        f"/api/v1/filings/{draft['id']}",
        json={"outlet": {"address": "贺州市八步区贺街镇河西街 3 号"}},
        headers=auth(operator),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["outlet"]["address"] == "河西街 3 号"


def test_address_of_only_division_names_is_refused(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = client.post(
        "/api/v1/filings",
        json=filing_body(address="贺州市八步区贺街镇"),
        headers=auth(operator),
    )
    assert problem(response) == (422, "validation_error")
    assert _field_errors(response) == [("outlet.address", "validation_error")]


def test_verify_page_shows_the_divisions_once(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filing = filed_filing(client, operator, reviewer, address="贺州市八步区贺街镇河东街 12 号")
    assert filing["outlet"]["address"] == "河东街 12 号"
    page = client.get(f"/verify/{filing['receipt_no']}")
    assert page.status_code == 200
    assert "八步区贺街镇河东街 12 号" in page.text
    assert "贺街镇贺州市" not in page.text
    public = client.get(f"/api/v1/public/receipts/{filing['receipt_no']}").json()
    assert public["outlet"]["address"] == "河东街 12 号"
