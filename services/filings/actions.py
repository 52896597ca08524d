"""Filing actions (SPEC §3): draft, edit, submit, review, changes, closure, revocation, lapse.

Services flush, never commit; every state change writes a history event and an audit entry in
the caller's transaction. Writes load the filing with FOR UPDATE (PostgreSQL) or under SQLite's
write lock, so concurrent actions on one filing queue and the losers see the new state (409).
"""

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from core import clock
from domain.errors import (
    InvalidTransition,
    LicenceCancelled,
    MissingDocuments,
    NotFound,
    OutsideJurisdiction,
    ValidationFailed,
    from_pydantic,
)
from domain.lifecycle import next_status
from domain.vocabulary import Decision, FilingAction, FilingStatus, RevisionStatus
from domain.working_days import working_days_between
from models.base import pk
from models.enterprise import Enterprise
from models.filing import (
    Document,
    Filing,
    FilingRevision,
    ReviewDecision,
    RevisionBrand,
)
from models.user import User
from schemas.filings import FilingContent
from services.filings import access, numbering
from services.filings import rules as filing_rules
from services.filings.events import record_event
from services.filings.queries import (
    content_of,
    documents_of,
    missing_documents,
    open_change,
    revision,
    shown_revision,
    working_revision,
)
from services.notifications import events as notices
from services.oversight import audit
from services.receipts import directory, issuing
from services.reference import calendar as working_calendar
from services.reference import regions


def _validated_content(session: Session, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        content = FilingContent.model_validate(raw)
    except ValidationError as error:
        raise ValidationFailed(from_pydantic(error.errors())) from None
    data = content.model_dump(mode="json")
    data["outlet"]["brands"] = list(dict.fromkeys(data["outlet"]["brands"]))
    data["outlet"]["scope"] = sorted(set(data["outlet"]["scope"]))
    filing_rules.check_content(session, data, today=clock.today())
    data["outlet"]["address"] = filing_rules.street_address(session, data["outlet"])
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
        session.add(RevisionBrand(revision_id=pk(rev), brand_code=code))
    session.flush()


def _enterprise(session: Session, filing: Filing) -> Enterprise:
    enterprise = session.get(Enterprise, filing.enterprise_id)
    assert enterprise is not None
    return enterprise


def _check_licence(enterprise: Enterprise, *, county_code: str, township_code: str) -> None:
    """422 `outside_licence_scope` when the outlet lies outside the operator's licensed area or
    today (Beijing date) is outside the licence's validity; an unknown validity does not block."""
    filing_rules.check_licence_scope(
        county_code=county_code,
        township_code=township_code,
        licensed=filing_rules.licensed_regions(
            region_code=enterprise.region_code, licence_regions=enterprise.licence_regions
        ),
        valid_from=enterprise.licence_valid_from,
        valid_until=enterprise.licence_valid_until,
        today=clock.today(),
    )


def create(session: Session, *, operator: User, raw: dict[str, Any]) -> Filing:
    enterprise = session.get(Enterprise, operator.enterprise_id)
    if enterprise is None:
        raise NotFound("企业不存在")
    if enterprise.licence_cancelled_at is not None:
        raise LicenceCancelled()
    data = _validated_content(session, raw)
    _check_licence(
        enterprise,
        county_code=data["outlet"]["county_code"],
        township_code=data["outlet"]["township_code"],
    )
    filing = Filing(
        enterprise_id=pk(enterprise),
        county_code=data["outlet"]["county_code"],
        township_code=data["outlet"]["township_code"],
    )
    session.add(filing)
    session.flush()
    rev = FilingRevision(
        filing_id=pk(filing),
        number=1,
        status=RevisionStatus.DRAFT,
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
    record_event(
        session,
        filing,
        rev,
        action=FilingAction.CREATE,
        actor=operator,
        from_status=None,
        to_status=RevisionStatus.DRAFT,
    )
    return filing


def update(session: Session, filing: Filing, *, actor: User, patch: dict[str, Any]) -> Filing:
    """Edits the draft, the returned submission or the open change.

    `patch` holds content sections (merged field by field) and, for an open change only, a
    top-level `changed_on` (when the change happened; `null` clears it): the date the 10-day
    rule counts from, which must be set before the change is submitted.
    """
    rev = working_revision(session, filing)
    next_status(rev.status, FilingAction.EDIT)
    sections = {key: value for key, value in patch.items() if key != "changed_on"}
    if "changed_on" in patch:
        if filing.current_revision_id is None:
            raise ValidationFailed.single(
                "changed_on", "validation_error", "变更日期仅适用于已备案网点的变更"
            )
        rev.changed_on = _changed_on(patch["changed_on"])
    data = _validated_content(session, filing_rules.merge(content_of(rev), sections))
    _check_licence(
        _enterprise(session, filing),
        county_code=data["outlet"]["county_code"],
        township_code=data["outlet"]["township_code"],
    )
    _apply_content(session, rev, data)
    if filing.current_revision_id is None:
        filing.county_code = rev.county_code
        filing.township_code = rev.township_code
    record_event(
        session,
        filing,
        rev,
        action=FilingAction.EDIT,
        actor=actor,
        from_status=rev.status,
        to_status=rev.status,
        detail={"sections": sorted(patch)},
    )
    return filing


def _changed_on(value: date | None) -> date | None:
    if value is not None and value > clock.today():
        raise ValidationFailed.single("changed_on", "future_date", "变更日期不能晚于今天")
    return value


def submit(session: Session, filing: Filing, *, actor: User) -> Filing:
    rev = working_revision(session, filing)
    new_status = next_status(rev.status, FilingAction.SUBMIT)
    enterprise = _enterprise(session, filing)
    if enterprise.licence_cancelled_at is not None:
        raise LicenceCancelled()
    missing = missing_documents(session, filing, rev)
    if missing:
        raise MissingDocuments(missing)
    _check_licence(enterprise, county_code=rev.county_code, township_code=rev.township_code)
    today = clock.today()
    is_change = filing.current_revision_id is not None
    if is_change:
        if rev.changed_on is None:
            raise ValidationFailed.single(
                "changed_on",
                "validation_error",
                "提交变更前须填写变更日期（changed_on，变更发生之日），10 日期限自该日起算",
            )
        started_on = rev.changed_on
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
    rev.review_due_on, rev.return_due_on = filing_rules.deadlines(
        today, working_calendar.current(session)
    )
    rev.status = new_status
    session.add(rev)
    if not is_change:
        filing.status = new_status
    record_event(
        session,
        filing,
        rev,
        action=FilingAction.SUBMIT,
        actor=actor,
        from_status=old_status,
        to_status=new_status,
        detail={"late": rev.late, "review_due_on": rev.review_due_on.isoformat()},
    )
    return filing


def _record_decision(session: Session, filing: Filing, rev: FilingRevision, action: str) -> None:
    """Counts the working days from submission to this decision, against its deadline."""
    assert rev.submitted_at is not None
    submitted_on = clock.china_date(rev.submitted_at)
    decided_on = clock.today()
    days = working_days_between(submitted_on, decided_on, working_calendar.current(session))
    limit = (
        filing_rules.REVIEW_WORKING_DAYS
        if action == Decision.ACCEPT
        else filing_rules.RETURN_WORKING_DAYS
    )
    session.add(
        ReviewDecision(
            filing_id=pk(filing),
            revision_id=pk(rev),
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
    access.require_decides(reviewer, rev)
    new_status = next_status(rev.status, FilingAction.ACCEPT)
    enterprise = _enterprise(session, filing)
    if enterprise.licence_cancelled_at is not None:
        raise LicenceCancelled()
    now = clock.now()
    old_status = rev.status
    if filing.filing_no is None:
        year = clock.today().year
        serial = numbering.allocate_serial(session, county_code=rev.county_code, year=year)
        filing.filing_no = numbering.filing_number(rev.county_code, year, serial)
    previous = revision(session, filing.current_revision_id)
    if previous is not None:
        previous.status = RevisionStatus.SUPERSEDED
        session.add(previous)
    _record_decision(session, filing, rev, Decision.ACCEPT)
    rev.status = new_status
    rev.decided_at = now
    rev.decided_by_id = reviewer.id
    rev.corrections = []
    rev.receipt_no = numbering.receipt_number(filing.filing_no, rev.number)
    session.add(rev)
    filing.status = FilingStatus.FILED
    filing.current_revision_id = rev.id
    filing.open_revision_id = None
    filing.county_code = rev.county_code
    filing.township_code = rev.township_code
    session.add(filing)
    session.flush()
    issuing.issue(session, filing, rev, enterprise)
    issuing.announce_change(session)
    directory.refresh(session, filing)
    record_event(
        session,
        filing,
        rev,
        action=FilingAction.ACCEPT,
        actor=reviewer,
        from_status=old_status,
        to_status=new_status,
        detail={"receipt_no": rev.receipt_no},
    )
    notices.filing_accepted(session, filing, rev)
    return filing


def return_for_correction(
    session: Session, filing: Filing, *, reviewer: User, corrections: list[dict[str, str]]
) -> Filing:
    rev = working_revision(session, filing)
    access.require_decides(reviewer, rev)
    new_status = next_status(rev.status, FilingAction.RETURN)
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
    _record_decision(session, filing, rev, Decision.RETURN)
    rev.status = new_status
    rev.corrections = items
    rev.decided_at = clock.now()
    rev.decided_by_id = reviewer.id
    rev.return_count += 1
    session.add(rev)
    if filing.current_revision_id is None:
        filing.status = new_status
    record_event(
        session,
        filing,
        rev,
        action=FilingAction.RETURN,
        actor=reviewer,
        from_status=old_status,
        to_status=new_status,
        detail={"corrections": items},
    )
    notices.filing_returned(session, filing, rev)
    return filing


def open_new_change(
    session: Session, filing: Filing, *, actor: User, changed_on: date | None, reason: str | None
) -> Filing:
    next_status(filing.status, FilingAction.OPEN_CHANGE)
    if filing.open_revision_id is not None:
        raise InvalidTransition("已有一项未办结的变更，请先完成该变更")
    if _enterprise(session, filing).licence_cancelled_at is not None:
        raise LicenceCancelled()
    changed_on = _changed_on(changed_on)
    current = shown_revision(session, filing)
    change = FilingRevision(
        filing_id=pk(filing),
        number=current.number + 1,
        status=RevisionStatus.DRAFT,
        outlet=dict(current.outlet),
        person_in_charge=dict(current.person_in_charge),
        partner=dict(current.partner) if current.partner else None,
        outlet_name=current.outlet_name,
        address=current.address,
        county_code=current.county_code,
        township_code=current.township_code,
        opened_on=current.opened_on,
        changed_on=changed_on,
        change_reason=reason,
    )
    session.add(change)
    session.flush()
    _copy_brands_and_documents(session, current, change)
    filing.open_revision_id = change.id
    record_event(
        session,
        filing,
        change,
        action=FilingAction.OPEN_CHANGE,
        actor=actor,
        from_status=None,
        to_status=RevisionStatus.DRAFT,
        detail={"changed_on": changed_on.isoformat() if changed_on else None, "reason": reason},
    )
    return filing


def _end(
    session: Session,
    filing: Filing,
    *,
    action: FilingAction,
    actor: User | None,
    reason: str,
    closed_on: date | None = None,
) -> Filing:
    new_status = next_status(filing.status, action)
    change = open_change(session, filing)
    if change is not None:
        change.status = RevisionStatus.DISCARDED
        session.add(change)
        filing.open_revision_id = None
    old_status = filing.status
    filing.status = new_status
    filing.end_reason = reason
    filing.ended_at = clock.now()
    filing.closed_on = closed_on
    session.add(filing)
    directory.refresh(session, filing)
    issuing.announce_change(session)
    detail: dict[str, Any] = {"reason": reason}
    if closed_on is not None:
        detail["closed_on"] = closed_on.isoformat()
    record_event(
        session,
        filing,
        shown_revision(session, filing),
        action=action,
        actor=actor,
        from_status=old_status,
        to_status=new_status,
        detail=detail,
    )
    notices.filing_ended(session, filing, action, reason)
    return filing


def close(session: Session, filing: Filing, *, actor: User, closed_on: date, reason: str) -> Filing:
    if closed_on > clock.today():
        raise ValidationFailed.single("closed_on", "future_date", "停业日期不能晚于今天")
    return _end(
        session, filing, action=FilingAction.CLOSE, actor=actor, reason=reason, closed_on=closed_on
    )


def revoke(session: Session, filing: Filing, *, reviewer: User, reason: str) -> Filing:
    access.require_in_force_county(reviewer, filing)
    return _end(session, filing, action=FilingAction.REVOKE, actor=reviewer, reason=reason)


def require_reach_of_filings_in_force(
    session: Session, enterprise: Enterprise, *, actor: User, message: str
) -> list[Filing]:
    """The enterprise's filings in force, locked, when `actor` covers the county of each (and of
    any open change of one); otherwise 403 `outside_jurisdiction` with `message` and the
    counties beyond the actor's jurisdiction."""
    filed = session.exec(
        select(Filing)
        .where(Filing.enterprise_id == enterprise.id, Filing.status == FilingStatus.FILED)
        .order_by(col(Filing.id))
        .with_for_update()
    ).all()
    reached = {filing.county_code for filing in filed}
    reached.update(change.county_code for f in filed if (change := open_change(session, f)))
    outside = sorted(code for code in reached if not regions.covers(actor.jurisdiction, code))
    if outside:
        raise OutsideJurisdiction(message, counties=outside)
    return list(filed)


def cancel_licence(
    session: Session, enterprise: Enterprise, *, actor: User, reason: str
) -> list[Filing]:
    """The operator's courier licence is cancelled: every filing in force lapses.

    Only staff covering every filing it lapses (and the county of any open change it discards)
    may do it; otherwise 403 `outside_jurisdiction` and nothing changes.
    """
    if enterprise.licence_cancelled_at is not None:
        raise InvalidTransition("该企业的许可已注销")
    filed = require_reach_of_filings_in_force(
        session,
        enterprise,
        actor=actor,
        message="该企业有备案网点在本辖区以外，注销许可须由覆盖全部网点所在县区的人员办理",
    )
    enterprise.licence_cancelled_at = clock.now()
    enterprise.licence_cancellation_reason = reason
    session.add(enterprise)
    audit.append(
        session,
        actor_id=actor.id,
        action="enterprise.licence_cancelled",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data={"reason": reason, "uscc": enterprise.uscc},
    )
    lapsed = [
        _end(session, filing, action=FilingAction.LAPSE, actor=actor, reason=reason)
        for filing in filed
    ]
    notices.filings_lapsed(session, enterprise, len(lapsed), reason)  # one notice, not one each
    return lapsed


def reissue_receipts(session: Session, enterprise: Enterprise, *, actor: User) -> list[Filing]:
    """The operator's name changed: each receipt in force is reissued as a new revision (same
    outlet, the new operator name, a new receipt number); the old receipt is `superseded`.

    An open change keeps its place after the new revision (it is renumbered one up).
    """
    filed = session.exec(
        select(Filing)
        .where(Filing.enterprise_id == enterprise.id, Filing.status == FilingStatus.FILED)
        .order_by(col(Filing.id))
        .with_for_update()
    ).all()
    for filing in filed:
        current = shown_revision(session, filing)
        assert filing.filing_no is not None, "a filed filing has its number"
        number = current.number + 1
        change = open_change(session, filing)
        if change is not None:
            change.number = number + 1
            session.add(change)
            session.flush()
        now = clock.now()
        rev = FilingRevision(
            filing_id=pk(filing),
            number=number,
            status=RevisionStatus.FILED,
            outlet=dict(current.outlet),
            person_in_charge=dict(current.person_in_charge),
            partner=dict(current.partner) if current.partner else None,
            outlet_name=current.outlet_name,
            address=current.address,
            county_code=current.county_code,
            township_code=current.township_code,
            opened_on=current.opened_on,
            changed_on=current.changed_on,
            change_reason="开办者名称变更，换发回执",
            late=current.late,
            submitted_at=current.submitted_at,
            review_due_on=current.review_due_on,
            return_due_on=current.return_due_on,
            decided_at=now,
            decided_by_id=actor.id,
            receipt_no=numbering.receipt_number(filing.filing_no, number),
        )
        session.add(rev)
        session.flush()
        _copy_brands_and_documents(session, current, rev)
        current.status = RevisionStatus.SUPERSEDED
        session.add(current)
        filing.current_revision_id = rev.id
        session.add(filing)
        session.flush()
        issuing.issue(session, filing, rev, enterprise)
        directory.refresh(session, filing)
        record_event(
            session,
            filing,
            rev,
            action=FilingAction.REISSUE,
            actor=actor,
            from_status=FilingStatus.FILED,
            to_status=FilingStatus.FILED,
            detail={
                "receipt_no": rev.receipt_no,
                "superseded_receipt_no": current.receipt_no,
                "operator_name": enterprise.name,
            },
        )
    if filed:
        issuing.announce_change(session)
    return list(filed)


def _copy_brands_and_documents(
    session: Session, source: FilingRevision, target: FilingRevision
) -> None:
    """A new revision starts with its source's brands and documents (the files are shared:
    stored once by hash)."""
    for code in source.outlet["brands"]:
        session.add(RevisionBrand(revision_id=pk(target), brand_code=code))
    for document in documents_of(session, pk(source)):
        session.add(
            Document(
                revision_id=pk(target),
                kind=document.kind,
                filename=document.filename,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                uploaded_by_id=document.uploaded_by_id,
                uploaded_at=document.uploaded_at,
            )
        )
