"""Each validation code for filing content, and that a refused request changes nothing."""

from datetime import datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from models.filing import Filing
from models.user import User
from tests.factories import auth, filing_body, valid_id_number


def post(client: TestClient, operator: User, body: dict[str, Any]) -> httpx.Response:
    return client.post("/api/v1/filings", json=body, headers=auth(operator))


def codes(response: httpx.Response) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.json()["errors"]}


def test_bad_id_number_is_invalid_id_number(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    body = filing_body()
    body["person_in_charge"]["id_number"] = valid_id_number()[:-1] + "0"
    if body["person_in_charge"]["id_number"] == valid_id_number():
        body["person_in_charge"]["id_number"] = valid_id_number()[:-1] + "1"
    response = post(client, operator, body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_id_number"
    assert codes(response)["person_in_charge.id_number"] == "invalid_id_number"


def test_id_number_with_unlisted_area_code_is_accepted(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    body = filing_body()
    body["person_in_charge"]["id_number"] = valid_id_number(area="459999")
    assert post(client, operator, body).status_code == 201


def test_bad_mobile_is_invalid_phone(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    body = filing_body()
    body["person_in_charge"]["mobile"] = "0774-5123456"
    response = post(client, operator, body)
    assert response.json()["code"] == "invalid_phone"


def test_unknown_township_is_unknown_region(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = post(client, operator, filing_body(township_code="451102999"))
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_region"
    assert codes(response)["outlet.township_code"] == "unknown_region"


def test_unknown_county_is_unknown_region(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = post(client, operator, filing_body(county_code="451199"))
    assert codes(response)["outlet.county_code"] == "unknown_region"


def test_township_of_another_county_is_region_mismatch(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    response = post(client, operator, filing_body(township_code="451121100"))
    assert response.json()["code"] == "region_mismatch"


def test_unknown_brand_is_refused(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = post(client, operator, filing_body(brands=["SF", "NOPE"]))
    assert response.json()["code"] == "unknown_brand"


def test_cooperative_without_partner_is_partner_required(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    response = post(client, operator, filing_body(type="cooperative"))
    assert response.json()["code"] == "partner_required"


def test_empty_scope_is_refused(client: TestClient, operator: User, fixed_clock: datetime) -> None:
    response = post(client, operator, filing_body(scope=[]))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "outlet.scope" in codes(response)


def test_several_problems_are_reported_together(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = post(
        client,
        operator,
        filing_body(township_code="451121100", brands=["NOPE"], opened_on="2027-01-01"),
    )
    assert set(codes(response).values()) >= {"region_mismatch", "unknown_brand", "future_date"}


def test_refused_filing_stores_nothing(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    before = session.exec(select(func.count()).select_from(Filing)).one()
    post(client, operator, filing_body(township_code="451102999"))
    assert session.exec(select(func.count()).select_from(Filing)).one() == before


def test_patch_is_validated_as_a_whole(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    filing = post(client, operator, filing_body()).json()
    response = client.patch(
        f"/api/v1/filings/{filing['id']}",
        json={"outlet": {"township_code": "451121100"}},
        headers=auth(operator),
    )
    assert response.json()["code"] == "region_mismatch"


def test_reviewer_cannot_create_a_filing(
    client: TestClient, session: Session, fixed_clock: datetime
) -> None:
    from tests.factories import make_staff

    reviewer = make_staff(session, role="reviewer")
    response = client.post("/api/v1/filings", json=filing_body(), headers=auth(reviewer))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
