"""The lifecycle through the API: draft, submit, return or accept, change, close, revoke, lapse."""

from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from models.user import User
from tests.factories import (
    auth,
    create_draft,
    filed_filing,
    filing_body,
    make_enterprise,
    make_staff,
    operator_of,
    sample_pdf,
    submitted_filing,
    upload,
    upload_required,
)


def test_operator_creates_a_draft(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    filing = create_draft(client, operator)
    assert filing["status"] == "draft"
    assert filing["revision"] == 1
    assert filing["filing_no"] is None
    assert filing["outlet"]["name"] == "八步区贺街镇快递服务站"


def test_submit_without_documents_lists_every_missing_kind(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = create_draft(client, operator)
    response = client.post(f"/api/v1/filings/{filing['id']}/submit", headers=auth(operator))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_documents"
    assert body["missing"] == ["business_licence", "id_document", "premises_photo"]
    assert (
        client.get(f"/api/v1/filings/{filing['id']}", headers=auth(operator)).json()["status"]
        == "draft"
    )


def test_cooperative_outlet_also_needs_the_cooperation_agreement(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    body = filing_body(type="cooperative")
    body["partner"] = {
        "name": "贺街镇便民超市",
        "id_number_or_uscc": "91451100MA5T000019",
        "mobile": "13877400001",
    }
    from tests.factories import valid_uscc

    body["partner"]["id_number_or_uscc"] = valid_uscc(777)
    created = client.post("/api/v1/filings", json=body, headers=auth(operator))
    assert created.status_code == 201, created.text
    filing_id = created.json()["id"]
    upload_required(client, filing_id, operator)
    response = client.post(f"/api/v1/filings/{filing_id}/submit", headers=auth(operator))
    assert response.json()["missing"] == ["cooperation_agreement"]


def test_branch_operator_needs_the_authorisation_letter(
    client: TestClient,
    session: Session,
    fixed_clock: datetime,
) -> None:
    branch_operator = operator_of(session, make_enterprise(session, is_branch=True))
    filing = create_draft(client, branch_operator)
    upload_required(client, filing["id"], branch_operator)
    response = client.post(f"/api/v1/filings/{filing['id']}/submit", headers=auth(branch_operator))
    assert response.json()["missing"] == ["authorisation_letter"]


def test_submission_sets_deadlines_on_working_days(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    # Submitted on Monday 2026-11-30: 5 working days → Monday 2026-12-07, 2 → Wednesday 12-02.
    filing = submitted_filing(client, operator)
    assert filing["status"] == "submitted"
    assert filing["review_due_on"] == "2026-12-07"
    assert filing["return_due_on"] == "2026-12-02"
    assert filing["late"] is False


def test_submission_on_the_20th_day_after_opening_is_not_late(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    # Opened 11-10, submitted 11-30: 20 days, the last day allowed.
    assert submitted_filing(client, operator, opened_on="2026-11-10")["late"] is False


def test_submission_on_the_21st_day_after_opening_is_late(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    # Opened 11-09, submitted 11-30: 21 days.
    assert submitted_filing(client, operator, opened_on="2026-11-09")["late"] is True


def test_accept_allocates_the_filing_and_receipt_numbers(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = filed_filing(client, operator, reviewer)
    assert filing["status"] == "filed"
    assert filing["filing_no"].startswith("451102-2026-")
    assert filing["receipt_no"] == f"{filing['filing_no']}-R1"


def test_serials_are_consecutive_per_county(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    numbers = [filed_filing(client, operator, reviewer)["filing_no"] for _ in range(3)]
    serials = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert serials == list(range(serials[0], serials[0] + 3))
    other_county = make_staff(session, role="reviewer", jurisdiction="451100")
    zhaoping = filed_filing(
        client, operator, other_county, county_code="451121", township_code="451121100"
    )
    assert zhaoping["filing_no"].startswith("451121-2026-")


def test_return_lists_every_correction_and_resubmission_is_accepted(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = submitted_filing(client, operator)
    corrections = [
        {"field": "outlet.address", "reason": "门牌号与营业执照不一致"},
        {"document": "premises_photo", "reason": "照片须能看清门头"},
    ]
    returned = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "return", "corrections": corrections},
        headers=auth(reviewer),
    )
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned"
    assert returned.json()["corrections"] == corrections
    patched = client.patch(
        f"/api/v1/filings/{filing['id']}",
        json={"outlet": {"address": "河东街 14 号"}},
        headers=auth(operator),
    )
    assert patched.json()["outlet"]["address"] == "河东街 14 号"
    resubmitted = client.post(f"/api/v1/filings/{filing['id']}/submit", headers=auth(operator))
    assert resubmitted.json()["status"] == "submitted"
    accepted = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "accept"},
        headers=auth(reviewer),
    )
    assert accepted.json()["status"] == "filed"
    assert accepted.json()["corrections"] == []


def test_return_without_corrections_is_refused(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = submitted_filing(client, operator)
    response = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "return", "corrections": []},
        headers=auth(reviewer),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    status = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(reviewer)).json()["status"]
    assert status == "submitted"


def test_change_keeps_the_revision_in_force_until_accepted(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = filed_filing(client, operator, reviewer)
    fid = filing["id"]
    opened = client.post(
        f"/api/v1/filings/{fid}/changes",
        json={"changed_on": "2026-11-25", "reason": "负责人变更"},
        headers=auth(operator),
    )
    assert opened.status_code == 201
    assert opened.json()["change"]["revision"] == 2
    assert len(opened.json()["change"]["documents"]) == 3
    client.patch(
        f"/api/v1/filings/{fid}",
        json={"outlet": {"name": "贺街镇快递综合服务站"}},
        headers=auth(operator),
    )
    during = client.post(f"/api/v1/filings/{fid}/submit", headers=auth(operator)).json()
    assert during["status"] == "filed"
    assert during["outlet"]["name"] == "八步区贺街镇快递服务站"
    assert during["receipt_no"].endswith("-R1")
    assert during["change"]["status"] == "submitted"
    after = client.post(
        f"/api/v1/filings/{fid}/review", json={"decision": "accept"}, headers=auth(reviewer)
    ).json()
    assert after["revision"] == 2
    assert after["outlet"]["name"] == "贺街镇快递综合服务站"
    assert after["receipt_no"] == f"{filing['filing_no']}-R2"
    assert after["change"] is None


def _submitted_change(
    client: TestClient, operator: User, reviewer: User, changed_on: str
) -> dict[str, Any]:
    """A filed filing's change that happened on `changed_on`, submitted today (2026-11-30)."""
    fid = filed_filing(client, operator, reviewer)["id"]
    opened = client.post(
        f"/api/v1/filings/{fid}/changes",
        json={"changed_on": changed_on, "reason": "负责人变更"},
        headers=auth(operator),
    )
    assert opened.status_code == 201, opened.text
    submitted = client.post(f"/api/v1/filings/{fid}/submit", headers=auth(operator))
    assert submitted.status_code == 200, submitted.text
    return submitted.json()["change"]


def test_change_submitted_on_the_10th_day_after_it_happened_is_not_late(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    # Changed 11-20, submitted 11-30: 10 days, the last day allowed.
    assert _submitted_change(client, operator, reviewer, "2026-11-20")["late"] is False


def test_change_submitted_on_the_11th_day_after_it_happened_is_late(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    # Changed 11-19, submitted 11-30: 11 days.
    assert _submitted_change(client, operator, reviewer, "2026-11-19")["late"] is True


def test_only_one_change_may_be_open(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    assert (
        client.post(f"/api/v1/filings/{fid}/changes", json={}, headers=auth(operator)).status_code
        == 201
    )
    second = client.post(f"/api/v1/filings/{fid}/changes", json={}, headers=auth(operator))
    assert second.status_code == 409
    assert second.json()["code"] == "invalid_transition"


def test_closure_by_the_operator(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    closed = client.post(
        f"/api/v1/filings/{fid}/closure",
        json={"closed_on": "2026-11-28", "reason": "租约到期"},
        headers=auth(operator),
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_on"] == "2026-11-28"


def test_revocation_by_a_covering_reviewer(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    revoked = client.post(
        f"/api/v1/filings/{fid}/revocation", json={"reason": "提交虚假材料"}, headers=auth(reviewer)
    )
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["end_reason"] == "提交虚假材料"


def test_licence_cancellation_lapses_every_filing_in_force(
    client: TestClient,
    session: Session,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    enterprise = make_enterprise(session, region_code="451102")
    operator = operator_of(session, enterprise)
    first = filed_filing(client, operator, reviewer)["id"]
    second = filed_filing(client, operator, reviewer)["id"]
    draft = create_draft(client, operator)["id"]
    response = client.post(
        f"/api/v1/enterprises/{enterprise.id}/licence-cancellation",
        json={"reason": "快递业务经营许可证被注销"},
        headers=auth(reviewer),
    )
    assert response.status_code == 200
    statuses = {
        fid: client.get(f"/api/v1/filings/{fid}", headers=auth(reviewer)).json()["status"]
        for fid in (first, second, draft)
    }
    assert statuses == {first: "lapsed", second: "lapsed", draft: "draft"}
    refused = client.post(f"/api/v1/filings/{draft}/submit", headers=auth(operator))
    assert refused.status_code == 409
    assert refused.json()["code"] == "licence_cancelled"


def test_history_records_every_event_with_actor_and_statuses(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    fid = filed_filing(client, operator, reviewer)["id"]
    events = client.get(f"/api/v1/filings/{fid}/history", headers=auth(operator)).json()
    actions = [event["action"] for event in events]
    assert actions == ["create", "document", "document", "document", "submit", "accept"]
    accept = events[-1]
    assert (accept["from_status"], accept["to_status"]) == ("submitted", "filed")
    assert accept["actor_id"] == reviewer.id
    assert accept["at"]


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ("draft", "review", {"decision": "accept"}),
        ("draft", "changes", {}),
        ("draft", "closure", {"closed_on": "2026-11-28", "reason": "x"}),
        ("draft", "revocation", {"reason": "x"}),
        ("submitted", "submit", None),
        ("submitted", "changes", {}),
        ("filed", "submit", None),
        ("filed", "review", {"decision": "accept"}),
        ("closed", "changes", {}),
        ("closed", "closure", {"closed_on": "2026-11-28", "reason": "x"}),
        ("closed", "revocation", {"reason": "x"}),
        ("revoked", "closure", {"closed_on": "2026-11-28", "reason": "x"}),
    ],
)
def test_illegal_transitions_are_409_and_change_nothing(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
    setup: str,
    action: str,
    body: dict[str, Any] | None,
) -> None:
    if setup == "draft":
        filing = create_draft(client, operator)
    elif setup == "submitted":
        filing = submitted_filing(client, operator)
    else:
        filing = filed_filing(client, operator, reviewer)
        if setup == "closed":
            client.post(
                f"/api/v1/filings/{filing['id']}/closure",
                json={"closed_on": "2026-11-28", "reason": "停业"},
                headers=auth(operator),
            )
        elif setup == "revoked":
            client.post(
                f"/api/v1/filings/{filing['id']}/revocation",
                json={"reason": "虚假"},
                headers=auth(reviewer),
            )
    before = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(reviewer)).json()
    actor = reviewer if action in ("review", "revocation") else operator
    response = client.post(
        f"/api/v1/filings/{filing['id']}/{action}", json=body, headers=auth(actor)
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "invalid_transition"
    after = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(reviewer)).json()
    assert after == before


def test_documents_cannot_be_added_while_submitted(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = submitted_filing(client, operator)
    response = upload(client, filing["id"], operator, "other", "x.pdf", sample_pdf())
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_opening_date_in_the_future_is_refused(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = client.post(
        "/api/v1/filings",
        json=filing_body(opened_on=date(2026, 12, 31).isoformat()),
        headers=auth(operator),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "future_date"
