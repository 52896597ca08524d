"""If-Match, Idempotency-Key, and the audit chain."""

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, func, select

from models.filing import Filing
from models.user import User
from services.oversight import audit
from tests.factories import (
    auth,
    create_draft,
    filed_filing,
    filing_body,
    make_staff,
    submitted_filing,
)


def test_reads_carry_an_etag_and_stale_if_match_is_412(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = create_draft(client, operator)
    url = f"/api/v1/filings/{filing['id']}"
    etag = client.get(url, headers=auth(operator)).headers["ETag"]
    first = client.patch(
        url, json={"outlet": {"name": "甲"}}, headers={**auth(operator), "If-Match": etag}
    )
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    stale = client.patch(
        url, json={"outlet": {"name": "乙"}}, headers={**auth(operator), "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_conflict"
    assert client.get(url, headers=auth(operator)).json()["outlet"]["name"] == "甲"


def test_review_with_stale_if_match_is_412(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    filing = submitted_filing(client, operator)
    response = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "accept"},
        headers={**auth(reviewer), "If-Match": '"1.1"'},
    )
    assert response.status_code == 412
    assert response.json()["code"] == "version_conflict"


def test_idempotent_retry_replays_and_does_not_duplicate(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    headers = {**auth(operator), "Idempotency-Key": "create-outlet-42"}
    before = session.exec(select(func.count()).select_from(Filing)).one()
    first = client.post("/api/v1/filings", json=filing_body(), headers=headers)
    second = client.post("/api/v1/filings", json=filing_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert session.exec(select(func.count()).select_from(Filing)).one() == before + 1


def test_replayed_create_repeats_the_location_and_etag_headers(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    headers = {**auth(operator), "Idempotency-Key": "create-outlet-43"}
    first = client.post("/api/v1/filings", json=filing_body(), headers=headers)
    replay = client.post("/api/v1/filings", json=filing_body(), headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    url = f"/api/v1/filings/{first.json()['id']}"
    assert first.headers["Location"].endswith(url)
    assert replay.headers["Location"] == first.headers["Location"]
    assert first.headers["ETag"] == client.get(url, headers=auth(operator)).headers["ETag"]
    assert replay.headers["ETag"] == first.headers["ETag"]


def test_replayed_accept_repeats_the_etag_header(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = submitted_filing(client, operator)
    url = f"/api/v1/filings/{filing['id']}"
    headers = {**auth(reviewer), "Idempotency-Key": "accept-43"}
    first = client.post(f"{url}/review", json={"decision": "accept"}, headers=headers)
    replay = client.post(f"{url}/review", json={"decision": "accept"}, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert first.headers["ETag"] == client.get(url, headers=auth(reviewer)).headers["ETag"]
    assert replay.headers["ETag"] == first.headers["ETag"]


def test_same_key_with_another_body_is_422(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    headers = {**auth(operator), "Idempotency-Key": "k-1"}
    assert client.post("/api/v1/filings", json=filing_body(), headers=headers).status_code == 201
    other = client.post("/api/v1/filings", json=filing_body(name="另一个网点"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_idempotent_accept_retry_returns_the_same_number(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    filing = submitted_filing(client, operator)
    headers = {**auth(reviewer), "Idempotency-Key": "accept-1"}
    url = f"/api/v1/filings/{filing['id']}/review"
    first = client.post(url, json={"decision": "accept"}, headers=headers)
    retry = client.post(url, json={"decision": "accept"}, headers=headers)
    assert retry.status_code == 200
    assert retry.json()["filing_no"] == first.json()["filing_no"]


def test_every_state_change_is_in_the_audit_chain(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    filing = filed_filing(client, operator, reviewer)
    entries = client.get(
        "/api/v1/audit",
        params={"entity": "filing", "entity_id": str(filing["id"])},
        headers=auth(make_staff(session, role="admin")),
    ).json()
    assert [entry["action"] for entry in reversed(entries)][-2:] == [
        "filing.submit",
        "filing.accept",
    ]
    assert audit.verify(session).verified


def test_audit_verification_finds_an_edited_row(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    filed_filing(client, operator, reviewer)
    admin = make_staff(session, role="admin")
    assert client.get("/api/v1/audit/verification", headers=auth(admin)).json()["verified"] is True
    target = session.execute(
        text("SELECT id FROM audit_entry ORDER BY id DESC LIMIT 1 OFFSET 2")
    ).scalar()
    session.execute(
        text("UPDATE audit_entry SET data = :data WHERE id = :id"),
        {"data": '{"to":"filed","forged":true}', "id": target},
    )
    report = client.get("/api/v1/audit/verification", headers=auth(admin)).json()
    assert report["verified"] is False
    assert report["first_broken_id"] == target


def test_audit_verification_finds_a_deleted_row(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    create_draft(client, operator)
    create_draft(client, operator)
    ids = (
        session.execute(text("SELECT id FROM audit_entry ORDER BY id DESC LIMIT 2")).scalars().all()
    )
    session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[1]})
    report = audit.verify(session)
    assert report.verified is False
    assert report.first_broken_id == ids[0]
