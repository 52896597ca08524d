"""Outlet filings: drafting, documents, submission, review, changes, closure, revocation, lapse.

Services flush, never commit; every state change writes a history event and an audit entry in
the caller's transaction. Writes load the filing with FOR UPDATE (PostgreSQL) or under SQLite's
write lock, so concurrent actions on one filing queue and the losers see the new state (409).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, exists, func, or_
from sqlmodel import Session, col, select

from core import clock
from models.base import aware
from models.enterprise import Enterprise
from models.filing import (
    Document,
    Filing,
    FilingEvent,
    FilingRevision,
    ReviewDecision,
    RevisionBrand,
)
from models.user import User
from schemas.filings import FilingContent
from services import audit, directory, filing_rules, numbering, receipts, regions
from services.errors import (
    InvalidTransition,
    LicenceCancelled,
    MissingDocuments,
    NotFound,
    ValidationFailed,
    VersionConflict,
    from_pydantic,
)
from services.lifecycle import next_status
from services.working_days import working_days_between

STAFF_ROLES = ("reviewer", "admin")


# --- access -------------------------------------------------------------------------------


def can_see(user: User, filing: Filing) -> bool:
    if user.role == "operator":
        return filing.enterprise_id == user.enterprise_id
    if user.role in STAFF_ROLES:
        return regions.covers(user.jurisdiction, filing.county_code)
    return False


def get_for(session: Session, filing_id: int, user: User, *, for_update: bool = False) -> Filing:
    """The filing if `user` may see it; otherwise it does not exist for them (404)."""
    filing = session.get(
        Filing, filing_id, with_for_update=for_update, populate_existing=for_update
    )
    if filing is None or not can_see(user, filing):
        raise NotFound("备案记录不存在")
    return filing


def etag(filing: Filing) -> str:
    return f'"{filing.id}.{filing.version}"'


def check_version(filing: Filing, if_match: str | None) -> None:
    """Honours If-Match: a stale ETag is a 412, so nobody overwrites what they have not seen."""
    if if_match is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag(filing) not in candidates:
        raise VersionConflict()


# --- reading ------------------------------------------------------------------------------


def revision(session: Session, revision_id: int | None) -> FilingRevision | None:
    return session.get(FilingRevision, revision_id) if revision_id is not None else None


def documents_of(session: Session, revision_id: int) -> list[Document]:
    return list(
        session.exec(
            select(Document).where(Document.revision_id == revision_id).order_by(Document.id)
        ).all()
    )


def shown_revision(session: Session, filing: Filing) -> FilingRevision:
    """The revision in force, or the draft before the first acceptance."""
    shown = revision(session, filing.current_revision_id or filing.open_revision_id)
    assert shown is not None
    return shown


def open_change(session: Session, filing: Filing) -> FilingRevision | None:
    """The open change of a filed outlet (None before the first acceptance)."""
    if filing.current_revision_id is None:
        return None
    return revision(session, filing.open_revision_id)


def working_revision(session: Session, filing: Filing) -> FilingRevision:
    """What PATCH, documents, submit and review act on: the first filing or the open change."""
    working = revision(session, filing.open_revision_id)
    if working is None:
        raise InvalidTransition("没有待办的备案或变更：如需变更请先发起变更")
    return working


def content_of(rev: FilingRevision) -> dict[str, Any]:
    return {"outlet": rev.outlet, "person_in_charge": rev.person_in_charge, "partner": rev.partner}


def history(session: Session, filing: Filing) -> list[tuple[FilingEvent, str | None]]:
    rows = session.exec(
        select(FilingEvent, User.display_name)
        .join(User, col(User.id) == FilingEvent.actor_id, isouter=True)
        .where(FilingEvent.filing_id == filing.id)
        .order_by(FilingEvent.id)
    ).all()
    return [(event, name) for event, name in rows]


# --- writing helpers ----------------------------------------------------------------------


def _validated_content(session: Session, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        content = FilingContent.model_validate(raw)
    except ValidationError as error:
        raise ValidationFailed(from_pydantic(error.errors())) from None
    data = content.model_dump(mode="json")
    data["outlet"]["brands"] = list(dict.fromkeys(data["outlet"]["brands"]))
    data["outlet"]["scope"] = sorted(set(data["outlet"]["scope"]))
    filing_rules.check_content(session, data, today=clock.today())
    return data


def _apply_content(session: Session, rev: FilingRevision, data: dict[str, Any]) -> None:
    outlet = data["outlet"]
    rev.outlet = outlet
    rev.person_in_charge = data["person_in_charge"]
    rev.partner = data.get("partner")
    rev.outlet_name = outlet["name"]
    rev.address = outlet["address"]
    rev.county_code = outlet["county_code"]
    rev.township_code = outlet["township_code"]
    rev.opened_on = date.fromisoformat(outlet["opened_on"])
    session.add(rev)
    session.flush()
    existing = session.exec(select(RevisionBrand).where(RevisionBrand.revision_id == rev.id)).all()
    for row in existing:
        session.delete(row)
    session.flush()
    for code in outlet["brands"]:
        session.add(RevisionBrand(revision_id=rev.id, brand_code=code))
    session.flush()


def _touch(session: Session, filing: Filing) -> None:
    filing.version += 1
    filing.updated_at = clock.now()
    session.add(filing)
    session.flush()


def _record(
    session: Session,
    filing: Filing,
    rev: FilingRevision,
    *,
    action: str,
    actor: User | None,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """History event and audit entry for one state change, in the same transaction."""
    detail = detail or {}
    session.add(
        FilingEvent(
            filing_id=filing.id,  # type: ignore[arg-type]
            revision=rev.number,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor.id if actor else None,
            at=clock.now(),
            detail=detail,
        )
    )
    audit.append(
        session,
        actor_id=actor.id if actor else None,
        action=f"filing.{action}",
        entity="filing",
        entity_id=filing.id,
        data={
            "revision": rev.number,
            "from": from_status,
            "to": to_status,
            "filing_no": filing.filing_no,
            **detail,
        },
    )
    _touch(session, filing)


def _enterprise(session: Session, filing: Filing) -> Enterprise:
    enterprise = session.get(Enterprise, filing.enterprise_id)
    assert enterprise is not None
    return enterprise


# --- actions ------------------------------------------------------------------------------


def create(session: Session, *, operator: User, raw: dict[str, Any]) -> Filing:
    enterprise = session.get(Enterprise, operator.enterprise_id)
    if enterprise is None:
        raise NotFound("企业不存在")
    if enterprise.licence_cancelled_at is not None:
        raise LicenceCancelled()
    data = _validated_content(session, raw)
    filing = Filing(
        enterprise_id=enterprise.id,  # type: ignore[arg-type]
        county_code=data["outlet"]["county_code"],
        township_code=data["outlet"]["township_code"],
    )
    session.add(filing)
    session.flush()
    rev = FilingRevision(
        filing_id=filing.id,  # type: ignore[arg-type]
        number=1,
        status="draft",
        outlet={},
        person_in_charge={},
        outlet_name="",
        address="",
        county_code="",
        township_code="",
        opened_on=clock.today(),
    )
    session.add(rev)
    session.flush()
    _apply_content(session, rev, data)
    filing.open_revision_id = rev.id
    _record(
        session, filing, rev, action="create", actor=operator, from_status=None, to_status="draft"
    )
    return filing


def update(session: Session, filing: Filing, *, actor: User, patch: dict[str, Any]) -> Filing:
    rev = working_revision(session, filing)
    next_status(rev.status, "edit")
    data = _validated_content(session, filing_rules.merge(content_of(rev), patch))
    _apply_content(session, rev, data)
    if filing.current_revision_id is None:
        filing.county_code = rev.county_code
        filing.township_code = rev.township_code
    _record(
        session,
        filing,
        rev,
        action="edit",
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"sections": sorted(patch)},
    )
    return filing


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
        revision_id=rev.id,  # type: ignore[arg-type]
        kind=file.kind,
        filename=file.filename,
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
        uploaded_by_id=actor.id,
    )
    session.add(document)
    session.flush()
    _record(
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
    _record(
        session,
        filing,
        rev,
        action="document_removed",
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"kind": document.kind, "document_id": document_id},
    )


def find_document(session: Session, filing: Filing, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("文件不存在")
    rev = session.get(FilingRevision, document.revision_id)
    if rev is None or rev.filing_id != filing.id:
        raise NotFound("文件不存在")
    return document


def submit(session: Session, filing: Filing, *, actor: User) -> Filing:
    rev = working_revision(session, filing)
    new_status = next_status(rev.status, "submit")
    enterprise = _enterprise(session, filing)
    if enterprise.licence_cancelled_at is not None:
        raise LicenceCancelled()
    present = {document.kind for document in documents_of(session, rev.id)}  # type: ignore[arg-type]
    missing = filing_rules.missing_documents(
        present, outlet_type=rev.outlet["type"], is_branch=enterprise.is_branch
    )
    if missing:
        raise MissingDocuments(missing)
    today = clock.today()
    is_change = filing.current_revision_id is not None
    if is_change:
        started_on = rev.changed_on or today
        allowed = filing_rules.CHANGE_DAYS
    else:
        started_on = rev.opened_on
        allowed = filing_rules.FILING_DAYS
    old_status = rev.status
    if rev.submitted_at is None:
        # Lateness is judged by the first submission; resubmitting corrections is not a new filing.
        rev.late = filing_rules.is_late(
            submitted_on=today, started_on=started_on, allowed_days=allowed
        )
    rev.submitted_at = clock.now()
    rev.review_due_on, rev.return_due_on = filing_rules.deadlines(today)
    rev.status = new_status
    session.add(rev)
    if not is_change:
        filing.status = new_status
    _record(
        session,
        filing,
        rev,
        action="submit",
        actor=actor,
        from_status=old_status,
        to_status=new_status,
        detail={"late": rev.late, "review_due_on": rev.review_due_on.isoformat()},
    )
    return filing


def _record_decision(session: Session, filing: Filing, rev: FilingRevision, action: str) -> None:
    """Counts the working days from submission to this decision, against its deadline."""
    assert rev.submitted_at is not None
    submitted_on = aware(rev.submitted_at).astimezone(clock.CHINA_TZ).date()  # type: ignore[union-attr]
    decided_on = clock.today()
    days = working_days_between(submitted_on, decided_on)
    limit = (
        filing_rules.REVIEW_WORKING_DAYS if action == "accept" else filing_rules.RETURN_WORKING_DAYS
    )
    session.add(
        ReviewDecision(
            filing_id=filing.id,  # type: ignore[arg-type]
            revision_id=rev.id,  # type: ignore[arg-type]
            county_code=rev.county_code,
            action=action,
            submitted_on=submitted_on,
            decided_on=decided_on,
            working_days=days,
            within_deadline=days <= limit,
            decided_at=clock.now(),
        )
    )


def accept(session: Session, filing: Filing, *, reviewer: User) -> Filing:
    rev = working_revision(session, filing)
    new_status = next_status(rev.status, "accept")
    if _enterprise(session, filing).licence_cancelled_at is not None:
        raise LicenceCancelled()
    now = clock.now()
    old_status = rev.status
    if filing.filing_no is None:
        year = clock.today().year
        serial = numbering.allocate_serial(session, county_code=rev.county_code, year=year)
        filing.filing_no = numbering.filing_number(rev.county_code, year, serial)
    previous = revision(session, filing.current_revision_id)
    if previous is not None:
        previous.status = "superseded"
        session.add(previous)
    _record_decision(session, filing, rev, "accept")
    rev.status = new_status
    rev.decided_at = now
    rev.decided_by_id = reviewer.id
    rev.corrections = []
    rev.receipt_no = numbering.receipt_number(filing.filing_no, rev.number)
    session.add(rev)
    filing.status = "filed"
    filing.current_revision_id = rev.id
    filing.open_revision_id = None
    filing.county_code = rev.county_code
    filing.township_code = rev.township_code
    session.add(filing)
    session.flush()
    receipts.issue(session, filing, rev, _enterprise(session, filing))
    receipts.announce_change(session)
    directory.refresh(session, filing)
    _record(
        session,
        filing,
        rev,
        action="accept",
        actor=reviewer,
        from_status=old_status,
        to_status=new_status,
        detail={"receipt_no": rev.receipt_no},
    )
    return filing


def return_for_correction(
    session: Session, filing: Filing, *, reviewer: User, corrections: list[dict[str, str]]
) -> Filing:
    rev = working_revision(session, filing)
    new_status = next_status(rev.status, "return")
    if not corrections:
        raise ValidationFailed.single(
            "corrections", "validation_error", "退回时须逐项列明需补正的内容（至少一项）"
        )
    items = []
    for index, item in enumerate(corrections):
        if bool(item.get("field")) == bool(item.get("document")):
            raise ValidationFailed.single(
                f"corrections.{index}",
                "validation_error",
                "每项补正须指明字段或文件之一，并说明理由",
            )
        items.append({k: v for k, v in item.items() if v is not None})
    old_status = rev.status
    _record_decision(session, filing, rev, "return")
    rev.status = new_status
    rev.corrections = items
    rev.decided_at = clock.now()
    rev.decided_by_id = reviewer.id
    rev.return_count += 1
    session.add(rev)
    if filing.current_revision_id is None:
        filing.status = new_status
    _record(
        session,
        filing,
        rev,
        action="return",
        actor=reviewer,
        from_status=old_status,
        to_status=new_status,
        detail={"corrections": items},
    )
    return filing


def open_new_change(
    session: Session, filing: Filing, *, actor: User, changed_on: date | None, reason: str | None
) -> Filing:
    next_status(filing.status, "open_change")
    if filing.open_revision_id is not None:
        raise InvalidTransition("已有一项未办结的变更，请先完成该变更")
    if _enterprise(session, filing).licence_cancelled_at is not None:
        raise LicenceCancelled()
    today = clock.today()
    if changed_on is not None and changed_on > today:
        raise ValidationFailed.single("changed_on", "future_date", "变更日期不能晚于今天")
    current = shown_revision(session, filing)
    change = FilingRevision(
        filing_id=filing.id,  # type: ignore[arg-type]
        number=current.number + 1,
        status="draft",
        outlet=dict(current.outlet),
        person_in_charge=dict(current.person_in_charge),
        partner=dict(current.partner) if current.partner else None,
        outlet_name=current.outlet_name,
        address=current.address,
        county_code=current.county_code,
        township_code=current.township_code,
        opened_on=current.opened_on,
        changed_on=changed_on or today,
        change_reason=reason,
    )
    session.add(change)
    session.flush()
    for code in current.outlet["brands"]:
        session.add(RevisionBrand(revision_id=change.id, brand_code=code))
    for document in documents_of(session, current.id):  # type: ignore[arg-type]
        session.add(
            Document(
                revision_id=change.id,  # type: ignore[arg-type]
                kind=document.kind,
                filename=document.filename,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                uploaded_by_id=document.uploaded_by_id,
                uploaded_at=document.uploaded_at,
            )
        )
    filing.open_revision_id = change.id
    _record(
        session,
        filing,
        change,
        action="open_change",
        actor=actor,
        from_status=None,
        to_status="draft",
        detail={"changed_on": change.changed_on.isoformat(), "reason": reason},
    )
    return filing


def _end(
    session: Session,
    filing: Filing,
    *,
    action: str,
    actor: User | None,
    reason: str,
    closed_on: date | None = None,
) -> Filing:
    new_status = next_status(filing.status, action)
    change = open_change(session, filing)
    if change is not None:
        change.status = "discarded"
        session.add(change)
        filing.open_revision_id = None
    old_status = filing.status
    filing.status = new_status
    filing.end_reason = reason
    filing.ended_at = clock.now()
    filing.closed_on = closed_on
    session.add(filing)
    directory.refresh(session, filing)
    receipts.announce_change(session)
    detail: dict[str, Any] = {"reason": reason}
    if closed_on is not None:
        detail["closed_on"] = closed_on.isoformat()
    _record(
        session,
        filing,
        shown_revision(session, filing),
        action=action,
        actor=actor,
        from_status=old_status,
        to_status=new_status,
        detail=detail,
    )
    return filing


def close(session: Session, filing: Filing, *, actor: User, closed_on: date, reason: str) -> Filing:
    if closed_on > clock.today():
        raise ValidationFailed.single("closed_on", "future_date", "停业日期不能晚于今天")
    return _end(session, filing, action="close", actor=actor, reason=reason, closed_on=closed_on)


def revoke(session: Session, filing: Filing, *, reviewer: User, reason: str) -> Filing:
    return _end(session, filing, action="revoke", actor=reviewer, reason=reason)


def cancel_licence(
    session: Session, enterprise: Enterprise, *, actor: User, reason: str
) -> list[Filing]:
    """The operator's courier licence is cancelled: every filing in force lapses."""
    if enterprise.licence_cancelled_at is not None:
        raise InvalidTransition("该企业的许可已注销")
    enterprise.licence_cancelled_at = clock.now()
    enterprise.licence_cancellation_reason = reason
    session.add(enterprise)
    audit.append(
        session,
        actor_id=actor.id,
        action="enterprise.licence_cancelled",
        entity="enterprise",
        entity_id=enterprise.id,
        data={"reason": reason, "uscc": enterprise.uscc},
    )
    filed = session.exec(
        select(Filing)
        .where(Filing.enterprise_id == enterprise.id, Filing.status == "filed")
        .order_by(Filing.id)
        .with_for_update()
    ).all()
    return [_end(session, filing, action="lapse", actor=actor, reason=reason) for filing in filed]


# --- listing ------------------------------------------------------------------------------


@dataclass
class ListFilters:
    status: str | None = None
    county: str | None = None
    township: str | None = None
    brand: str | None = None
    q: str | None = None
    late: bool | None = None
    overdue: bool | None = None
    queue: bool = False


def scoped_query(user: User):  # type: ignore[no-untyped-def]
    """Filings the user may see, joined with the revision shown for each."""
    shown_id = func.coalesce(Filing.current_revision_id, Filing.open_revision_id)
    query = select(Filing, FilingRevision).join(FilingRevision, col(FilingRevision.id) == shown_id)
    if user.role == "operator":
        return query.where(Filing.enterprise_id == user.enterprise_id)
    if user.role in STAFF_ROLES:
        return query.where(
            col(Filing.county_code).startswith(regions.region_prefix(user.jurisdiction))
        )
    return query.where(False)  # type: ignore[arg-type]


def list_filings(
    session: Session, user: User, filters: ListFilters, *, limit: int, offset: int
) -> tuple[list[tuple[Filing, FilingRevision, FilingRevision | None]], int]:
    query = scoped_query(user)
    working = select(FilingRevision.id).where(
        FilingRevision.id == Filing.open_revision_id, FilingRevision.status == "submitted"
    )
    if filters.status:
        query = query.where(Filing.status == filters.status)
    if filters.county:
        query = query.where(Filing.county_code == filters.county)
    if filters.township:
        query = query.where(Filing.township_code == filters.township)
    if filters.brand:
        query = query.where(
            exists().where(
                RevisionBrand.revision_id == FilingRevision.id,
                RevisionBrand.brand_code == filters.brand,
            )
        )
    if filters.q:
        pattern = f"%{filters.q.strip()}%"
        query = query.where(
            or_(
                col(FilingRevision.outlet_name).ilike(pattern),
                col(FilingRevision.address).ilike(pattern),
                col(Filing.filing_no).ilike(pattern),
            )
        )
    if filters.late is not None:
        query = query.where(FilingRevision.late == filters.late)
    today = clock.today()
    if filters.overdue:
        query = query.where(
            exists(working.where(col(FilingRevision.review_due_on) < today).correlate(Filing))
        )
    if filters.queue:
        query = query.where(exists(working.correlate(Filing)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    if filters.queue:
        pending = FilingRevision.__table__.alias("pending")  # type: ignore[attr-defined]
        query = query.join(pending, and_(pending.c.id == Filing.open_revision_id)).order_by(
            pending.c.review_due_on, pending.c.submitted_at, Filing.id
        )
    else:
        query = query.order_by(col(Filing.updated_at).desc(), col(Filing.id).desc())
    rows = session.exec(query.limit(limit).offset(offset)).all()
    # The open changes of the whole page in one query, not one per row.
    change_ids = [
        f.open_revision_id for f, _ in rows if f.current_revision_id and f.open_revision_id
    ]
    changes = {
        rev.id: rev
        for rev in session.exec(
            select(FilingRevision).where(col(FilingRevision.id).in_(change_ids))
        )
    }
    return [
        (
            filing,
            shown,
            changes.get(filing.open_revision_id) if filing.current_revision_id else None,
        )  # type: ignore[arg-type]
        for filing, shown in rows
    ], total


def brands_of(session: Session, revision_ids: list[int]) -> dict[int, list[str]]:
    rows = session.exec(
        select(RevisionBrand).where(col(RevisionBrand.revision_id).in_(revision_ids))
    ).all()
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(row.revision_id, []).append(row.brand_code)
    return found
