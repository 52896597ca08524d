"""Documents of the revision being worked on: add (stored by content hash) and remove."""

from dataclasses import dataclass

from sqlmodel import Session, select

from domain.errors import (
    NotFound,
)
from domain.lifecycle import next_status
from models.base import pk
from models.filing import (
    Document,
    Filing,
)
from models.user import User
from services.filings.events import record_event
from services.filings.queries import working_revision


@dataclass(frozen=True)
class StoredFile:
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str


def add_document(session: Session, filing: Filing, *, actor: User, file: StoredFile) -> Document:
    """Attaches a stored file to the working revision; the same file and kind twice is one."""
    rev = working_revision(session, filing)
    next_status(rev.status, "edit")
    same = session.exec(
        select(Document).where(
            Document.revision_id == rev.id,
            Document.kind == file.kind,
            Document.sha256 == file.sha256,
        )
    ).first()
    if same is not None:
        return same
    document = Document(
        revision_id=pk(rev),
        kind=file.kind,
        filename=file.filename,
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
        uploaded_by_id=actor.id,
    )
    session.add(document)
    session.flush()
    record_event(
        session,
        filing,
        rev,
        action="document",
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"kind": file.kind, "sha256": file.sha256, "document_id": document.id},
    )
    return document


def remove_document(session: Session, filing: Filing, *, actor: User, document_id: int) -> None:
    rev = working_revision(session, filing)
    next_status(rev.status, "edit")
    document = session.get(Document, document_id)
    if document is None or document.revision_id != rev.id:
        raise NotFound("文件不存在")
    session.delete(document)
    session.flush()
    record_event(
        session,
        filing,
        rev,
        action="document_removed",
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"kind": document.kind, "document_id": document_id},
    )
