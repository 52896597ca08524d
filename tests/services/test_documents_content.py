"""Content checks without HTTP: how many decode at once, where an image ends, what a PDF may
carry, the stored name; and stored files that no row references being swept."""

import io
import os
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, JpegImagePlugin
from sqlmodel import Session

from cli.main import main as cli_main
from core.config import get_settings
from core.storage import get_storage
from domain import documents as content
from models.base import pk
from models.inspection import Inspection, InspectionEvidence, InspectionPlan
from models.user import User
from services.filings import documents
from tests.factories import draft_via_services, pdf_of, sample_pdf

PAGES = [
    b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
    b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>>",
]


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / uuid.uuid4().hex
    path.write_bytes(data)
    return path


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


# --- bounded decoding -------------------------------------------------------------------------


def test_no_more_than_two_images_are_decoded_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight uploads checked at the same time: the decoder is entered by at most two threads at
    once, and only ever by the same two (each thread that decodes keeps its allocator arena's
    memory: eight request threads taking turns grew RSS to 1.2 GB on 7000×7000 PNGs)."""
    inside = 0
    peak = 0
    threads: set[int] = set()
    guard = threading.Lock()
    real_decode = content._decode_image

    def counting_decode(source: Any, expected_format: str) -> None:
        nonlocal inside, peak
        with guard:
            inside += 1
            peak = max(peak, inside)
            threads.add(threading.get_ident())
        try:
            time.sleep(0.05)
            real_decode(source, expected_format)
        finally:
            with guard:
                inside -= 1

    monkeypatch.setattr(content, "_decode_image", counting_decode)
    paths = [write(tmp_path, png()) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(content.sniff, paths))
    assert {result.content_type for result in results} == {"image/png"}
    assert peak == content.MAX_CONCURRENT_CHECKS == 2
    assert len(threads) <= 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(content.sniff, paths))
    assert len(threads) <= 2, "later uploads are decoded on the same two threads"


def test_a_jpeg_is_decoded_at_reduced_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every coefficient is still read (a truncated JPEG fails), in 1/64 of the pixel memory."""
    buffer = io.BytesIO()
    Image.effect_noise((640, 480), 40).convert("RGB").save(buffer, format="JPEG")
    drafts: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: Any) -> Any:
        drafts.append(size)
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    assert content.sniff(write(tmp_path, buffer.getvalue())).content_type == "image/jpeg"
    assert drafts == [(80, 60)]
    with pytest.raises(content.UnsupportedMediaType):
        content.sniff(write(tmp_path, buffer.getvalue()[:-200]))


# --- where an image ends ----------------------------------------------------------------------


def jpeg_with_thumbnail_segment() -> bytes:
    """A JPEG whose APP1 segment carries a whole embedded JPEG (as EXIF thumbnails do): the
    thumbnail's EOI is not the image's end."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, format="JPEG")
    main = buffer.getvalue()
    thumbnail = main  # any complete JPEG, EOI included
    payload = b"Exif\x00\x00" + thumbnail
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return main[:2] + app1 + main[2:]


def test_a_jpeg_ends_at_its_own_eoi_not_a_thumbnail_s(tmp_path: Path) -> None:
    image = jpeg_with_thumbnail_segment()
    sent = image + b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096)
    sniffed = content.sniff(write(tmp_path, sent))
    assert (sniffed.content_type, sniffed.length) == ("image/jpeg", len(image))


def test_a_png_ends_after_iend(tmp_path: Path) -> None:
    image = png()
    sniffed = content.sniff(write(tmp_path, image + b"\x00IEND trailing" * 10))
    assert (sniffed.content_type, sniffed.length) == ("image/png", len(image))


def test_an_image_without_trailing_data_is_kept_whole(tmp_path: Path) -> None:
    image = png()
    assert content.sniff(write(tmp_path, image)).length == len(image)


# --- PDF --------------------------------------------------------------------------------------


def pdf_with_object_stream(hidden: bytes) -> bytes:
    """PDF 1.5: the catalog's OpenAction (object 4) lives compressed in object stream 5, listed
    by a cross-reference stream, so its names never appear in the file's raw bytes."""
    out = bytearray(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}
    for number, body in {
        1: b"<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>",
        2: PAGES[0],
        3: PAGES[1],
    }.items():
        offsets[number] = len(out)
        out += f"{number} 0 obj".encode() + body + b"endobj\n"
    index = b"4 0 "
    stream = zlib.compress(index + hidden)
    offsets[5] = len(out)
    out += (
        f"5 0 obj<</Type/ObjStm/N 1/First {len(index)}/Filter/FlateDecode/Length {len(stream)}>>"
        "stream\n".encode()
        + stream
        + b"\nendstream endobj\n"
    )
    offsets[6] = len(out)

    def row(kind: int, field: int, extra: int) -> bytes:
        return bytes([kind]) + field.to_bytes(4, "big") + extra.to_bytes(2, "big")

    table = b"".join(
        [
            row(0, 0, 65535),
            *(row(1, offsets[n], 0) for n in (1, 2, 3)),
            row(2, 5, 0),
            row(1, offsets[5], 0),
            row(1, offsets[6], 0),
        ]
    )
    out += (
        f"6 0 obj<</Type/XRef/Size 7/W[1 4 2]/Root 1 0 R/Length {len(table)}>>stream\n".encode()
        + table
        + b"\nendstream endobj\n"
        + f"startxref\n{offsets[6]}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_javascript_inside_a_compressed_object_stream_is_found(tmp_path: Path) -> None:
    hidden = b"<</S/J#61vaScript/J#53(app.alert(1))>>"
    assert hidden not in pdf_with_object_stream(hidden)
    with pytest.raises(content.UnsupportedMediaType) as refused:
        content.sniff(write(tmp_path, pdf_with_object_stream(hidden)))
    assert "JavaScript" in refused.value.message
    harmless = content.sniff(
        write(tmp_path, pdf_with_object_stream(b"<</S/URI/URI(https://example.com/)>>"))
    )
    assert harmless.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            pdf_of([b"<</Type/Catalog/Pages 2 0 R/AA<</O 4 0 R>>>>", *PAGES, b"<</JS 5 0 R>>"]),
            "JavaScript",
            id="a /JS entry alone",
        ),
        pytest.param(
            pdf_of([b"<</Type/Catalog/Pages 2 0 R>>", *PAGES])
            + b"\n4 0 obj<</S/Launch/F(calc.exe)>>endobj\n%%EOF\n",
            "JavaScript",
            id="a launch action no table lists",
        ),
        pytest.param(sample_pdf() + b"\r\n\r\nPK\x03\x04", "%%EOF", id="a zip after %%EOF"),
        pytest.param(sample_pdf().replace(b"%%EOF", b""), "不完整", id="no %%EOF"),
        pytest.param(b"%PDF-1.4\nnot a pdf\n%%EOF\n", "无法解析", id="header only"),
        pytest.param(
            pdf_of([b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"]),
            "无法解析",
            id="no pages",
        ),
    ],
)
def test_refused_pdfs_say_why(tmp_path: Path, data: bytes, reason: str) -> None:
    with pytest.raises(content.UnsupportedMediaType) as refused:
        content.sniff(write(tmp_path, data))
    assert reason in refused.value.message


def test_a_pdf_with_whitespace_after_eof_and_incremental_updates_is_accepted(
    tmp_path: Path,
) -> None:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(20, 20, "营业执照 business licence")
    page.linkURL("https://example.com/", (0, 0, 50, 50))
    page.save()
    data = buffer.getvalue() + b"\r\n \x00\n"
    sniffed = content.sniff(write(tmp_path, data))
    assert (sniffed.content_type, sniffed.length) == ("application/pdf", len(data))


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("营业执照.pdf", "营业执照.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a\u2066b\u2067c\u2068d\u2069e\u202af\u202bg\u202ch\u202di.pdf", "abcdefghi.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("line\r\nbreak\u2028.pdf", "linebreak.pdf"),
        ("C:\\Users\\王五\\身份证.jpg", "身份证.jpg"),
        ("../../etc/passwd", "passwd"),
        ("dir/", "upload"),
        ("..", "upload"),
        ("\x01\x02", "upload"),
        ("长" * 300, "长" * 255),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert content.clean_filename(raw) == clean


# --- stored files no row references -----------------------------------------------------------


def put_blob(data: bytes) -> str:
    import hashlib

    sha256 = hashlib.sha256(data).hexdigest()
    spool = get_settings().data_dir / "tmp" / f"test-{uuid.uuid4().hex}"
    spool.parent.mkdir(parents=True, exist_ok=True)
    spool.write_bytes(data)
    get_storage().put_file(spool, sha256)
    return sha256


def age_local_blob(sha256: str, seconds: float) -> Path:
    """Makes a file of the local store look stored `seconds` ago; its path."""
    path = get_settings().upload_dir / sha256[:2] / sha256[2:4] / sha256
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def make_evidence(session: Session, operator: User, sha256: str) -> None:
    filing = draft_via_services(session, operator)
    plan = InspectionPlan(
        name="证据测试",
        region_code="451102",
        item_codes=[],
        sampling={},
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        randomness_sources="",
    )
    session.add(plan)
    session.flush()
    inspection = Inspection(
        plan_id=pk(plan),
        m=1,
        filing_id=pk(filing),
        filing_no="451102-2026-999999",
        outlet_name="证据测试网点",
        outlet_address="证据测试地址",
        stratum="low",
        eligible=[],
        team=[],
    )
    session.add(inspection)
    session.flush()
    session.add(
        InspectionEvidence(
            inspection_id=pk(inspection),
            filename="e.jpg",
            content_type="image/jpeg",
            size=1,
            sha256=sha256,
        )
    )
    session.flush()


@contextmanager
def within(session: Session) -> Iterator[Session]:
    yield session


@pytest.mark.usefixtures("storage_backend")
def test_sweep_deletes_old_unreferenced_files_only(session: Session, operator: User) -> None:
    """On both stores. An object store keeps whole seconds and its own clock for LastModified,
    so "old" is "stored before a boundary two seconds back" and the sweep runs as if an hour
    had passed since that boundary."""
    orphan = put_blob(os.urandom(64))
    by_document = put_blob(os.urandom(64))
    by_evidence = put_blob(os.urandom(64))
    tmp = get_settings().data_dir / "tmp"
    stale_temp, fresh_temp = tmp / f"upload-{uuid.uuid4().hex}", tmp / f"upload-{uuid.uuid4().hex}"
    stale_temp.write_bytes(b"half an upload")
    time.sleep(2.1)
    boundary = time.time() - 1.0
    young = put_blob(os.urandom(64))
    fresh_temp.write_bytes(b"an upload in progress")
    filing = draft_via_services(session, operator)
    documents.add_document(
        session,
        filing,
        actor=operator,
        file=documents.StoredFile("other", "x.pdf", "application/pdf", 64, by_document),
    )
    make_evidence(session, operator, by_evidence)

    report = documents.sweep_files(
        lambda: within(session), older_than=timedelta(hours=1), now=boundary + 3600
    )

    stored = get_storage()
    assert not stored.exists(orphan)
    assert stored.exists(young), "younger than an hour: may be an upload not yet committed"
    assert stored.exists(by_document) and stored.exists(by_evidence)
    assert not stale_temp.exists() and fresh_temp.exists()
    assert report.blobs >= 1 and report.temp_files >= 1
    stored.delete(young)
    fresh_temp.unlink()
    assert {orphan, young}.isdisjoint({by_document, by_evidence})


@pytest.mark.usefixtures("storage_backend")
def test_evidence_keeps_a_file_whose_document_is_removed(session: Session, operator: User) -> None:
    sha256 = put_blob(os.urandom(64))
    filing = draft_via_services(session, operator)
    document = documents.add_document(
        session,
        filing,
        actor=operator,
        file=documents.StoredFile("other", "x.pdf", "application/pdf", 64, sha256),
    )
    make_evidence(session, operator, sha256)
    session.commit()
    documents.remove_document(session, filing, actor=operator, document_id=pk(document))
    session.commit()
    assert get_storage().exists(sha256)


def test_sweep_files_command(capsys: pytest.CaptureFixture[str], engine: object) -> None:
    orphan_path = age_local_blob(put_blob(os.urandom(64)), 3 * 3600)
    young_path = age_local_blob(put_blob(os.urandom(64)), 30 * 60)
    assert cli_main(["sweep-files"]) == 0
    assert not orphan_path.exists()
    assert young_path.exists()
    assert "已删除" in capsys.readouterr().out
    assert cli_main(["sweep-files", "--older-than", "20"]) == 0
    assert not young_path.exists()
    with pytest.raises(SystemExit):
        cli_main(["sweep-files", "--older-than", "0"])
