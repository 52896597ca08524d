"""A filing's document as an HTTP answer, for the API's download and every page that shows one
(the operator's, the reviewer's, the inspector's): the caller has already decided the user may
read the filing."""

from collections.abc import Iterator
from typing import BinaryIO, Literal
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from sqlmodel import Session

from core.db import begin_session
from core.storage import get_storage
from domain.errors import NotFound
from domain.vocabulary import DocumentKind
from models.filing import Filing
from models.user import User
from services.filings import documents, queries


def document_response(
    session: Session,
    filing: Filing,
    document_id: int,
    user: User,
    *,
    disposition: Literal["attachment", "inline"],
) -> StreamingResponse:
    """The file, streamed from the store; reading a person's ID document is audited.

    `attachment` is the API's download (with its SHA-256 as ETag); `inline` is shown in the
    browser and never cached."""
    document = queries.find_document(session, filing, document_id)
    if document.kind == DocumentKind.ID_DOCUMENT:
        # A GET runs in a read transaction, and on SQLite a reader whose snapshot has gone stale
        # cannot start writing: end it and begin a writer (BEGIN IMMEDIATE) for the audit entry.
        session.commit()
        begin_session(session, for_write=True)
        documents.record_document_read(session, filing, document, actor=user)
    try:
        handle = get_storage().open(document.sha256)
    except FileNotFoundError as error:
        raise NotFound("文件内容不存在") from error
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(document.filename)}",
        "X-Content-Type-Options": "nosniff",
    }
    if disposition == "inline":
        headers["Cache-Control"] = "private, no-store"
    else:
        headers["ETag"] = f'"{document.sha256}"'
    return StreamingResponse(_chunks(handle), media_type=document.content_type, headers=headers)


def inline_document(
    session: Session, filing: Filing, document_id: int, user: User
) -> StreamingResponse:
    """The file shown in the browser (pages)."""
    return document_response(session, filing, document_id, user, disposition="inline")


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(64 * 1024), b"")
