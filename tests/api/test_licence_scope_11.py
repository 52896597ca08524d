"""Issue 11 (B): an outlet is filed inside the operator's licensed area and validity (2018
filing rules, art. 8): the pure rule, and the API on create, edit and submit."""

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from domain.vocabulary import LicenceStatus
from models.enterprise import Enterprise
from models.user import User
from services.filings import rules
from tests.factories import (
    auth,
    create_draft,
    filing_body,
    make_enterprise,
    operator_of,
    problem,
    upload_required,
)

API = "/api/v1"
TODAY = date(2026, 11, 30)


def scope_errors(**overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "county_code": "451102",
        "township_code": "451102101",
        "licensed": ["451100"],
        "valid_from": None,
        "valid_until": None,
        "today": TODAY,
    }
    arguments.update(overrides)
    return [error.field for error in rules.licence_scope_errors(**arguments)]  # type: ignore[arg-type]  # keyword overrides of mixed types


def test_rule_area_and_validity() -> None:
    assert scope_errors() == []
    assert scope_errors(licensed=["451102"]) == []
    assert scope_errors(licensed=["451102101"]) == []  # a township-level licence
    assert scope_errors(licensed=["451103"]) == ["outlet.county_code"]
    assert scope_errors(licensed=["451102102"]) == ["outlet.county_code"]
    assert scope_errors(valid_until=TODAY) == []  # the last day still counts
    assert scope_errors(valid_until=TODAY - timedelta(days=1)) == ["licence_valid_until"]
    assert scope_errors(valid_from=TODAY + timedelta(days=1)) == ["licence_valid_from"]


def test_rule_licence_status_and_city() -> None:
    def status(**kw: object) -> LicenceStatus:
        base: dict[str, object] = {
            "valid_from": None,
            "valid_until": None,
            "cancelled": False,
            "today": TODAY,
        }
        base.update(kw)
        return rules.licence_status(**base)  # type: ignore[arg-type]  # keyword overrides of mixed types

    assert status() == LicenceStatus.UNKNOWN
    assert status(valid_until=TODAY) == LicenceStatus.VALID
    assert status(valid_until=TODAY - timedelta(days=1)) == LicenceStatus.EXPIRED
    assert status(valid_until=TODAY, cancelled=True) == LicenceStatus.CANCELLED
    assert rules.city_code("451102") == "451100"
    assert rules.city_code("451102101") == "451100"
    assert rules.city_code("450000") == "450000"


def licensed_operator(session: Session, **licence: object) -> User:
    enterprise = make_enterprise(session)
    for key, value in licence.items():
        setattr(enterprise, key, value)
    session.add(enterprise)
    session.flush()
    return operator_of(session, enterprise)


def test_creating_outside_the_licensed_area_is_refused(
    client: TestClient, session: Session
) -> None:
    operator = licensed_operator(session, licence_regions=["451103"])
    response = client.post(f"{API}/filings", json=filing_body(), headers=auth(operator))
    assert problem(response) == (422, "outside_licence_scope")
    assert "经营地域" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "outlet.county_code"
    inside = client.post(
        f"{API}/filings",
        json=filing_body(county_code="451103", township_code="451103101", address="黄田镇 1 号"),
        headers=auth(operator),
    )
    assert inside.status_code == 201, inside.text


def test_moving_a_draft_outside_the_area_is_refused(client: TestClient, session: Session) -> None:
    operator = licensed_operator(session, licence_regions=["451102"])
    draft = create_draft(client, operator)
    response = client.patch(
        f"{API}/filings/{draft['id']}",
        json={"outlet": {"county_code": "451103", "township_code": "451103101"}},
        headers=auth(operator),
    )
    assert problem(response) == (422, "outside_licence_scope")
    unchanged = client.get(f"{API}/filings/{draft['id']}", headers=auth(operator)).json()
    assert unchanged["outlet"]["county_code"] == "451102"


def test_an_expired_licence_blocks_create_and_submit(client: TestClient, session: Session) -> None:
    operator = licensed_operator(session)
    draft = create_draft(client, operator)
    upload_required(client, draft["id"], operator)
    assert draft["licence"]["status"] == "unknown"  # an unknown validity does not block
    enterprise = session.get(Enterprise, operator.enterprise_id)
    assert enterprise is not None
    enterprise.licence_valid_until = clock.today() - timedelta(days=1)
    session.add(enterprise)
    session.flush()
    submit = client.post(f"{API}/filings/{draft['id']}/submit", headers=auth(operator))
    assert problem(submit) == (422, "outside_licence_scope")
    assert "到期" in submit.json()["detail"]
    create = client.post(f"{API}/filings", json=filing_body(), headers=auth(operator))
    assert problem(create) == (422, "outside_licence_scope")
    shown = client.get(f"{API}/filings/{draft['id']}", headers=auth(operator)).json()
    assert shown["status"] == "draft"
    assert shown["licence"] == {
        "status": "expired",
        "status_label": "不在有效期内",
        "valid_until": enterprise.licence_valid_until.isoformat(),
    }


def test_a_valid_licence_is_shown_and_lets_the_filing_through(
    client: TestClient, session: Session
) -> None:
    until = clock.today() + timedelta(days=365)
    operator = licensed_operator(
        session, licence_valid_from=date(2020, 1, 1), licence_valid_until=until
    )
    draft = create_draft(client, operator)
    upload_required(client, draft["id"], operator)
    submitted = client.post(f"{API}/filings/{draft['id']}/submit", headers=auth(operator))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["licence"]["status"] == "valid"
    assert submitted.json()["licence"]["valid_until"] == until.isoformat()


def test_a_licence_not_started_yet_is_not_yet_valid_not_expired(
    client: TestClient, session: Session
) -> None:
    assert (
        rules.licence_status(
            valid_from=TODAY + timedelta(days=1),
            valid_until=TODAY + timedelta(days=400),
            cancelled=False,
            today=TODAY,
        )
        == LicenceStatus.NOT_YET_VALID
    )
    assert LicenceStatus.NOT_YET_VALID.label == "尚未生效"
    operator = licensed_operator(session)
    draft = create_draft(client, operator)
    upload_required(client, draft["id"], operator)
    enterprise = session.get(Enterprise, operator.enterprise_id)
    assert enterprise is not None
    enterprise.licence_valid_from = clock.today() + timedelta(days=10)
    session.add(enterprise)
    session.flush()
    shown = client.get(f"{API}/filings/{draft['id']}", headers=auth(operator)).json()
    assert shown["licence"]["status"] == "not_yet_valid"
    assert shown["licence"]["status_label"] == "尚未生效"
    submit = client.post(f"{API}/filings/{draft['id']}/submit", headers=auth(operator))
    assert problem(submit) == (422, "outside_licence_scope")
    assert "尚未生效" in submit.json()["detail"]
