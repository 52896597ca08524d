"""The public directory: outlets in force only, personal data masked, search, CSV for Excel."""

import base64
import csv
import io
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cli import demo
from models.filing import FilingRevision
from models.user import User
from tests.factories import (
    auth,
    filed_filing,
    make_staff,
    submitted_filing,
)


def names(client: TestClient, **params: object) -> list[str]:
    return [
        item["name"] for item in client.get("/api/v1/public/outlets", params=params).json()["items"]
    ]


def test_directory_lists_only_outlets_in_force_with_masked_person(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filed = filed_filing(client, operator, reviewer, name="公开名录测试甲站")
    submitted_filing(client, operator, name="公开名录测试乙站")
    response = client.get("/api/v1/public/outlets", params={"q": "公开名录测试"}).json()
    assert [item["name"] for item in response["items"]] == ["公开名录测试甲站"]
    person = response["items"][0]["person_in_charge"]
    assert person == {"name": "王*", "mobile": "139****1234"}
    assert filed["person_in_charge"]["id_number"] not in str(response)
    client.post(
        f"/api/v1/filings/{filed['id']}/revocation", json={"reason": "虚假"}, headers=auth(reviewer)
    )
    assert names(client, q="公开名录测试") == []


def test_directory_filters_by_county_township_brand_and_text(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    city = make_staff(session, role="reviewer", jurisdiction="451100")
    filed_filing(client, operator, city, name="过滤测试贺街站", brands=["ZTO"])
    filed_filing(client, operator, city, name="过滤测试步头站", township_code="451102102")
    filed_filing(
        client,
        operator,
        city,
        name="过滤测试昭平站",
        county_code="451121",
        township_code="451121100",
    )
    assert names(client, q="过滤测试", county="451121") == ["过滤测试昭平站"]
    assert names(client, q="过滤测试", township="451102102") == ["过滤测试步头站"]
    assert names(client, q="过滤测试", brand="ZTO") == ["过滤测试贺街站"]
    assert names(client, q="贺街站") == ["过滤测试贺街站"]  # trigram index, 3 characters
    assert "过滤测试步头站" in names(client, q="步头")  # 2 characters: scan fallback
    assert names(client, q="河东街 12") != []  # address search


def test_csv_export_opens_in_excel(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_filing(client, operator, reviewer, name="导出测试站")
    for response in (
        client.get("/api/v1/public/outlets.csv", params={"q": "导出测试"}),
        client.get(
            "/api/v1/public/outlets", params={"q": "导出测试"}, headers={"Accept": "text/csv"}
        ),
    ):
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["备案编号", "回执编号", "网点名称"]
        assert rows[1][2] == "导出测试站"
        assert "139****1234" in rows[1]


def test_no_public_response_contains_a_seeded_id_number_or_phone(
    client: TestClient, session: Session
) -> None:
    demo.seed(session)
    secrets: set[str] = set()
    receipt_nos: list[str] = []
    for revision in session.exec(select(FilingRevision)).all():
        secrets.add(revision.person_in_charge["id_number"])
        secrets.add(revision.person_in_charge["mobile"])
        if revision.partner:
            secrets.add(revision.partner["mobile"])
        if revision.receipt_no:
            receipt_nos.append(revision.receipt_no)
    assert receipt_nos
    bodies = [
        client.get("/api/v1/public/outlets", params={"limit": 200}).text,
        client.get("/api/v1/public/outlets.csv").content.decode("utf-8-sig"),
    ]
    for receipt_no in receipt_nos:
        check = client.get(f"/api/v1/public/receipts/{receipt_no}")
        bodies.append(check.text)
        signed = check.json()["jws"].split(".")[1]
        bodies.append(base64.urlsafe_b64decode(signed + "==").decode())
        bodies.append(client.get(f"/verify/{receipt_no}").text)
    everything = "\n".join(bodies)
    leaked = [secret for secret in secrets if secret in everything]
    assert leaked == []


def test_search_count_is_capped_and_says_so(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.receipts import directory

    for n in range(3):
        filed_filing(client, operator, reviewer, name=f"计数上限测试站{n}")
    monkeypatch.setattr(directory, "COUNT_CAP", 2)
    capped = client.get(
        "/api/v1/public/outlets", params={"q": "计数上限", "county": "451102"}
    ).json()
    assert (capped["total"], capped["total_exact"], len(capped["items"])) == (2, False, 3)
    exact = client.get("/api/v1/public/outlets", params={"q": "计数上限测试站1"}).json()
    assert (exact["total"], exact["total_exact"]) == (1, True)
