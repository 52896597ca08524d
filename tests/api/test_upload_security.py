"""Uploads under attack: malformed multipart is a 4xx and stores nothing, every byte of the body
counts against the limit, PDFs with scripts or trailing data are refused, images are cut at their
end, names are cleaned, files go when their last reference goes, ID-document reads are audited."""

import hashlib
import io
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.main import app
from core.config import get_settings
from core.db import session_scope
from core.storage import get_storage
from models.audit import AuditEntry
from models.base import pk
from models.filing import Document, Filing
from models.user import User
from services.filings import actions, documents, queries
from tests.factories import (
    auth,
    create_draft,
    filing_body,
    make_enterprise,
    make_staff,
    operator_of,
    pdf_of,
    problem,
    sample_jpeg,
    sample_pdf,
    sample_png,
    upload,
)

BOUNDARY = "XyZ"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


# Every test here runs on both document stores: files under DATA_DIR and a real S3 server.
pytestmark = pytest.mark.usefixtures("storage_backend")


def stored_files() -> set[str]:
    return {sha256 for sha256, _ in get_storage().blobs()}


def temp_files() -> set[Path]:
    root = get_settings().data_dir / "tmp"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def kind_part(kind: str = "other") -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'.encode()


def file_part(content: bytes, disposition: bytes = b'name="file"; filename="a.pdf"') -> bytes:
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b"Content-Disposition: form-data; "
        + disposition
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + content
        + b"\r\n"
    )


CLOSE = f"--{BOUNDARY}--\r\n".encode()


def post_raw(
    client: TestClient,
    filing_id: int,
    user: User,
    body: bytes | Iterator[bytes],
    content_type: str = MULTIPART,
) -> httpx.Response:
    return client.post(
        f"/api/v1/filings/{filing_id}/documents",
        content=body,
        headers={**auth(user), "Content-Type": content_type},
    )


def well_formed(content: bytes | None = None) -> bytes:
    return kind_part() + file_part(content or sample_pdf(uuid.uuid4().hex)) + CLOSE


MALFORMED: dict[str, tuple[bytes, str]] = {
    "garbage part": (
        kind_part() + b"--XyZ\r\n\x00\xff\xfe\x01 garbage \x7f\r\n\r\njunk\r\n" + CLOSE,
        MULTIPART,
    ),
    "header line without a colon": (
        kind_part()
        + b'--XyZ\r\nContent-Disposition form-data; name="file"; filename="a.pdf"\r\n\r\n'
        + sample_pdf()
        + b"\r\n"
        + CLOSE,
        MULTIPART,
    ),
    "10 KB part name": (
        kind_part()
        + file_part(sample_pdf(), b'name="' + b"n" * 10240 + b'"; filename="a.pdf"')
        + CLOSE,
        MULTIPART,
    ),
    "3 KB part name": (
        kind_part()
        + file_part(sample_pdf(), b'name="' + b"n" * 3000 + b'"; filename="a.pdf"')
        + CLOSE,
        MULTIPART,
    ),
    "5,000-character filename": (
        kind_part()
        + file_part(sample_pdf(), b'name="file"; filename="' + "证".encode() * 5000 + b'.pdf"')
        + CLOSE,
        MULTIPART,
    ),
    "300-character filename": (
        kind_part()
        + file_part(sample_pdf(), b'name="file"; filename="' + b"f" * 300 + b'.pdf"')
        + CLOSE,
        MULTIPART,
    ),
    "CR/LF in the filename": (
        kind_part() + file_part(sample_pdf(), b'name="file"; filename="a\r\nb.pdf"') + CLOSE,
        MULTIPART,
    ),
    "missing boundary": (well_formed(), "multipart/form-data"),
    "300-byte boundary": (well_formed(), "multipart/form-data; boundary=" + "B" * 300),
    "wrong boundary": (well_formed(), "multipart/form-data; boundary=Other"),
    "bytes after the closing boundary": (well_formed() + b"trailing junk" * 10, MULTIPART),
    "no closing boundary": (kind_part() + file_part(sample_pdf(uuid.uuid4().hex)), MULTIPART),
    "preamble before the first boundary": (b"hello\r\n" + well_formed(), MULTIPART),
    "two files": (
        kind_part() + file_part(sample_pdf("one")) + file_part(sample_pdf("two")) + CLOSE,
        MULTIPART,
    ),
    "file part without a filename": (
        kind_part() + file_part(sample_pdf(), b'name="file"') + CLOSE,
        MULTIPART,
    ),
    "too many parts": (kind_part() * 20 + file_part(sample_pdf()) + CLOSE, MULTIPART),
    "empty body": (b"", MULTIPART),
    "not multipart": (json.dumps({"kind": "other"}).encode(), "application/json"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_multipart_is_a_4xx_problem_and_stores_nothing(
    client: TestClient, operator: User, fixed_clock: datetime, case: str
) -> None:
    filing = create_draft(client, operator)
    before_files, before_temp = stored_files(), temp_files()
    body, content_type = MALFORMED[case]
    response = post_raw(client, filing["id"], operator, body, content_type)
    assert response.status_code in (400, 413, 422), (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    error = response.json()
    assert error["code"] in ("validation_error", "payload_too_large")
    assert any("\u4e00" <= char <= "\u9fff" for char in error["detail"]), error
    assert stored_files() == before_files
    assert temp_files() == before_temp
    detail = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(operator)).json()
    assert detail["documents"] == []


def test_well_formed_raw_multipart_is_accepted(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    """The refusals above are about the malformation, not about raw bodies or an epilogue of
    line breaks."""
    filing = create_draft(client, operator)
    response = post_raw(client, filing["id"], operator, well_formed() + b"\r\n\r\n")
    assert response.status_code == 201, response.text


# --- every byte counts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flood",
    [
        pytest.param(lambda: b"\r\n" * 512, id="line breaks after the closing boundary"),
        pytest.param(
            lambda: (
                b"--XyZ\r\n"
                + b"".join(f"X-Pad-{n}: {'p' * 4000}\r\n".encode() for n in range(7))
                + b'Content-Disposition: form-data; name="pad"\r\n\r\nx\r\n'
            ),
            id="parts made of big headers",
        ),
    ],
)
def test_chunked_body_is_bounded_by_every_byte_not_just_the_file(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
    monkeypatch: pytest.MonkeyPatch,
    flood: Callable[[], bytes],
) -> None:
    """No Content-Length, a small file, and the rest of the body (epilogue, part headers) far
    past MAX_UPLOAD_BYTES + the form overhead: 413 before the body ends, nothing stored."""
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 4096)
    filing = create_draft(client, operator)
    before_files, before_temp = stored_files(), temp_files()
    total = 4 * 1024 * 1024
    sent = {"bytes": 0}
    epilogue = flood().startswith(b"\r\n")

    def body() -> Iterator[bytes]:
        head = well_formed() if epilogue else kind_part()
        sent["bytes"] += len(head)
        yield head
        while sent["bytes"] < total:
            chunk = flood()
            sent["bytes"] += len(chunk)
            yield chunk
        if not epilogue:
            yield file_part(sample_pdf(uuid.uuid4().hex)) + CLOSE

    response = post_raw(client, filing["id"], operator, body())
    assert problem(response) == (413, "payload_too_large")
    assert stored_files() == before_files
    assert temp_files() == before_temp
    detail = client.get(f"/api/v1/filings/{filing['id']}", headers=auth(operator)).json()
    assert detail["documents"] == []


# --- content rules ----------------------------------------------------------------------------

CATALOG_OPENING_4 = b"<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>"
PAGES = [b"<</Type/Pages/Kids[3 0 R]/Count 1>>", b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>>"]

REFUSED_PDFS = {
    "JavaScript action": pdf_of([CATALOG_OPENING_4, *PAGES, b"<</S/JavaScript/JS(app.alert(1))>>"]),
    "JavaScript, names #-escaped": pdf_of(
        [CATALOG_OPENING_4, *PAGES, b"<</S/J#61vaScript/J#53(app.alert(1))>>"]
    ),
    "launch action": pdf_of(
        [b"<</Type/Catalog/Pages 2 0 R/OpenAction<</S/Launch/F(cmd.exe)>>>>", *PAGES]
    ),
    "data after %%EOF": sample_pdf() + b"MZ\x90\x00 an executable rides along",
    "%PDF- header on something else": b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
}


@pytest.mark.parametrize("case", list(REFUSED_PDFS))
def test_active_trailing_or_unparseable_pdf_is_415_and_stores_nothing(
    client: TestClient, operator: User, fixed_clock: datetime, case: str
) -> None:
    filing = create_draft(client, operator)
    before_files, before_temp = stored_files(), temp_files()
    response = upload(
        client, filing["id"], operator, "business_licence", "l.pdf", REFUSED_PDFS[case]
    )
    assert problem(response) == (415, "unsupported_media_type")
    assert "PDF" in response.json()["detail"]
    assert stored_files() == before_files
    assert temp_files() == before_temp


def jpeg_with_motion_photo() -> tuple[bytes, bytes]:
    clean = sample_jpeg()
    return clean, clean + b"\x00\x00\x00\x18ftypmp42" + b"\x00video" * 500


def png_with_trailer() -> tuple[bytes, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), (uuid.uuid4().int % 255, 9, 9)).save(buffer, format="PNG")
    clean = buffer.getvalue()
    return clean, clean + b"PK\x03\x04 a zip after IEND"


@pytest.mark.parametrize("make", [jpeg_with_motion_photo, png_with_trailer])
def test_data_after_an_image_is_cut_off_and_the_clean_image_stored(
    client: TestClient,
    operator: User,
    fixed_clock: datetime,
    make: Callable[[], tuple[bytes, bytes]],
) -> None:
    clean, sent = make()
    filing = create_draft(client, operator)
    response = upload(client, filing["id"], operator, "premises_photo", "photo.jpg", sent)
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["sha256"] == hashlib.sha256(clean).hexdigest()
    assert document["size"] == len(clean)
    with get_storage().open(document["sha256"]) as stored:
        assert stored.read() == clean
    download = client.get(
        f"/api/v1/filings/{filing['id']}/documents/{document['id']}", headers=auth(operator)
    )
    assert download.content == clean


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        pytest.param("营业执照\u202egpj.pdf", "营业执照gpj.pdf", id="right-to-left override"),
        pytest.param("\u2066身份证\u2069 正面.jpg", "身份证 正面.jpg", id="bidi isolates"),
        pytest.param("../../etc/passwd.pdf", "passwd.pdf", id="path"),
        pytest.param("a\x01b\x1bc\x7f.pdf", "abc.pdf", id="control characters"),
        pytest.param("门头照片.png", "门头照片.png", id="Chinese kept"),
    ],
)
def test_the_stored_filename_is_sanitised(
    client: TestClient, operator: User, fixed_clock: datetime, sent: str, stored: str
) -> None:
    filing = create_draft(client, operator)
    body = kind_part() + file_part(
        sample_pdf(uuid.uuid4().hex), b'name="file"; filename="' + sent.encode() + b'"'
    )
    response = post_raw(client, filing["id"], operator, body + CLOSE)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == stored


def test_nul_in_the_filename_is_removed(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    filing = create_draft(client, operator)
    disposition = b'name="file"; filename="licence\x00.pdf"'
    response = post_raw(
        client,
        filing["id"],
        operator,
        kind_part() + file_part(sample_pdf("nul"), disposition) + CLOSE,
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "licence.pdf"


# --- stored files follow their references ---------------------------------------------------


def test_a_removed_document_s_file_is_deleted_unless_still_referenced(
    client: TestClient, operator: User, fixed_clock: datetime
) -> None:
    content = sample_pdf(uuid.uuid4().hex)
    first = create_draft(client, operator)
    second = create_draft(client, operator)
    ours = upload(client, first["id"], operator, "other", "a.pdf", content).json()
    theirs = upload(client, second["id"], operator, "other", "a.pdf", content).json()
    sha256 = ours["sha256"]
    assert get_storage().exists(sha256)

    removed = client.delete(
        f"/api/v1/filings/{first['id']}/documents/{ours['id']}", headers=auth(operator)
    )
    assert removed.status_code == 204
    assert get_storage().exists(sha256), "the other filing still references the file"

    removed = client.delete(
        f"/api/v1/filings/{second['id']}/documents/{theirs['id']}", headers=auth(operator)
    )
    assert removed.status_code == 204
    assert not get_storage().exists(sha256), "the last reference went: the file goes"


def test_a_rolled_back_removal_keeps_the_file_and_nothing_goes_before_the_commit(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    filing_json = create_draft(client, operator)
    document = upload(
        client, filing_json["id"], operator, "other", "a.pdf", sample_pdf(uuid.uuid4().hex)
    ).json()
    stored = get_storage()
    sha256 = document["sha256"]
    filing = session.get_one(Filing, filing_json["id"])

    documents.remove_document(session, filing, actor=operator, document_id=document["id"])
    assert stored.exists(sha256), "not before the transaction commits"
    session.rollback()
    session.commit()
    assert stored.exists(sha256), "the removal was rolled back: the file stays"

    filing = session.get_one(Filing, filing_json["id"])
    documents.remove_document(session, filing, actor=operator, document_id=document["id"])
    session.commit()
    assert not stored.exists(sha256)


# --- reading an ID document is audited -------------------------------------------------------


def _read_entries(session: Session) -> list[AuditEntry]:
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "filing.document_read")
            .order_by(col(AuditEntry.id))
        ).all()
    )


def test_reading_an_id_document_is_audited_without_personal_data(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    filing = create_draft(client, operator)
    id_document = upload(
        client, filing["id"], operator, "id_document", "王五身份证.jpg", sample_jpeg()
    ).json()
    photo = upload(
        client, filing["id"], operator, "premises_photo", "门头.png", sample_png()
    ).json()
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    before = len(_read_entries(session))

    url = f"/api/v1/filings/{filing['id']}/documents"
    assert client.get(f"{url}/{photo['id']}", headers=auth(reviewer)).status_code == 200
    assert len(_read_entries(session)) == before, "only ID documents are recorded"

    response = client.get(f"{url}/{id_document['id']}", headers=auth(reviewer))
    assert response.status_code == 200
    assert response.content == sample_jpeg()
    entries = _read_entries(session)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.actor_id == reviewer.id
    assert entry.entity == "filing"
    assert entry.entity_id == str(filing["id"])
    assert entry.region_code == "451102"
    data = json.loads(entry.data)
    assert data["document_id"] == id_document["id"]
    assert data["kind"] == "id_document"
    assert "王五" not in entry.data and "身份证" not in entry.data

    client.get(f"{url}/{id_document['id']}", headers=auth(operator))
    assert [e.actor_id for e in _read_entries(session)][-1] == operator.id


def test_id_document_read_audits_on_sqlite_after_another_write_committed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET's read transaction has seen the database as it was; if another request commits a
    write meanwhile, SQLite refuses to let that stale reader write (`database is locked`). The
    route must audit from a fresh write transaction. (Committed data, in 富川 451123.)"""
    clean = sample_jpeg()
    sha256 = hashlib.sha256(clean).hexdigest()
    with session_scope() as setup:
        operator = operator_of(setup, make_enterprise(setup, region_code="451123"))
        reviewer = make_staff(setup, role="reviewer", jurisdiction="451123")
        filing = actions.create(
            setup,
            operator=operator,
            raw=filing_body(county_code="451123", township_code="451123100"),
        )
        document = documents.add_document(
            setup,
            filing,
            actor=operator,
            file=documents.StoredFile("id_document", "id.jpg", "image/jpeg", len(clean), sha256),
        )
        spool = get_settings().data_dir / "tmp" / f"test-{uuid.uuid4().hex}"
        spool.parent.mkdir(parents=True, exist_ok=True)
        spool.write_bytes(clean)
        get_storage().put_file(spool, sha256)
        ids = (pk(filing), pk(document))
        headers = auth(reviewer)

    reading, go = threading.Event(), threading.Event()
    real_find = queries.find_document

    def find_then_pause(session: Session, filing: Filing, document_id: int) -> Document:
        found = real_find(session, filing, document_id)
        reading.set()
        assert go.wait(10)
        return found

    monkeypatch.setattr(queries, "find_document", find_then_pause)
    result: dict[str, object] = {}

    def download() -> None:
        with TestClient(app, raise_server_exceptions=False) as http:
            response = http.get(f"/api/v1/filings/{ids[0]}/documents/{ids[1]}", headers=headers)
            result["status"], result["body"] = response.status_code, response.content

    thread = threading.Thread(target=download)
    thread.start()
    assert reading.wait(10)
    with session_scope() as other:  # another request's write commits meanwhile
        make_staff(other, role="reviewer", jurisdiction="451123")
    go.set()
    thread.join(20)
    assert result.get("status") == 200, result
    with session_scope(for_write=False) as check:
        entries = [entry for entry in _read_entries(check) if entry.entity_id == str(ids[0])]
    assert len(entries) == 1
