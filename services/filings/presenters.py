"""Filings as their owners and reviewers see them (SPEC §4.1 response shapes)."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlmodel import Session

from core import clock
from domain.vocabulary import FilingStatus, RevisionStatus
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from schemas.common import Written
from schemas.filings import (
    ChangePublic,
    DocumentPublic,
    FilingPublic,
    FilingSummary,
    LicencePublic,
)
from services.filings import access, numbering, queries, rules
from services.inspections import risk
from services.reference import calendar as working_calendar


def _documents(session: Session, rev: FilingRevision) -> list[DocumentPublic]:
    return [
        DocumentPublic.model_validate(document, from_attributes=True)
        for document in queries.documents_of(session, pk(rev))
    ]


def _provisional(session: Session, rev: FilingRevision) -> bool:
    """Whether the revision's review deadline was counted Monday to Friday (SPEC §1)."""
    if rev.submitted_at is None or rev.review_due_on is None:
        return False
    submitted_on = clock.china_date(rev.submitted_at)
    return working_calendar.is_provisional(session, submitted_on, rev.review_due_on)


def _licence(session: Session, filing: Filing) -> LicencePublic | None:
    """The operator's licence today (SPEC §4.1)."""
    enterprise = session.get(Enterprise, filing.enterprise_id)
    if enterprise is None:
        return None
    status = rules.licence_status(
        valid_from=enterprise.licence_valid_from,
        valid_until=enterprise.licence_valid_until,
        cancelled=enterprise.licence_cancelled_at is not None,
        today=clock.today(),
    )
    return LicencePublic(
        status=status, status_label=status.label, valid_until=enterprise.licence_valid_until
    )


def present(session: Session, filing: Filing) -> FilingPublic:
    shown = queries.shown_revision(session, filing)
    change = queries.open_change(session, filing)
    return FilingPublic(
        id=pk(filing),
        enterprise_id=filing.enterprise_id,
        status=filing.status,
        filing_no=filing.filing_no,
        receipt_no=shown.receipt_no,
        revision=shown.number,
        late=shown.late,
        submitted_at=shown.submitted_at,
        review_due_on=shown.review_due_on,
        return_due_on=shown.return_due_on,
        review_due_provisional=_provisional(session, shown),
        outlet=shown.outlet,
        person_in_charge=shown.person_in_charge,
        partner=shown.partner,
        documents=_documents(session, shown),
        corrections=shown.corrections if shown.status == RevisionStatus.RETURNED else [],
        risk_level=risk.effective_level(session, filing),
        change=(
            ChangePublic(
                revision=change.number,
                status=change.status,
                changed_on=change.changed_on,
                late=change.late,
                submitted_at=change.submitted_at,
                review_due_on=change.review_due_on,
                review_due_provisional=_provisional(session, change),
                outlet=change.outlet,
                person_in_charge=change.person_in_charge,
                partner=change.partner,
                documents=_documents(session, change),
                corrections=change.corrections if change.status == RevisionStatus.RETURNED else [],
            )
            if change is not None
            else None
        ),
        licence=_licence(session, filing),
        closed_on=filing.closed_on,
        end_reason=filing.end_reason,
        version=filing.version,
        created_at=filing.created_at,
        updated_at=filing.updated_at,
    )


def written(
    session: Session, filing: Filing, *, location: str | None = None
) -> Written[FilingPublic]:
    """The answer to a write on a filing: the filing, its new ETag and, when created, where."""
    return Written(present(session, filing), etag=access.etag(filing), location=location)


def summaries(
    session: Session, rows: Sequence[tuple[Filing, FilingRevision, FilingRevision | None]]
) -> list[FilingSummary]:
    brands = queries.brands_of(session, [pk(shown) for _, shown, _ in rows])
    return [
        FilingSummary(
            id=pk(filing),
            status=filing.status,
            filing_no=filing.filing_no,
            revision=shown.number,
            outlet_name=shown.outlet_name,
            address=shown.address,
            county_code=filing.county_code,
            township_code=filing.township_code,
            brands=sorted(brands.get(pk(shown), [])),
            late=shown.late,
            review_due_on=(change or shown).review_due_on,
            change_status=change.status if change else None,
            version=filing.version,
        )
        for filing, shown, change in rows
    ]


# --- what the operator works on, does next, and by when ----------------------------------------

OPEN_STATUSES = (RevisionStatus.DRAFT, RevisionStatus.RETURNED, RevisionStatus.SUBMITTED)
EDITABLE_STATUSES = (RevisionStatus.DRAFT, RevisionStatus.RETURNED)


def working_of(row: queries.FilingRow) -> FilingRevision | None:
    """The revision being worked on: the open change of a filed outlet, or the first filing
    until it is accepted (None when nothing is open)."""
    filing, shown, change = row
    if change is not None:
        return change
    if filing.current_revision_id is None and shown.status in OPEN_STATUSES:
        return shown
    return None


def working_view(shown: FilingPublic) -> tuple[Mapping[str, Any] | None, bool]:
    """`working_of` on a presented filing: (the open change or the first filing as JSON,
    whether it is a change)."""
    if shown.change is not None:
        return shown.change.model_dump(mode="json"), True
    if shown.filing_no is None and shown.status in OPEN_STATUSES:
        return shown.model_dump(mode="json"), False
    return None, False


class NextStep(NamedTuple):
    """What the operator does next: `order` sorts the list (what needs action first), `text`
    says it, `receipt_no` is a filed outlet's receipt."""

    order: int
    text: str
    receipt_no: str | None = None


def next_step(row: queries.FilingRow) -> NextStep:
    filing, shown, _ = row
    working = working_of(row)
    state = working.status if working is not None else None
    if state == RevisionStatus.RETURNED:
        return NextStep(0, "按补正意见修改后重新提交")
    if state == RevisionStatus.DRAFT:
        return NextStep(1, "补全资料并提交")
    if state == RevisionStatus.SUBMITTED:
        return NextStep(2, "等待审核")
    if filing.status == FilingStatus.FILED and filing.filing_no:
        return NextStep(3, "查看回执", numbering.receipt_number(filing.filing_no, shown.number))
    return NextStep(4, "")


class Deadline(NamedTuple):
    """The deadline that matters now: `kind` is "review" (the reviewer's), "filing" (the
    first filing's, FILING_DAYS from opening) or "change" (CHANGE_DAYS from the change)."""

    kind: str
    on: date


def deadline(row: queries.FilingRow) -> Deadline | None:
    working = working_of(row)
    if working is None:
        return None
    if working.status == RevisionStatus.SUBMITTED and working.review_due_on:
        return Deadline("review", working.review_due_on)
    if working.status in EDITABLE_STATUSES and working.submitted_at is None:
        if row.change is None:
            return Deadline("filing", rules.filing_due_on(working.opened_on))
        if working.changed_on is not None:
            return Deadline("change", rules.change_due_on(working.changed_on))
    return None
