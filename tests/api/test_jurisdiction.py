"""Actions that reach across counties (issue #10 items 1 and 8, SPEC §2 and §4).

A licence cancellation lapses every filing in force of an enterprise, wherever its outlets are:
only staff covering all of them may do it. A change that moves an outlet to another county is
decided by the county it moves to; the old county may still read it.
"""

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.enterprise import Enterprise
from models.user import User
from tests.factories import (
    auth,
    filed_via_services,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
)

BABU, PINGGUI = "451102", "451103"  # 八步区, 平桂区


def filed_filing(
    client: TestClient, session: Session, operator: User, reviewer: User, **outlet: Any
) -> dict[str, Any]:
    """A filed filing (set up through the services), as the API shows it to its reviewer."""
    filing = filed_via_services(session, operator, reviewer, **outlet)
    response = client.get(f"/api/v1/filings/{filing.id}", headers=auth(reviewer))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cancel(client: TestClient, enterprise: Enterprise, user: User) -> Any:
    return client.post(
        f"/api/v1/enterprises/{enterprise.id}/licence-cancellation",
        json={"reason": "快递业务经营许可证被依法注销"},
        headers=auth(user),
    )


def _status(client: TestClient, filing_id: int, user: User) -> str:
    response = client.get(f"/api/v1/filings/{filing_id}", headers=auth(user))
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def _cancellation_entries(session: Session, enterprise: Enterprise) -> list[AuditEntry]:
    return list(
        session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "enterprise.licence_cancelled",
                AuditEntry.entity_id == str(enterprise.id),
            )
        ).all()
    )


class Spread:
    """An enterprise registered in 八步区 with one outlet filed there and one in 平桂区."""

    def __init__(self, client: TestClient, session: Session) -> None:
        self.enterprise = make_enterprise(session, region_code=BABU)
        self.operator = operator_of(session, self.enterprise)
        self.babu = make_staff(session, role="reviewer", jurisdiction=BABU)
        self.pinggui = make_staff(session, role="reviewer", jurisdiction=PINGGUI)
        self.city = make_staff(session, role="reviewer", jurisdiction="451100")
        self.home = filed_filing(client, session, self.operator, self.babu)
        self.away = filed_filing(
            client,
            session,
            self.operator,
            self.pinggui,
            county_code=PINGGUI,
            township_code="451103101",
            address="黄田镇新街 3 号",
        )


def test_county_reviewer_cannot_cancel_a_licence_whose_filings_reach_other_counties(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    world = Spread(client, session)
    response = _cancel(client, world.enterprise, world.babu)
    assert problem(response) == (403, "outside_jurisdiction")
    assert response.json()["counties"] == [PINGGUI]
    # Nothing changed: no filing lapsed, the enterprise keeps its licence, nothing was audited.
    assert _status(client, world.home["id"], world.babu) == "filed"
    assert _status(client, world.away["id"], world.pinggui) == "filed"
    enterprise = client.get(f"/api/v1/enterprises/{world.enterprise.id}", headers=auth(world.babu))
    assert enterprise.json()["licence_cancelled_at"] is None
    assert _cancellation_entries(session, world.enterprise) == []
    status = client.get(f"/api/v1/public/receipts/{world.away['receipt_no']}").json()["status"]
    assert status == "valid"


def test_city_reviewer_cancels_the_licence_and_every_filing_lapses(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    world = Spread(client, session)
    response = _cancel(client, world.enterprise, world.city)
    assert response.status_code == 200, response.text
    assert response.json()["licence_cancelled_at"] is not None
    assert _status(client, world.home["id"], world.city) == "lapsed"
    assert _status(client, world.away["id"], world.city) == "lapsed"
    [entry] = _cancellation_entries(session, world.enterprise)
    assert entry.region_code == BABU


def test_county_reviewer_cannot_cancel_when_an_open_change_moves_an_outlet_out(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    # Every filing in force is in 八步区, but the lapse would discard a change 平桂区 is deciding.
    filing = filed_filing(client, session, operator, reviewer)
    _move_to_pinggui(client, operator, filing["id"])
    enterprise = session.get(Enterprise, operator.enterprise_id)
    assert enterprise is not None
    assert problem(_cancel(client, enterprise, reviewer)) == (403, "outside_jurisdiction")
    shown = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(reviewer)).json()
    assert shown["status"] == "filed" and shown["change"]["status"] == "submitted"


# --- a change that moves an outlet to another county ---------------------------------------


def _move_to_pinggui(client: TestClient, operator: User, filing_id: int) -> dict[str, Any]:
    opened = client.post(
        f"/api/v1/filings/{filing_id}/changes",
        json={"changed_on": "2026-11-27", "reason": "网点迁址"},
        headers=auth(operator),
    )
    assert opened.status_code == 201, opened.text
    moved = client.patch(
        f"/api/v1/filings/{filing_id}",
        json={
            "outlet": {
                "county_code": PINGGUI,
                "township_code": "451103101",
                "address": "黄田镇新街 8 号",
            }
        },
        headers=auth(operator),
    )
    assert moved.status_code == 200, moved.text
    submitted = client.post(f"/api/v1/filings/{filing_id}/submit", headers=auth(operator))
    assert submitted.status_code == 200, submitted.text
    body: dict[str, Any] = submitted.json()
    return body


def _queue_ids(client: TestClient, user: User) -> set[int]:
    response = client.get("/api/v1/filings", params={"queue": "true"}, headers=auth(user))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_change_moving_an_outlet_is_decided_by_the_county_it_moves_to(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    destination = make_staff(session, role="reviewer", jurisdiction=PINGGUI)
    filing = filed_filing(client, session, operator, reviewer)  # reviewer: 八步区
    fid = filing["id"]
    submitted = _move_to_pinggui(client, operator, fid)
    assert submitted["change"]["outlet"]["county_code"] == PINGGUI
    assert submitted["outlet"]["county_code"] == "451102"  # the revision in force stays

    # The county it moves to sees it in its queue and can read it.
    assert fid in _queue_ids(client, destination)
    assert client.get(f"/api/v1/filings/{fid}", headers=auth(destination)).status_code == 200
    # The old county still reads it, but it is not in its queue and it may not decide it.
    assert fid not in _queue_ids(client, reviewer)
    assert client.get(f"/api/v1/filings/{fid}", headers=auth(reviewer)).status_code == 200
    url = f"/api/v1/filings/{fid}/review"
    for decision in (
        {"decision": "accept"},
        {"decision": "return", "corrections": [{"field": "outlet.address", "reason": "门牌号"}]},
    ):
        refused = client.post(url, json=decision, headers=auth(reviewer))
        assert problem(refused) == (403, "outside_jurisdiction")
    # Until accepted the filing in force is still 八步区's: 平桂区 cannot revoke it.
    revoke = client.post(
        f"/api/v1/filings/{fid}/revocation", json={"reason": "虚假材料"}, headers=auth(destination)
    )
    assert problem(revoke) == (403, "outside_jurisdiction")
    destination_admin = make_staff(session, role="admin", jurisdiction=PINGGUI)
    risk = client.put(
        f"/api/v1/filings/{fid}/risk",
        json={"level": "high", "reason": "迁入前核查"},
        headers=auth(destination_admin),
    )
    assert problem(risk) == (403, "outside_jurisdiction")
    still = client.get(f"/api/v1/filings/{fid}", headers=auth(reviewer)).json()
    assert still["status"] == "filed" and still["change"]["status"] == "submitted"

    accepted = client.post(url, json={"decision": "accept"}, headers=auth(destination))
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["filing_no"] == filing["filing_no"]  # the number stays
    assert body["receipt_no"] == f"{filing['filing_no']}-R2"
    assert body["outlet"]["county_code"] == PINGGUI and body["change"] is None
    receipt = client.get(f"/api/v1/public/receipts/{body['receipt_no']}")
    assert receipt.status_code == 200 and receipt.json()["status"] == "valid"
    # The filing now lies in 平桂区: listed there by county, gone from 八步区.
    listed = client.get(
        "/api/v1/filings", params={"county": PINGGUI}, headers=auth(destination)
    ).json()
    assert fid in {item["id"] for item in listed["items"]}
    assert problem(client.get(f"/api/v1/filings/{fid}", headers=auth(reviewer))) == (
        404,
        "not_found",
    )


def test_county_an_outlet_moves_to_may_return_the_change(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    destination = make_staff(session, role="reviewer", jurisdiction=PINGGUI)
    fid = filed_filing(client, session, operator, reviewer)["id"]
    _move_to_pinggui(client, operator, fid)
    returned = client.post(
        f"/api/v1/filings/{fid}/review",
        json={"decision": "return", "corrections": [{"field": "outlet.address", "reason": "门牌"}]},
        headers=auth(destination),
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["change"]["status"] == "returned"
    assert returned.json()["status"] == "filed"


def test_a_third_county_still_cannot_see_a_moving_outlet(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    third = make_staff(session, role="reviewer", jurisdiction="451121")
    fid = filed_filing(client, session, operator, reviewer)["id"]
    _move_to_pinggui(client, operator, fid)
    assert problem(client.get(f"/api/v1/filings/{fid}", headers=auth(third))) == (
        404,
        "not_found",
    )
    assert fid not in _queue_ids(client, third)
    listed = client.get("/api/v1/filings", headers=auth(third)).json()
    assert fid not in {item["id"] for item in listed["items"]}
