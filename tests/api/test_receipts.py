"""Receipts: signature checkable with an independent library, PDF text and QR, every status on
the API and on the page, no personal data in any public response."""

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pypdf
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from jwt.algorithms import OKPAlgorithm
from PIL import Image
from sqlmodel import Session

from cli import main as cli
from core.config import get_settings
from models.user import User
from tests.factories import (
    auth,
    filed_filing,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
)


def independent_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """PyJWT, not the service's JOSE library: its Ed25519 code under RFC 9864's name."""
    verifier = jwt.PyJWS()
    verifier.register_algorithm("Ed25519", OKPAlgorithm())
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(key for key in jwks["keys"] if key["kid"] == kid)
    key = OKPAlgorithm.from_jwk(json.dumps(jwk))
    assert isinstance(key, Ed25519PublicKey)  # a JWKS publishes public keys only
    return json.loads(verifier.decode(token, key=key, algorithms=["Ed25519"]))


def test_receipt_jws_verifies_against_the_published_jwks(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = filed_filing(client, operator, reviewer)
    check = client.get(f"/api/v1/public/receipts/{filing['receipt_no']}").json()
    jwks = client.get("/api/v1/public/keys").json()
    assert client.get("/.well-known/jwks.json").json() == jwks
    header = jwt.get_unverified_header(check["jws"])
    assert header["alg"] == "Ed25519" and header["typ"] == "outlet-receipt+jws"
    payload = independent_verify(check["jws"], jwks)
    assert payload["receipt_no"] == filing["receipt_no"]
    assert payload["filing_no"] == filing["filing_no"]
    assert payload["outlet"]["name"] == filing["outlet"]["name"]
    assert payload["operator"]["uscc"]
    assert filing["person_in_charge"]["id_number"] not in check["jws"]


def test_tampered_payload_does_not_verify(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    import base64

    filing = filed_filing(client, operator, reviewer)
    token = client.get(f"/api/v1/public/receipts/{filing['receipt_no']}").json()["jws"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["outlet"]["name"] = "伪造的网点"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    jwks = client.get("/api/v1/public/keys").json()
    with pytest.raises(jwt.InvalidSignatureError):
        independent_verify(f"{header}.{forged_payload}.{signature}", jwks)


def test_verify_receipt_command_accepts_genuine_and_refuses_forged(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    filing = filed_filing(client, operator, reviewer)
    token = client.get(f"/api/v1/public/receipts/{filing['receipt_no']}").json()["jws"]
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(client.get("/api/v1/public/keys").json()))
    assert cli.main(["verify-receipt", token, "--jwks", str(jwks_file)]) == 0
    assert filing["receipt_no"] in capsys.readouterr().out
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert cli.main(["verify-receipt", forged, "--jwks", str(jwks_file)]) == 1


def test_pdf_has_the_text_and_a_qr_code_of_the_verify_url(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = filed_filing(client, operator, reviewer)
    response = client.get(f"/api/v1/receipts/{filing['receipt_no']}/pdf", headers=auth(operator))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    page = reader.pages[0]
    assert abs(float(page.mediabox.width) - 595.28) < 1  # A4
    text = page.extract_text()
    assert filing["receipt_no"] in text
    assert filing["outlet"]["name"] in text
    assert "不办理营业执照" in text
    assert filing["person_in_charge"]["name"] in text
    assert filing["person_in_charge"]["id_number"] not in text
    images = [Image.open(io.BytesIO(image.data)) for image in page.images]
    decoded = [result.text for image in images for result in zxingcpp.read_barcodes(image)]
    expected = f"{get_settings().public_base_url}/verify/{filing['receipt_no']}"
    assert decoded == [expected]


def test_pdf_is_the_same_every_time_and_honours_if_none_match(
    client: TestClient,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = filed_filing(client, operator, reviewer)
    url = f"/api/v1/receipts/{filing['receipt_no']}/pdf"
    first = client.get(url, headers=auth(operator))
    second = client.get(url, headers=auth(reviewer))
    assert first.content == second.content
    cached = client.get(url, headers={**auth(operator), "If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304


def test_pdf_and_detail_are_404_for_strangers(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    filing = filed_filing(client, operator, reviewer)
    stranger = operator_of(session, make_enterprise(session))
    outside = make_staff(session, role="reviewer", jurisdiction="451121")
    for user in (stranger, outside):
        pdf = client.get(f"/api/v1/receipts/{filing['receipt_no']}/pdf", headers=auth(user))
        assert problem(pdf) == (404, "not_found")
        detail = client.get(f"/api/v1/receipts/{filing['receipt_no']}", headers=auth(user))
        assert problem(detail) == (404, "not_found")
    detail = client.get(f"/api/v1/receipts/{filing['receipt_no']}", headers=auth(operator)).json()
    assert detail["payload"]["receipt_no"] == filing["receipt_no"]


def _status(client: TestClient, receipt_no: str) -> tuple[str, str]:
    api = client.get(f"/api/v1/public/receipts/{receipt_no}").json()["status"]
    page = client.get(f"/verify/{receipt_no}").text
    return api, page


def test_each_status_shows_on_the_api_and_the_page(
    client: TestClient,
    session: Session,
    reviewer: User,
    fixed_clock: datetime,
) -> None:
    enterprise = make_enterprise(session, region_code="451102")
    operator = operator_of(session, enterprise)
    valid = filed_filing(client, operator, reviewer)
    api, page = _status(client, valid["receipt_no"])
    assert api == "valid" and 'data-status="valid"' in page and "有效" in page

    fid = valid["id"]
    client.post(
        f"/api/v1/filings/{fid}/changes", json={"changed_on": "2026-11-29"}, headers=auth(operator)
    )
    client.patch(
        f"/api/v1/filings/{fid}", json={"outlet": {"name": "新名称服务站"}}, headers=auth(operator)
    )
    client.post(f"/api/v1/filings/{fid}/submit", headers=auth(operator))
    changed = client.post(
        f"/api/v1/filings/{fid}/review", json={"decision": "accept"}, headers=auth(reviewer)
    ).json()
    api, page = _status(client, valid["receipt_no"])
    assert api == "superseded" and "已变更" in page and changed["receipt_no"] in page
    check = client.get(f"/api/v1/public/receipts/{valid['receipt_no']}").json()
    assert check["current_receipt_no"] == changed["receipt_no"]
    assert _status(client, changed["receipt_no"])[0] == "valid"

    closed = filed_filing(client, operator, reviewer)
    client.post(
        f"/api/v1/filings/{closed['id']}/closure",
        json={"closed_on": "2026-11-29", "reason": "停业"},
        headers=auth(operator),
    )
    api, page = _status(client, closed["receipt_no"])
    assert api == "closed" and "已停业" in page

    revoked = filed_filing(client, operator, reviewer)
    client.post(
        f"/api/v1/filings/{revoked['id']}/revocation",
        json={"reason": "提交虚假材料"},
        headers=auth(reviewer),
    )
    api, page = _status(client, revoked["receipt_no"])
    assert api == "revoked" and "已撤销" in page and "提交虚假材料" in page
    assert (
        client.get(f"/api/v1/public/receipts/{revoked['receipt_no']}").json()["reason"]
        == "提交虚假材料"
    )

    lapsing = filed_filing(client, operator, reviewer)
    client.post(
        f"/api/v1/enterprises/{enterprise.id}/licence-cancellation",
        json={"reason": "许可注销"},
        headers=auth(reviewer),
    )
    api, page = _status(client, lapsing["receipt_no"])
    assert api == "lapsed" and "已失效" in page


def test_unknown_receipt_is_404_on_api_and_page(client: TestClient) -> None:
    api = client.get("/api/v1/public/receipts/451102-2026-999999-R1")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    page = client.get("/verify/451102-2026-999999-R1")
    assert page.status_code == 404 and "查无此回执" in page.text
    assert "<script" not in client.get("/verify/<script>alert(1)</script>").text
