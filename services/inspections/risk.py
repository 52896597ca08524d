"""Risk levels of filed outlets, from documented rules, with an admin override.

Rules (highest wins):
- high: the outlet's latest recorded inspection in the past year found something
  (any outcome other than `no_problem`), or its operator has had a filing revoked;
- medium: the outlet was filed late (more than 20 days after opening), or its first
  submission was returned twice or more;
- low: otherwise.
An admin may override the level with a reason (audited). The level at announce time counts.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlmodel import Session, col, select

from core import clock
from domain.vocabulary import FilingStatus, Outcome, RiskLevel
from models.base import pk
from models.filing import Filing, FilingRevision
from models.inspection import Inspection
from models.user import User
from services.filings import access
from services.oversight import audit

RECENT_DAYS = 365


ID_CHUNK = 10_000


def rule_levels(session: Session, filings: Iterable[Filing]) -> dict[int, str]:
    """Rule-based level per filing id, in a handful of queries for any number of filings."""
    filings = list(filings)
    ids = [pk(f) for f in filings]
    if not ids:
        return {}
    since = clock.today() - timedelta(days=RECENT_DAYS)
    latest: dict[int, tuple] = {}
    # In chunks: a county's frame holds hundreds of thousands of outlets at province scale, and
    # a statement takes at most 65,535 parameters on PostgreSQL (32,766 on SQLite).
    chunks = [ids[start : start + ID_CHUNK] for start in range(0, len(ids), ID_CHUNK)]
    inspected = (
        session.exec(
            select(
                col(Inspection.filing_id), col(Inspection.inspected_on), col(Inspection.outcome)
            ).where(
                col(Inspection.filing_id).in_(chunk),
                col(Inspection.outcome).is_not(None),
                col(Inspection.inspected_on) >= since,
            )
        ).all()
        for chunk in chunks
    )
    for filing_id, inspected_on, outcome in (row for rows in inspected for row in rows):
        if filing_id not in latest or inspected_on > latest[filing_id][0]:
            latest[filing_id] = (inspected_on, outcome)
    enterprise_ids = {f.enterprise_id for f in filings}
    revoked_operators = set(
        session.exec(
            select(Filing.enterprise_id).where(
                col(Filing.enterprise_id).in_(enterprise_ids), Filing.status == FilingStatus.REVOKED
            )
        ).all()
    )
    flags: dict[int, tuple[bool, int]] = {}
    for chunk in chunks:
        for filing_id, late, returns in session.exec(
            select(
                FilingRevision.filing_id, FilingRevision.late, FilingRevision.return_count
            ).where(col(FilingRevision.filing_id).in_(chunk), FilingRevision.number == 1)
        ).all():
            flags[filing_id] = (late, returns)
    levels: dict[int, str] = {}
    for filing in filings:
        filing_id = pk(filing)
        found = latest.get(filing_id)
        late, returns = flags.get(filing_id, (False, 0))
        if (found and found[1] != Outcome.NO_PROBLEM) or filing.enterprise_id in revoked_operators:
            levels[filing_id] = RiskLevel.HIGH
        elif late or returns >= 2:
            levels[filing_id] = RiskLevel.MEDIUM
        else:
            levels[filing_id] = RiskLevel.LOW
    return levels


def effective_levels(session: Session, filings: Iterable[Filing]) -> dict[int, str]:
    filings = list(filings)
    levels = rule_levels(session, [f for f in filings if f.risk_override is None])
    for filing in filings:
        if filing.risk_override is not None:
            levels[pk(filing)] = filing.risk_override
    return levels


def effective_level(session: Session, filing: Filing) -> str:
    return effective_levels(session, [filing])[pk(filing)]


def override(
    session: Session, filing: Filing, *, admin: User, level: RiskLevel | None, reason: str
) -> None:
    """Sets (or, with level None, clears) the admin's override; audited. The admin covers the
    outlet's county in force (not only the county an open change would move it to)."""
    access.require_in_force_county(admin, filing)
    before = filing.risk_override
    filing.risk_override = level
    filing.risk_override_reason = reason if level is not None else None
    filing.version += 1
    session.add(filing)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="filing.risk_override",
        entity="filing",
        entity_id=filing.id,
        region_code=filing.county_code,
        data={"from": before, "to": level, "reason": reason},
    )
