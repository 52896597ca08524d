"""Uploads: judged by content, size-limited while streaming, stored by SHA-256, access-checked."""

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.config import get_settings
from core.storage import get_storage
from models.user import User
from tests.factories import (
    auth,
    create_draft,
    make_enterprise,
    make_staff,
    operator_of,
    problem,
    sample_jpeg,
    sample_pdf,
    sample_png,
    upload,
)

# Every test here runs on both document stores: files under DATA_DIR and a real S3 server.
pytestmark = pytest.mark.usefixtures("storage_backend")


def stored_files() -> set[str]:
    return {sha256 for sha256, _ in get_storage().blobs()}


def temp_files() -> set[Path]:
    root = get_settings().data_dir / "tmp"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.mark.parametrize(
    ("make", "content_type"),
    [(sample_pdf, "application/pdf"), (sample_png, "image/png"), (sample_jpeg, "image/jpeg")],
)
def test_pdf_png_and_jpeg_are_accepted_and_stored_by_sha256(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
    make: Callable[[], bytes],
    content_type: str,
) -> None:
    filing = create_draft(client, operator)
    content = make()
    response = upload(client, filing["id"], operator, "premises_photo", "anything.bin", content)
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["content_type"] == content_type
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["size"] == len(content)
    download = client.get(
        f"/api/v1/filings/{filing['id']}/documents/{document['id']}", headers=auth(operator)
    )
    assert download.status_code == 200
    assert download.content == content


def test_executable_disguised_as_pdf_is_415_and_leaves_nothing(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = create_draft(client, operator)
    before_files, before_temp = stored_files(), temp_files()
    executable = (
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
    )
    response = upload(client, filing["id"], operator, "business_licence", "licence.pdf", executable)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert stored_files() == before_files
    assert temp_files() == before_temp
    detail = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(operator)).json()
    assert detail["documents"] == []


def test_truncated_png_is_415(client: TestClient, operator: User, fixed_clock: datetime) -> None:
    filing = create_draft(client, operator)
    broken = sample_png((64, 64))[:60]
    response = upload(client, filing["id"], operator, "premises_photo", "shop.png", broken)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_oversized_upload_is_413_and_leaves_nothing(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 2048)
    filing = create_draft(client, operator)
    before_files, before_temp = stored_files(), temp_files()
    big = sample_pdf() + b"%" + b"x" * 100_000
    response = upload(client, filing["id"], operator, "business_licence", "big.pdf", big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert stored_files() == before_files
    assert temp_files() == before_temp


def test_oversized_upload_without_content_length_is_stopped_while_streaming(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 4096)
    filing = create_draft(client, operator)
    sent = {"chunks": 0}

    def body() -> Iterator[bytes]:
        yield (
            b'--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        )
        for _ in range(1000):  # 1000 × 1 KiB, far past the limit
            sent["chunks"] += 1
            yield b"x" * 1024
        yield b"\r\n--XyZ--\r\n"

    response = client.post(
        f"/api/v1/filings/{filing['id']}/documents",
        content=body(),
        headers={**auth(operator), "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert temp_files() == set()


def test_unknown_kind_is_422(client: TestClient, operator: User, fixed_clock: datetime) -> None:
    filing = create_draft(client, operator)
    response = upload(client, filing["id"], operator, "selfie", "a.png", sample_png())
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    [error] = response.json()["errors"]
    assert error["field"] == "kind" and "business_licence" in error["allowed"]
    assert len(error["allowed"]) == 7 and "premises_photo" in error["message"]


def test_same_file_uploaded_twice_is_one_document(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    filing = create_draft(client, operator)
    first = upload(client, filing["id"], operator, "premises_photo", "a.png", sample_png()).json()
    second = upload(client, filing["id"], operator, "premises_photo", "a.png", sample_png()).json()
    assert first["id"] == second["id"]


def test_other_enterprise_cannot_download(
    client: TestClient,
    session: Session,
    operator: User,
    fixed_clock: datetime,
) -> None:
    filing = create_draft(client, operator)
    document = upload(
        client, filing["id"], operator, "premises_photo", "a.png", sample_png()
    ).json()
    stranger = operator_of(session, make_enterprise(session))
    url = f"/api/v1/filings/{filing['id']}/documents/{document['id']}"
    assert problem(client.get(url, headers=auth(stranger))) == (404, "not_found")
    outside = make_staff(session, role="reviewer", jurisdiction="451121")
    assert problem(client.get(url, headers=auth(outside))) == (404, "not_found")
    covering = make_staff(session, role="reviewer", jurisdiction="451102")
    assert client.get(url, headers=auth(covering)).status_code == 200
