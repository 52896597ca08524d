"""Issue #11, names: `brand` filters accept a code or a Chinese name, and an error about a value
outside a fixed set lists the allowed values (SPEC §4.1)."""

import csv
import io
from datetime import datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from domain.vocabulary import DocumentKind
from models.user import User
from tests.factories import (
    auth,
    create_draft,
    filed_filing,
    filing_body,
    make_staff,
    submitted_filing,
)


def _field_error(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    found = [error for error in response.json()["errors"] if error["field"] == field]
    assert found, response.json()["errors"]
    return found[0]


# --- brand=顺丰 finds SF ---------------------------------------------------------------------


def test_filings_list_brand_filter_takes_a_code_or_a_chinese_name(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_filing(client, operator, reviewer, name="品牌名称顺丰站", brands=["SF"])
    create_draft(client, operator, name="品牌名称中通站", brands=["ZTO"])

    def names(brand: str) -> list[str]:
        response = client.get(
            "/api/v1/filings", params={"brand": brand, "q": "品牌名称"}, headers=auth(reviewer)
        )
        assert response.status_code == 200, response.text
        return sorted(item["outlet_name"] for item in response.json()["items"])

    assert names("顺丰") == ["品牌名称顺丰站"]
    assert names("中通") == ["品牌名称中通站"]
    assert names("SF") == ["品牌名称顺丰站"]  # the code still works
    assert names("不存在的快递") == []  # an unknown brand: no results, not an error


def test_public_directory_brand_filter_takes_a_code_or_a_chinese_name(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    city = make_staff(session, role="reviewer", jurisdiction="451100")
    filed_filing(client, operator, city, name="名录品牌顺丰站", brands=["SF"])
    filed_filing(client, operator, city, name="名录品牌中通站", brands=["ZTO", "EMS"])

    def names(brand: str) -> list[str]:
        response = client.get("/api/v1/public/outlets", params={"brand": brand, "q": "名录品牌"})
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert names("顺丰") == ["名录品牌顺丰站"]
    assert names("中通") == ["名录品牌中通站"]
    assert names("ZTO") == ["名录品牌中通站"]
    assert names("不存在的快递") == []

    for response in (
        client.get("/api/v1/public/outlets.csv", params={"brand": "中通", "q": "名录品牌"}),
        client.get(
            "/api/v1/public/outlets",
            params={"brand": "中通", "q": "名录品牌"},
            headers={"Accept": "text/csv"},
        ),
    ):
        assert response.status_code == 200, response.text
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [row[2] for row in rows[1:]] == ["名录品牌中通站"]


# --- errors on enumerated values list the allowed values -------------------------------------


def test_an_unknown_outlet_type_lists_the_allowed_types(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = client.post("/api/v1/filings", json=filing_body(type="x"), headers=auth(operator))
    error = _field_error(response, "outlet.type")
    assert error["allowed"] == ["self_operated", "cooperative"]
    assert error["message"] == "取值应为：self_operated、cooperative"


def test_an_unknown_document_kind_in_a_correction_lists_the_allowed_kinds(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filing = submitted_filing(client, operator)
    response = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "return", "corrections": [{"document": "x", "reason": "看不清"}]},
        headers=auth(reviewer),
    )
    error = _field_error(response, "corrections.0.document")
    assert error["allowed"] == list(DocumentKind.values())
    assert error["message"] == "取值应为：" + "、".join(DocumentKind.values())


def test_an_unknown_sampling_mode_lists_the_allowed_modes(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    plan = {
        "name": "允许取值测试计划",
        "region_code": "451102",
        "item_codes": ["real_name"],
        "sampling": {"mode": "x", "count": 1},
        "team_size": 2,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "randomness_sources": "福彩 3D",
    }
    response = client.post("/api/v1/inspection-plans", json=plan, headers=auth(admin))
    error = _field_error(response, "sampling.mode")
    assert error["allowed"] == ["rate", "count"]
    assert error["message"] == "取值应为：rate、count"


def test_a_field_error_without_a_fixed_set_has_no_allowed_key(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    response = client.post(
        "/api/v1/filings", json=filing_body(staff_count="many"), headers=auth(operator)
    )
    error = _field_error(response, "outlet.staff_count")
    assert "allowed" not in error
