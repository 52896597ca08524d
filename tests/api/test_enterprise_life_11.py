"""Issue 11 (B): an enterprise's life — rejection, the owner's corrections and resubmission,
licence data at registration and approval, contact edits and changes under review, receipts
reissued on a name change."""

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.enterprise import Enterprise
from models.user import User
from tests.factories import (
    PASSWORD,
    auth,
    filed_filing,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
    valid_uscc,
)

API = "/api/v1"


def registration(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "贺州市快递测试有限公司",
        "uscc": valid_uscc(4711),
        "licence_no": "桂邮20180012",
        "region_code": "451102",
        "is_branch": False,
        "contact_name": "李四",
        "contact_mobile": "13877401234",
        "username": "owner-11",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def login_headers(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def audit_actions(session: Session, enterprise_id: int) -> list[str]:
    rows = session.exec(
        select(AuditEntry).where(
            AuditEntry.entity == "enterprise", AuditEntry.entity_id == enterprise_id
        )
    ).all()
    return [row.action for row in rows]


def test_rejected_owner_sees_reason_corrects_and_resubmits(
    client: TestClient, session: Session
) -> None:
    created = client.post(f"{API}/enterprises/register", json=registration())
    assert created.status_code == 201
    enterprise_id = created.json()["id"]
    reviewer = make_staff(session, jurisdiction="451100")

    rejected = client.post(
        f"{API}/enterprises/{enterprise_id}/rejection",
        json={"reason": "营业执照名称与填报名称不一致"},
        headers=auth(reviewer),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_label"] == "已驳回"

    headers = login_headers(client, "owner-11")  # a rejected owner logs in
    me = client.get(f"{API}/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["is_owner"] is True
    mine = client.get(f"{API}/enterprises/{enterprise_id}", headers=headers)
    assert mine.status_code == 200
    assert mine.json()["rejection_reason"] == "营业执照名称与填报名称不一致"
    notices = client.get(f"{API}/notifications", headers=headers).json()["items"]
    assert [n["kind"] for n in notices] == ["enterprise_rejected"]
    assert "营业执照名称与填报名称不一致" in notices[0]["body"]

    corrected = client.patch(
        f"{API}/enterprises/{enterprise_id}",
        json={"name": "贺州市快递测试有限责任公司", "licence_no": "桂邮20180013"},
        headers=headers,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["name"] == "贺州市快递测试有限责任公司"
    assert corrected.json()["pending_change"] is None  # applied at once, not reviewed

    again = client.post(f"{API}/enterprises/{enterprise_id}/resubmission", headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending"
    twice = client.post(f"{API}/enterprises/{enterprise_id}/resubmission", headers=headers)
    assert problem(twice) == (409, "invalid_transition")

    approved = client.post(f"{API}/enterprises/{enterprise_id}/approve", headers=auth(reviewer))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    actions = audit_actions(session, enterprise_id)
    for action in ("enterprise.reject", "enterprise.correct", "enterprise.resubmit"):
        assert action in actions


def test_only_a_pending_registration_can_be_rejected(client: TestClient, session: Session) -> None:
    reviewer = make_staff(session, jurisdiction="451100")
    approved = make_enterprise(session)
    response = client.post(
        f"{API}/enterprises/{approved.id}/rejection", json={"reason": "x"}, headers=auth(reviewer)
    )
    assert problem(response) == (409, "invalid_transition")
    operator = operator_of(session, make_enterprise(session, approved=False))
    refused = client.post(
        f"{API}/enterprises/{operator.enterprise_id}/rejection",
        json={"reason": "x"},
        headers=auth(operator),
    )
    assert refused.status_code == 403


def test_unapproved_owner_may_do_nothing_else(client: TestClient, session: Session) -> None:
    enterprise = make_enterprise(session, approved=False)
    other = make_enterprise(session, approved=False)
    headers = auth(operator_of(session, enterprise))
    for method, path in (
        ("get", "/filings"),
        ("post", "/filings"),
        ("get", "/receipts/451102-2026-000001-R1"),
    ):
        response = client.request(method, f"{API}{path}", headers=headers, json={})
        assert problem(response) == (403, "enterprise_not_approved"), path
    assert client.get(f"{API}/enterprises/{other.id}", headers=headers).status_code == 404
    assert client.get(f"{API}/enterprises", headers=headers).status_code == 403


def test_registration_takes_licence_data_and_contact_email(
    client: TestClient, session: Session
) -> None:
    created = client.post(
        f"{API}/enterprises/register",
        json=registration(
            contact_email="owner@example.com",
            licence_valid_from="2024-01-01",
            licence_valid_until="2029-12-31",
            licence_regions=["451102", "451103"],
        ),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["licence_regions"] == ["451102", "451103"]
    assert body["licence_valid_until"] == "2029-12-31"
    owner = session.exec(select(User).where(User.username == "owner-11")).one()
    assert owner.email == "owner@example.com"


def test_registration_without_licence_area_is_licensed_for_its_city(client: TestClient) -> None:
    created = client.post(f"{API}/enterprises/register", json=registration())
    assert created.json()["licence_regions"] == ["451100"]
    assert created.json()["licence_valid_until"] is None


def test_unknown_licence_region_is_refused(client: TestClient) -> None:
    response = client.post(
        f"{API}/enterprises/register", json=registration(licence_regions=["451199"])
    )
    assert problem(response) == (422, "unknown_region")
    assert response.json()["errors"][0]["field"] == "licence_regions.0"
    reversed_dates = client.post(
        f"{API}/enterprises/register",
        json=registration(licence_valid_from="2030-01-01", licence_valid_until="2029-01-01"),
    )
    assert reversed_dates.status_code == 422


def test_approval_fills_the_licence_validity(client: TestClient, session: Session) -> None:
    enterprise = make_enterprise(session, approved=False)
    reviewer = make_staff(session, jurisdiction="451100")
    response = client.post(
        f"{API}/enterprises/{enterprise.id}/approve",
        json={"licence_valid_from": "2023-05-01", "licence_valid_until": "2028-04-30"},
        headers=auth(reviewer),
    )
    assert response.status_code == 200, response.text
    assert response.json()["licence_valid_until"] == "2028-04-30"
    assert response.json()["licence_valid_from"] == "2023-05-01"


def test_approved_owner_edits_contact_at_once_and_other_fields_go_to_review(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session)
    headers = auth(operator_of(session, enterprise))
    response = client.patch(
        f"{API}/enterprises/{enterprise.id}",
        json={"contact_name": "赵六", "contact_email": "zhao@example.com", "licence_no": "桂邮1"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contact_name"] == "赵六" and body["contact_email"] == "zhao@example.com"
    assert body["licence_no"] != "桂邮1"
    assert body["pending_change"]["fields"] == {"licence_no": "桂邮1"}
    second = client.patch(
        f"{API}/enterprises/{enterprise.id}", json={"name": "新名"}, headers=headers
    )
    assert problem(second) == (409, "change_pending")
    reviewer = make_staff(session, jurisdiction="451100")
    refused = client.post(
        f"{API}/enterprises/{enterprise.id}/change-review",
        json={"decision": "reject", "reason": "许可证编号与证书不符"},
        headers=auth(reviewer),
    )
    assert refused.status_code == 200
    assert refused.json()["pending_change"] is None
    assert refused.json()["licence_no"] != "桂邮1"
    none_open = client.post(
        f"{API}/enterprises/{enterprise.id}/change-review",
        json={"decision": "accept"},
        headers=auth(reviewer),
    )
    assert problem(none_open) == (409, "invalid_transition")
    actions = audit_actions(session, enterprise.id or 0)
    assert "enterprise.contact_update" in actions
    assert "enterprise.change_requested" in actions
    assert "enterprise.change_rejected" in actions


def test_a_non_owner_account_cannot_edit_the_enterprise(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session)
    owner = operator_of(session, enterprise)
    owner.is_owner = False
    session.add(owner)
    session.flush()
    response = client.patch(
        f"{API}/enterprises/{enterprise.id}", json={"contact_name": "赵六"}, headers=auth(owner)
    )
    assert response.status_code == 403


def test_accepted_name_change_reissues_each_receipt_in_force(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session)
    operator = operator_of(session, enterprise)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = filed_filing(client, operator, reviewer)
    old_receipt = filing["receipt_no"]

    asked = client.patch(
        f"{API}/enterprises/{enterprise.id}",
        json={"name": "贺州新名快递有限公司"},
        headers=auth(operator),
    )
    assert asked.status_code == 200 and asked.json()["name"] != "贺州新名快递有限公司"
    accepted = client.post(
        f"{API}/enterprises/{enterprise.id}/change-review",
        json={"decision": "accept"},
        headers=auth(reviewer),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["name"] == "贺州新名快递有限公司"

    now = client.get(f"{API}/filings/{filing['id']}", headers=auth(operator)).json()
    assert now["revision"] == filing["revision"] + 1
    assert now["receipt_no"] != old_receipt
    new_check = client.get(f"{API}/public/receipts/{now['receipt_no']}").json()
    assert new_check["status"] == "valid"
    assert new_check["operator"]["name"] == "贺州新名快递有限公司"
    old_check = client.get(f"{API}/public/receipts/{old_receipt}").json()
    assert old_check["status"] == "superseded"
    assert old_check["current_receipt_no"] == now["receipt_no"]
    history = client.get(f"{API}/filings/{filing['id']}/history", headers=auth(operator)).json()
    assert history[-1]["action"] == "reissue"
    assert session.get(Enterprise, enterprise.id) is not None


# --- review findings (F2) ---------------------------------------------------------------------


def _request_and_accept(
    client: TestClient, enterprise_id: int, owner: User, reviewer: User, **fields: object
) -> Any:
    asked = client.patch(f"{API}/enterprises/{enterprise_id}", json=fields, headers=auth(owner))
    assert asked.status_code == 200, asked.text
    return client.post(
        f"{API}/enterprises/{enterprise_id}/change-review",
        json={"decision": "accept"},
        headers=auth(reviewer),
    )


def test_accepted_uscc_change_reissues_receipts_with_the_new_uscc(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session)
    operator = operator_of(session, enterprise)
    reviewer = make_staff(session, jurisdiction="451100")
    filing = filed_filing(client, operator, reviewer)
    new_uscc = valid_uscc(4799)

    accepted = _request_and_accept(client, enterprise.id or 0, operator, reviewer, uscc=new_uscc)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["uscc"] == new_uscc

    now = client.get(f"{API}/filings/{filing['id']}", headers=auth(operator)).json()
    assert now["receipt_no"] != filing["receipt_no"]
    check = client.get(f"{API}/public/receipts/{now['receipt_no']}").json()
    assert check["status"] == "valid"
    assert check["operator"]["uscc"] == new_uscc
    old = client.get(f"{API}/public/receipts/{filing['receipt_no']}").json()
    assert old["status"] == "superseded"


def test_a_nul_in_the_contact_email_is_422(client: TestClient, session: Session) -> None:
    registered = client.post(
        f"{API}/enterprises/register", json=registration(contact_email="a\x00b@example.com")
    )
    assert problem(registered) == (422, "validation_error")
    assert session.exec(select(User).where(User.username == "owner-11")).first() is None
    enterprise = make_enterprise(session)
    edited = client.patch(
        f"{API}/enterprises/{enterprise.id}",
        json={"contact_email": "zhao\u202e@example.com"},
        headers=auth(operator_of(session, enterprise)),
    )
    assert problem(edited) == (422, "validation_error")


def test_a_pending_registration_cannot_be_changed_under_the_reviewer(
    client: TestClient, session: Session
) -> None:
    created = client.post(f"{API}/enterprises/register", json=registration())
    enterprise_id = created.json()["id"]
    headers = login_headers(client, "owner-11")
    response = client.patch(
        f"{API}/enterprises/{enterprise_id}", json={"name": "另一个名称"}, headers=headers
    )
    assert problem(response) == (409, "invalid_transition")
    assert "等待审核期间不能修改" in response.json()["detail"]
    contact = client.patch(
        f"{API}/enterprises/{enterprise_id}", json={"contact_name": "王五"}, headers=headers
    )
    assert problem(contact) == (409, "invalid_transition")
    shown = client.get(f"{API}/enterprises/{enterprise_id}", headers=headers).json()
    assert shown["name"] == registration()["name"] and shown["contact_name"] == "李四"


def test_a_reviewer_cannot_license_regions_outside_its_jurisdiction(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session, approved=False)
    district = make_staff(session, jurisdiction="451102")
    response = client.post(
        f"{API}/enterprises/{enterprise.id}/approve",
        json={"licence_regions": ["450000"]},
        headers=auth(district),
    )
    assert problem(response) == (403, "outside_jurisdiction")
    session.refresh(enterprise)
    assert enterprise.status == "pending" and enterprise.licence_regions == ["451100"]
    inside = client.post(
        f"{API}/enterprises/{enterprise.id}/approve",
        json={"licence_regions": ["451102"]},
        headers=auth(district),
    )
    assert inside.status_code == 200, inside.text

    owner = operator_of(session, enterprise)
    widened = _request_and_accept(
        client, enterprise.id or 0, owner, district, licence_regions=["451100"]
    )
    assert problem(widened) == (403, "outside_jurisdiction")
    session.refresh(enterprise)
    assert enterprise.licence_regions == ["451102"] and enterprise.pending_change is not None


def test_a_reissuing_change_needs_a_reviewer_covering_every_filed_county(
    client: TestClient, session: Session
) -> None:
    enterprise = make_enterprise(session)
    operator = operator_of(session, enterprise)
    city = make_staff(session, jurisdiction="451100")
    elsewhere = filed_filing(
        client,
        operator,
        city,
        county_code="451103",
        township_code="451103101",
        address="黄田镇 1 号",
    )
    district = make_staff(session, jurisdiction="451102")
    response = _request_and_accept(
        client, enterprise.id or 0, operator, district, name="贺州新名快递有限公司"
    )
    assert problem(response) == (403, "outside_jurisdiction")
    assert response.json()["counties"] == ["451103"]
    now = client.get(f"{API}/filings/{elsewhere['id']}", headers=auth(operator)).json()
    assert now["receipt_no"] == elsewhere["receipt_no"]
    session.refresh(enterprise)
    assert enterprise.name != "贺州新名快递有限公司" and enterprise.pending_change is not None
    by_city = client.post(
        f"{API}/enterprises/{enterprise.id}/change-review",
        json={"decision": "accept"},
        headers=auth(city),
    )
    assert by_city.status_code == 200, by_city.text


def _audit_data(session: Session, enterprise_id: int, action: str) -> dict[str, Any]:
    row = session.exec(
        select(AuditEntry).where(
            AuditEntry.entity == "enterprise",
            AuditEntry.entity_id == enterprise_id,
            AuditEntry.action == action,
        )
    ).one()
    found: dict[str, Any] = json.loads(row.data)
    return found


def test_the_audit_chain_keeps_field_names_not_personal_values(
    client: TestClient, session: Session
) -> None:
    created = client.post(
        f"{API}/enterprises/register", json=registration(contact_email="li@example.com")
    )
    enterprise_id = created.json()["id"]
    registered = _audit_data(session, enterprise_id, "enterprise.register")
    assert "owner-11" not in str(registered) and "13877401234" not in str(registered)
    assert registered["uscc"] == registration()["uscc"] and "owner_id" in registered

    enterprise = make_enterprise(session)
    edited = client.patch(
        f"{API}/enterprises/{enterprise.id}",
        json={"contact_name": "赵六", "contact_mobile": "13977405678"},
        headers=auth(operator_of(session, enterprise)),
    )
    assert edited.status_code == 200, edited.text
    data = _audit_data(session, enterprise.id or 0, "enterprise.contact_update")
    assert data == {"contact_fields": ["contact_mobile", "contact_name"]}
