"""Audit entries for every administrative change, read inside the admin's jurisdiction, and
city-wide reference data changed by city-level admins only (issue #10 item 9, SPEC §2)."""

import hashlib
import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from models.audit import AuditEntry
from models.brand import Brand
from models.inspection import InspectionItem
from models.user import User
from services.oversight import audit
from tests.factories import (
    PASSWORD,
    auth,
    filed_via_services,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
    valid_uscc,
)

CITY, BABU, ZHAOPING = "451100", "451102", "451121"


def _entries(client: TestClient, admin: User, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={"limit": "500", **params}, headers=auth(admin))
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def _actions(client: TestClient, admin: User, entity: str, entity_id: object) -> list[str]:
    """The entity's audited actions, oldest first."""
    found = _entries(client, admin, entity=entity, entity_id=str(entity_id))
    return [entry["action"] for entry in reversed(found)]


# --- what is audited -------------------------------------------------------------------------


def test_enterprise_registration_and_approval_are_audited(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    registered = client.post(
        "/api/v1/enterprises/register",
        json={
            "name": "贺州市审计测试快递有限公司",
            "uscc": valid_uscc(7301),
            "licence_no": "桂邮20257301",
            "region_code": BABU,
            "contact_name": "李四",
            "contact_mobile": "13877407301",
            "username": "audit-operator",
            "password": PASSWORD,
        },
    )
    assert registered.status_code == 201, registered.text
    enterprise_id = registered.json()["id"]
    reviewer = make_staff(session, role="reviewer", jurisdiction=BABU)
    approved = client.post(f"/api/v1/enterprises/{enterprise_id}/approve", headers=auth(reviewer))
    assert approved.status_code == 200, approved.text
    county_admin = make_staff(session, role="admin", jurisdiction=BABU)
    entries = _entries(client, county_admin, entity="enterprise", entity_id=str(enterprise_id))
    assert [e["action"] for e in reversed(entries)] == [
        "enterprise.register",
        "enterprise.approve",
    ]
    assert {e["region_code"] for e in entries} == {BABU}
    assert entries[0]["actor_id"] == reviewer.id
    registered = json.loads(entries[1]["data"])
    assert "username" not in registered and registered["owner_id"]  # ids, not personal data
    assert audit.verify(session).verified


def test_brand_changes_by_a_city_admin_are_audited(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    created = client.post(
        "/api/v1/brands", json={"code": "CAINIAO", "name": "菜鸟"}, headers=auth(admin)
    )
    assert created.status_code == 201, created.text
    updated = client.patch(
        "/api/v1/brands/CAINIAO", json={"name": "菜鸟驿站", "active": False}, headers=auth(admin)
    )
    assert updated.status_code == 200 and updated.json()["active"] is False
    entries = _entries(client, admin, entity="brand", entity_id="CAINIAO")
    assert [e["action"] for e in reversed(entries)] == ["brand.create", "brand.update"]
    assert json.loads(entries[0]["data"]) == {"name": "菜鸟驿站", "active": False}
    assert {e["region_code"] for e in entries} == {None}  # city-wide
    assert {e["actor_id"] for e in entries} == {admin.id}


def test_inspection_item_changes_by_a_city_admin_are_audited(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="450000")  # the province covers it
    created = client.post(
        "/api/v1/inspection-items",
        json={"code": "night_safety", "name": "夜间安全管理"},
        headers=auth(admin),
    )
    assert created.status_code == 201, created.text
    updated = client.patch(
        "/api/v1/inspection-items/night_safety", json={"active": False}, headers=auth(admin)
    )
    assert updated.status_code == 200 and updated.json()["active"] is False
    assert _actions(client, admin, "inspection_item", "night_safety") == [
        "inspection_item.create",
        "inspection_item.update",
    ]
    missing = client.patch(
        "/api/v1/inspection-items/no_such_item", json={"active": False}, headers=auth(admin)
    )
    assert problem(missing) == (404, "not_found")


def test_inspector_changes_are_audited_in_the_inspectors_jurisdiction(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    county_admin = make_staff(session, role="admin", jurisdiction=ZHAOPING)
    created = client.post(
        "/api/v1/inspectors",
        json={"name": "检查员甲", "certificate_no": "ZF-AUD-01", "jurisdiction": ZHAOPING},
        headers=auth(county_admin),
    )
    assert created.status_code == 201, created.text
    inspector_id = created.json()["id"]
    updated = client.patch(
        f"/api/v1/inspectors/{inspector_id}", json={"active": False}, headers=auth(county_admin)
    )
    assert updated.status_code == 200, updated.text
    entries = _entries(client, county_admin, entity="inspector", entity_id=str(inspector_id))
    assert [e["action"] for e in reversed(entries)] == ["inspector.create", "inspector.update"]
    assert {e["region_code"] for e in entries} == {ZHAOPING}


# --- city-wide reference data: city-level admins only -------------------------------------


def test_county_admin_cannot_change_brands_for_the_whole_city(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    county_admin = make_staff(session, role="admin", jurisdiction=BABU)
    deactivate = client.patch(
        "/api/v1/brands/SF", json={"active": False}, headers=auth(county_admin)
    )
    assert problem(deactivate) == (403, "outside_jurisdiction")
    create = client.post(
        "/api/v1/brands", json={"code": "LOCAL", "name": "本地快递"}, headers=auth(county_admin)
    )
    assert problem(create) == (403, "outside_jurisdiction")
    session.expire_all()
    sf = session.get(Brand, "SF")
    assert sf is not None and sf.active is True
    assert session.get(Brand, "LOCAL") is None
    assert session.exec(select(AuditEntry).where(AuditEntry.entity == "brand")).first() is None


def test_county_admin_cannot_change_inspection_items(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    county_admin = make_staff(session, role="admin", jurisdiction=BABU)
    existing = session.exec(select(InspectionItem)).first()
    assert existing is not None
    refused = client.patch(
        f"/api/v1/inspection-items/{existing.code}",
        json={"active": False},
        headers=auth(county_admin),
    )
    assert problem(refused) == (403, "outside_jurisdiction")
    create = client.post(
        "/api/v1/inspection-items",
        json={"code": "county_only", "name": "县级事项"},
        headers=auth(county_admin),
    )
    assert problem(create) == (403, "outside_jurisdiction")
    session.expire_all()
    item = session.get(InspectionItem, existing.code)
    assert item is not None and item.active is True
    assert session.get(InspectionItem, "county_only") is None


# --- reading the trail -----------------------------------------------------------------------


def test_county_admin_reads_only_its_countys_audit_entries(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    babu_operator = operator_of(session, make_enterprise(session, region_code=BABU))
    zhaoping_operator = operator_of(session, make_enterprise(session, region_code=ZHAOPING))
    babu_filing = filed_via_services(
        session, babu_operator, make_staff(session, role="reviewer", jurisdiction=BABU)
    )
    zhaoping_filing = filed_via_services(
        session,
        zhaoping_operator,
        make_staff(session, role="reviewer", jurisdiction=ZHAOPING),
        county_code=ZHAOPING,
        township_code="451121100",
        address="昭平镇河西路 1 号",
    )
    city_admin = make_staff(session, role="admin", jurisdiction=CITY)
    assert (
        client.post(
            "/api/v1/brands", json={"code": "SCOPE", "name": "范围"}, headers=auth(city_admin)
        ).status_code
        == 201
    )

    county_admin = make_staff(session, role="admin", jurisdiction=BABU)
    seen = _entries(client, county_admin)
    assert seen and {entry["region_code"] for entry in seen} == {BABU}
    filings = {entry["entity_id"] for entry in seen if entry["entity"] == "filing"}
    assert str(babu_filing.id) in filings
    assert str(zhaoping_filing.id) not in filings
    assert not [entry for entry in seen if entry["entity"] == "brand"]
    # Asking for another county's record by id finds nothing either.
    assert _entries(client, county_admin, entity="filing", entity_id=str(zhaoping_filing.id)) == []

    everything = _entries(client, city_admin)
    regions = {entry["region_code"] for entry in everything}
    assert {BABU, ZHAOPING, None} <= regions
    assert any(e["entity"] == "brand" and e["entity_id"] == "SCOPE" for e in everything)


def test_chain_verification_is_for_city_level_admins_only(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_via_services(session, operator, reviewer)
    county_admin = make_staff(session, role="admin", jurisdiction=BABU)
    refused = client.get("/api/v1/audit/verification", headers=auth(county_admin))
    assert problem(refused) == (403, "outside_jurisdiction")
    city_admin = make_staff(session, role="admin", jurisdiction=CITY)
    report = client.get("/api/v1/audit/verification", headers=auth(city_admin))
    assert report.status_code == 200 and report.json()["verified"] is True


# --- the region in the hash chain ------------------------------------------------------------


def test_an_entrys_region_is_part_of_its_hash(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_via_services(session, operator, reviewer)
    target = session.exec(
        select(AuditEntry).where(AuditEntry.region_code == BABU).order_by(col(AuditEntry.id))
    ).first()
    assert target is not None
    assert audit.verify(session).verified
    # Moving an entry into another county (to hide it from one admin) breaks the chain there.
    session.execute(
        text("UPDATE audit_entry SET region_code = :region WHERE id = :id"),
        {"region": ZHAOPING, "id": target.id},
    )
    session.expire_all()
    report = audit.verify(session)
    assert report.verified is False and report.first_broken_id == target.id


def test_an_entry_without_a_region_hashes_as_entries_always_have() -> None:
    entry = AuditEntry(
        id=1,
        at=datetime(2026, 1, 5, 1, 2, 3),
        actor_id=7,
        action="filing.accept",
        entity="filing",
        entity_id="12",
        data='{"to":"filed"}',
        prev_hash=audit.GENESIS_HASH,
        hash="",
    )
    before_regions = json.dumps(
        {
            "action": "filing.accept",
            "actor_id": 7,
            "at": "2026-01-05T01:02:03.000000+00:00",
            "data": {"to": "filed"},
            "entity": "filing",
            "entity_id": "12",
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    expected = hashlib.sha256((audit.GENESIS_HASH + before_regions).encode()).hexdigest()
    assert audit.entry_hash(entry) == expected
