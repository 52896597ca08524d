"""Documents of the revision being worked on: add (stored by content hash) and remove; reads
of a person's ID document are audited; stored files no row references are deleted.

Stored files are shared by content (SHA-256), so a file is deleted only when no Document or
InspectionEvidence row references it any more, and only after the transaction that removed the
last reference has committed (a rollback keeps the file). The check and the deletion run in a
short write transaction of their own that excludes concurrent uploads: on SQLite the write lock
(an upload holds it from its INSERT until its commit, across storing the file), on PostgreSQL
an advisory lock that uploads take shared (`claim_blob`) and the cleanup takes exclusively. A
crash between storing a file and committing its row leaves an orphan: `sweep_files` removes
orphans older than an hour (`outlet-filing sweep-files`).
"""

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event, text, union
from sqlmodel import Session, col, select

from core.config import get_settings
from core.db import begin_session, is_postgresql
from core.storage import get_storage, sweep_spool
from domain.errors import (
    NotFound,
)
from domain.lifecycle import next_status
from domain.vocabulary import DocumentKind, FilingAction
from models.base import pk
from models.filing import (
    Document,
    Filing,
)
from models.inspection import InspectionEvidence
from models.user import User
from services.filings.events import record_event
from services.filings.queries import working_revision
from services.oversight import audit

logger = logging.getLogger("outlet_filing.files")

# pg_advisory_xact_lock(key1, key2): a key pair no other lock in the service uses.
_BLOB_LOCK = {"space": 0x0A0D17, "key": 0xB10B}
_RELEASED = "released_blobs"
SWEEP_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class StoredFile:
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str


def add_document(session: Session, filing: Filing, *, actor: User, file: StoredFile) -> Document:
    """Attaches a stored file to the working revision; the same file and kind twice is one."""
    claim_blob(session)
    rev = working_revision(session, filing)
    next_status(rev.status, FilingAction.EDIT)
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
        action=FilingAction.ADD_DOCUMENT,
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"kind": file.kind, "sha256": file.sha256, "document_id": document.id},
    )
    return document


def remove_document(session: Session, filing: Filing, *, actor: User, document_id: int) -> None:
    rev = working_revision(session, filing)
    next_status(rev.status, FilingAction.EDIT)
    document = session.get(Document, document_id)
    if document is None or document.revision_id != rev.id:
        raise NotFound("文件不存在")
    session.delete(document)
    session.flush()
    release_blob(session, document.sha256)
    record_event(
        session,
        filing,
        rev,
        action=FilingAction.REMOVE_DOCUMENT,
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"kind": document.kind, "document_id": document_id},
    )


def record_document_read(
    session: Session, filing: Filing, document: Document, *, actor: User
) -> None:
    """Reading a person's ID document is audited: who (the entry's actor and time), which filing
    and document; no personal data (not even the file's name). Other kinds are not recorded.
    The caller's transaction must be able to write."""
    if document.kind != DocumentKind.ID_DOCUMENT:
        return
    audit.append(
        session,
        actor_id=actor.id,
        action="filing.document_read",
        entity="filing",
        entity_id=filing.id,
        region_code=filing.county_code,
        data={"document_id": document.id, "kind": document.kind, "filing_no": filing.filing_no},
    )


# --- stored files ---------------------------------------------------------------------------


def claim_blob(session: Session) -> None:
    """Call before a row starts referencing a stored file (and before the file is stored): until
    this transaction ends no cleanup can delete a file. On SQLite the writer's lock does this."""
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:space, :key)"), _BLOB_LOCK)


def release_blob(session: Session, sha256: str) -> None:
    """A row referencing `sha256` was deleted: once the transaction commits, delete the file if
    nothing references it any more."""
    session.info.setdefault(_RELEASED, set()).add(sha256)


def referenced(session: Session, sha256s: Iterable[str]) -> set[str]:
    wanted = sorted(set(sha256s))
    if not wanted:
        return set()
    query = union(
        select(Document.sha256).where(col(Document.sha256).in_(wanted)),
        select(InspectionEvidence.sha256).where(col(InspectionEvidence.sha256).in_(wanted)),
    )
    return {row[0] for row in session.execute(query)}


def delete_unreferenced(session: Session, sha256s: Iterable[str]) -> list[str]:
    """Deletes the stored files among `sha256s` that no row references; the deleted ones. Runs
    in the caller's transaction, which must be a writer (SQLite: BEGIN IMMEDIATE) so that no
    upload can add a reference between the check and the deletion."""
    wanted = set(sha256s)
    if not wanted:
        return []
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), _BLOB_LOCK)
    storage = get_storage()
    unreferenced = sorted(wanted - referenced(session, wanted))
    for sha256 in unreferenced:
        storage.delete(sha256)
    return unreferenced


@event.listens_for(Session, "after_commit")
def _delete_released_blobs(session: Session) -> None:
    released = session.info.pop(_RELEASED, None)
    if not released:
        return
    try:
        # The committed session can emit no more SQL: a short transaction of its own, on the
        # same bind (the engine; in tests the test's connection).
        with Session(bind=session.bind, join_transaction_mode="create_savepoint") as cleanup:
            begin_session(cleanup, for_write=True)
            deleted = delete_unreferenced(cleanup, released)
            cleanup.commit()
    except Exception:  # the change is committed; an orphan left here is swept later
        logger.warning("stored files not deleted after commit: %s", sorted(released), exc_info=True)
        return
    if deleted:
        logger.info("stored files deleted: %s", " ".join(deleted))


@event.listens_for(Session, "after_rollback")
def _keep_blobs_of_rolled_back_removals(session: Session) -> None:
    session.info.pop(_RELEASED, None)


@dataclass(frozen=True)
class SweepReport:
    blobs: int  # stored files no row referenced
    temp_files: int  # temporary upload files a crashed process left


def sweep_files(
    open_session: Callable[[], AbstractContextManager[Session]],
    *,
    older_than: timedelta = SWEEP_AGE,
    now: float | None = None,
    batch: int = 500,
) -> SweepReport:
    """Deletes stored files older than `older_than` that no row references, and temporary upload
    files as old. Younger files are left alone: an upload may be between storing its file and
    committing its row. Each batch is checked in its own write transaction from `open_session`
    (e.g. `core.db.session_scope`)."""
    cutoff = (time.time() if now is None else now) - older_than.total_seconds()
    candidates = sorted(sha256 for sha256, stored_at in get_storage().blobs() if stored_at < cutoff)
    deleted = 0
    for start in range(0, len(candidates), batch):
        with open_session() as session:
            deleted += len(delete_unreferenced(session, candidates[start : start + batch]))
    temp_files = sweep_spool(
        get_settings().data_dir / "tmp", older_than_seconds=older_than.total_seconds(), now=now
    )
    return SweepReport(blobs=deleted, temp_files=temp_files)
