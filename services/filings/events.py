"""A filing's history: one event and one audit entry per state change, in the same transaction,
and the version bump that makes stale ETags fail."""

from typing import Any

from sqlmodel import Session

from core import clock
from domain.vocabulary import FilingAction
from models.base import pk
from models.filing import Filing, FilingEvent, FilingRevision
from models.user import User
from services.oversight import audit


def touch(session: Session, filing: Filing) -> None:
    filing.version += 1
    filing.updated_at = clock.now()
    session.add(filing)
    session.flush()


def record_event(
    session: Session,
    filing: Filing,
    rev: FilingRevision,
    *,
    action: FilingAction,
    actor: User | None,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """History event and audit entry for one state change, in the same transaction."""
    detail = detail or {}
    session.add(
        FilingEvent(
            filing_id=pk(filing),
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
        # Where this revision puts the outlet: the county in force, or for a change that moves the
        # outlet, the county deciding it (kept equal to the filing's county for a first filing).
        region_code=rev.county_code,
        data={
            "revision": rev.number,
            "from": from_status,
            "to": to_status,
            "filing_no": filing.filing_no,
            **detail,
        },
    )
    touch(session, filing)
