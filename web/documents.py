"""A filing's document shown in the browser, for whichever page may show it (the operator's,
the reviewer's, the inspector's): the caller has already decided the user may read the filing."""

from collections.abc import Iterator
from typing import BinaryIO
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


def inline_document(
    session: Session, filing: Filing, document_id: int, user: User
) -> StreamingResponse:
    """The file, inline, never cached; reading a person's ID document is audited, as in the API."""
    document = queries.find_document(session, filing, document_id)
    if document.kind == DocumentKind.ID_DOCUMENT:
        session.commit()  # a reader cannot start writing on SQLite: begin a writer for the audit
        begin_session(session, for_write=True)
        documents.record_document_read(session, filing, document, actor=user)
    try:
        handle = get_storage().open(document.sha256)
    except FileNotFoundError as error:
        raise NotFound("文件内容不存在") from error
    return StreamingResponse(
        _chunks(handle),
        media_type=document.content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(document.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(64 * 1024), b"")
